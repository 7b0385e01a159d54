#include "session/Replayer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/Reconstructor.hpp"

namespace ptyx::session {
namespace {

using Json = nlohmann::json;
using Verdict = ReplayStep::Verdict;

std::string shortHash(const std::string& h) {
  return h.substr(0, 12);
}

std::string formatNumber(double v) {
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

// The parameter names whose value is an input file (hashed when recorded).
bool isFileParameter(const std::string& name) {
  return name == "probe_file" || name == "object_file";
}

// Mirrors the workbench (app/Workbench) on one thread: the open scan, the parameters the form
// shows, and the live run with its state.
class Replayer {
 public:
  Replayer(const Session& session, const ReplayOptions& options,
           const std::function<void(const ReplayStep&)>& report)
      : session_(session), options_(options), report_(report) {}

  ReplaySummary run() {
    // The form as it stood when recording began (a workbench default, or changes made before
    // the recorder was switched on); older files start from the engine's defaults.
    if (!session_.header.parameters.empty())
      params_ = paramsFromJson(session_.header.parameters, session_.path + " line 1");
    const auto start = std::chrono::steady_clock::now();
    for (const Entry& entry : session_.entries) {
      if (summary_.stopped) break;
      if (const auto* a = std::get_if<Action>(&entry)) {
        if (options_.speed > 0.0) {
          std::this_thread::sleep_until(
              start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(a->offset_s / options_.speed)));
        }
        ++summary_.actions;
        action(*a);
      } else if (const auto* c = std::get_if<Checkpoint>(&entry)) {
        ++summary_.checkpoints;
        checkpoints_.push_back(*c);
        compareCheckpoints();
      } else if (const auto* e = std::get_if<RunEnd>(&entry)) {
        runEnd(*e);
      }
    }
    if (!summary_.stopped) {
      // A session that ended mid-run (the window closed, a crash): run on as far as the last
      // checkpoint recorded, so that every recorded value is compared.
      int furthest = 0;
      for (const auto& c : checkpoints_) {
        if (c.run == runNumber_) furthest = std::max(furthest, c.iteration);
      }
      if (state_ == State::Running) advanceTo(furthest);
      compareCheckpoints();
      for (const auto& c : checkpoints_) {
        emit({c.line, 0.0, checkpointName(c), Verdict::Differs,
              "never reached in the replay (the run ended at iteration " +
                  std::to_string(iteration()) + ")"});
      }
    }
    return summary_;
  }

 private:
  enum class State { Empty, Ready, Running, Paused, Finished };

  void emit(const ReplayStep& step) {
    switch (step.verdict) {
      case Verdict::Match:
        ++summary_.matched;
        break;
      case Verdict::Differs:
        ++summary_.differed;
        break;
      case Verdict::Skipped:
        ++summary_.skipped;
        break;
      case Verdict::Stopped:
        summary_.stopped = true;
        break;
      case Verdict::Done:
        break;
    }
    report_(step);
  }

  [[nodiscard]] int iteration() const { return recon_ ? recon_->iteration() : 0; }

  static std::string checkpointName(const Checkpoint& c) {
    return "checkpoint run " + std::to_string(c.run) + " iteration " + std::to_string(c.iteration) +
           (c.reason.empty() || c.reason == "every" ? "" : " (" + c.reason + ")");
  }

  // --- input files -------------------------------------------------------------------------

  // The file to read for a recorded input, after checking it is there and unchanged. Empty
  // when replay cannot continue (reported as Stopped).
  std::string resolveInput(const Action& a, const FileRef& ref, std::string& note) {
    std::string path = ref.path;
    if (const auto it = options_.substitutes.find(ref.path); it != options_.substitutes.end()) {
      path = it->second;
      note = "substituted " + path + " for " + ref.path;
    }
    if (!std::filesystem::exists(path)) {
      emit({a.line, a.offset_s, describe(a), Verdict::Stopped,
            "input file missing: " + path +
                (path == ref.path ? " (pass --substitute " + ref.path +
                                        "=NEW_PATH to continue with another file)"
                                  : "")});
      return {};
    }
    const std::string hash = fileSha256(path);
    if (hash != ref.sha256) {
      if (path == ref.path) {
        emit({a.line, a.offset_s, describe(a), Verdict::Stopped,
              "input file changed since recording: " + path + " (sha256 now " + shortHash(hash) +
                  "…, recorded " + shortHash(ref.sha256) + "…; pass --substitute " + ref.path +
                  "=NEW_PATH to continue with another file)"});
        return {};
      }
      note += " (its sha256 " + shortHash(hash) + "… differs from the recorded " +
              shortHash(ref.sha256) + "…: results may differ)";
    } else if (!note.empty()) {
      note += " (same sha256 as recorded)";
    }
    return path;
  }

  [[nodiscard]] static std::string describe(const Action& a) {
    std::string text = a.command;
    const Json args = Json::parse(a.arguments, nullptr, false);
    if (args.is_object()) {
      if (a.command == "set_parameter" && args.contains("name") && args.contains("value")) {
        text += ' ';
        text += args["name"].get<std::string>();
        text += '=';
        text += args["value"].get<std::string>();
      } else {
        for (const auto& [key, value] : args.items()) {
          if (key == "backend" && a.command != "set_backend") continue;  // said in the verdict
          text += ' ';
          text += value.is_string() ? value.get<std::string>() : value.dump();
        }
      }
    }
    return text;
  }

  [[nodiscard]] static std::string argument(const Action& a, const char* key) {
    const Json args = Json::parse(a.arguments, nullptr, false);
    if (!args.is_object() || !args.contains(key) || !args[key].is_string()) return {};
    return args[key].get<std::string>();
  }

  // --- the run -----------------------------------------------------------------------------

  void endRun() {
    compareCheckpoints();
    recon_.reset();
    backend_.reset();
  }

  void startRun(const Action& a) {
    endRun();
    ++runNumber_;
    std::string why;
    const std::string used = backendFor(a, why);
    backendNote_ = backendNote(argument(a, "backend"), used, why);
    backend_ = makeBackend(used, {options_.threads > 0 ? options_.threads : params_.threads});
    recon_ = std::make_unique<Reconstructor>(*scan_, params_, *backend_, comm_);
    runParams_ = params_;
    result_.reset();
    if (a.startsRun != 0 && a.startsRun != runNumber_) {
      emit({a.line, a.offset_s, describe(a), Verdict::Differs,
            "starts run " + std::to_string(runNumber_) + ", recorded run " +
                std::to_string(a.startsRun)});
    }
  }

  /// Iterates a running run until `target` iterations are complete or its iterations are done.
  void advanceTo(int target) {
    while (state_ == State::Running && recon_->iteration() < target &&
           recon_->iteration() < runParams_.iterations) {
      recon_->step(1);
      compareCheckpoints();
    }
  }

  void keepResult() {
    if (recon_) result_ = std::make_shared<Reconstruction>(recon_->result());
  }

  // Compares every checkpoint of the current run that the replay has reached.
  void compareCheckpoints() {
    std::vector<Checkpoint> waiting;
    for (const auto& c : checkpoints_) {
      if (c.run != runNumber_ || !recon_ || c.iteration > recon_->iteration() || c.iteration < 1) {
        if (c.run < runNumber_ || (c.run == runNumber_ && !recon_)) {
          emit(
              {c.line, 0.0, checkpointName(c), Verdict::Differs,
               "never reached in the replay (run " + std::to_string(runNumber_) + " ended first)"});
        } else {
          waiting.push_back(c);
        }
        continue;
      }
      const auto& m = recon_->history()[static_cast<std::size_t>(c.iteration - 1)];
      std::string differs;
      auto check = [&](const char* name, double recorded, double replayed) {
        if (metricsAgree(recorded, replayed, options_.tolerance)) return;
        differs += std::string(differs.empty() ? "" : "; ") + name + " " + formatNumber(replayed) +
                   ", recorded " + formatNumber(recorded);
      };
      check("Fourier error", c.fourierError, m.fourierError);
      check("overlap error", c.overlapError, m.overlapError);
      if (std::isfinite(c.objectError)) check("object error", c.objectError, m.objectError);
      if (differs.empty()) {
        emit({c.line, 0.0, checkpointName(c), Verdict::Match,
              "Fourier error " + formatNumber(m.fourierError) + ", overlap error " +
                  formatNumber(m.overlapError) + " as recorded"});
      } else {
        emit({c.line, 0.0, checkpointName(c), Verdict::Differs,
              differs + " (tolerance " + formatNumber(options_.tolerance) + ")"});
      }
    }
    checkpoints_ = std::move(waiting);
  }

  // An action that reached the run at a recorded iteration: run up to it, then check we are
  // there. Returns the note for the report.
  std::string anchor(const Action& a) {
    if (a.effect != Action::Effect::At) return {};
    advanceTo(a.effectIteration);
    if (iteration() != a.effectIteration) {
      return "took effect at iteration " + std::to_string(iteration()) + ", recorded " +
             std::to_string(a.effectIteration);
    }
    return {};
  }

  // Compares the workbench parameters with those recorded after the action.
  [[nodiscard]] std::string compareParameters(const Action& a) const {
    if (a.parameters.empty()) return {};
    ReconParams recorded;
    try {
      recorded = paramsFromJson(a.parameters, session_.path + " line " + std::to_string(a.line));
    } catch (const InputError& e) {
      return std::string("recorded parameters unreadable: ") + e.what();
    }
    ReconParams mine = params_;
    // A substituted probe or object file is a different path by design.
    for (const auto& [from, to] : options_.substitutes) {
      if (mine.probeFile == to) mine.probeFile = from;
      if (mine.objectFile == to) mine.objectFile = from;
    }
    if (mine == recorded) return {};
    std::string which;
    for (const auto& spec : reconParameterSchema()) {
      if (spec.get(mine) != spec.get(recorded)) {
        which += (which.empty() ? "" : ", ") + spec.name + " " + spec.get(mine) + " (recorded " +
                 spec.get(recorded) + ")";
      }
    }
    return "parameters differ: " + which;
  }

  void changeParameters(const Action& a, const ReconParams& after) {
    params_ = after;
    std::string problems = compareParameters(a);
    std::string note;
    if ((state_ == State::Running || state_ == State::Paused) && a.effect == Action::Effect::At) {
      const std::string off = anchor(a);
      if (!off.empty()) problems += (problems.empty() ? "" : "; ") + off;
      recon_->requestParameters(params_);
      runParams_ = params_;
      note = "applied before iteration " + std::to_string(iteration() + 1);
    } else if (state_ == State::Running || state_ == State::Paused) {
      note = "never reached the run (it ended first)";
    }
    emit({a.line, a.offset_s, describe(a), problems.empty() ? Verdict::Match : Verdict::Differs,
          problems.empty() ? (note.empty() ? "parameters as recorded" : note) : problems});
  }

  // --- actions -----------------------------------------------------------------------------

  void action(const Action& a) {
    const std::string& c = a.command;
    const std::string what = describe(a);
    try {
      if (c == "open_scan") return openScan(a);
      if (c == "set_parameter" || c == "apply_preset" || c == "undo" || c == "redo") {
        ReconParams after = params_;
        if (c == "set_parameter") {
          const std::string name = argument(a, "name");
          std::string value = argument(a, "value");
          if (isFileParameter(name) && !value.empty()) {
            for (const auto& ref : a.files) {
              if (ref.argument != name) continue;
              std::string note;
              value = resolveInput(a, ref, note);
              if (value.empty()) return;
            }
          }
          setParameter(after, name, value);
        } else if (c == "apply_preset") {
          setParameter(after, "algorithm", argument(a, "algorithm"));
          applyPreset(after, after.algorithm);
        } else if (!a.parameters.empty()) {
          // Undo and redo restore what the undo stack held: the recorded result.
          after = paramsFromJson(a.parameters, session_.path + " line " + std::to_string(a.line));
        }
        return changeParameters(a, after);
      }
      if (c == "run") return runCommand(a);
      if (c == "step") return stepCommand(a);
      if (c == "pause") return pauseCommand(a);
      if (c == "resume") {
        if (state_ == State::Paused) state_ = State::Running;
        return emit({a.line, a.offset_s, what, Verdict::Done,
                     "running from iteration " + std::to_string(iteration())});
      }
      if (c == "stop") return stopCommand(a);
      if (c == "save_result") return saveCommand(a);
      if (c == "set_backend") {
        return emit({a.line, a.offset_s, what, Verdict::Skipped,
                     "not re-executed (each run's own line names its backend)"});
      }
      if (c == "submit_job" || c == "job_control") {
        return emit({a.line, a.offset_s, what, Verdict::Skipped, "not re-executed (remote job)"});
      }
      emit({a.line, a.offset_s, what, Verdict::Skipped,
            "not re-executed (not a command replay knows)"});
    } catch (const std::exception& e) {
      emit({a.line, a.offset_s, what, Verdict::Differs,
            std::string("failed in the replay: ") + e.what()});
    }
  }

  void openScan(const Action& a) {
    if (a.effect == Action::Effect::None) {
      return emit({a.line, a.offset_s, describe(a), Verdict::Skipped,
                   "not re-executed (the scan could not be opened in the recording)"});
    }
    endRun();
    state_ = State::Empty;
    scan_.reset();
    result_.reset();
    const FileRef* ref = nullptr;
    for (const auto& f : a.files) {
      if (f.argument == "path") ref = &f;
    }
    std::string note;
    std::string path = argument(a, "path");
    if (ref != nullptr) {
      path = resolveInput(a, *ref, note);
      if (path.empty()) return;
    } else {
      note = "no hash recorded for the file: not checked";
    }
    scan_ = std::make_shared<Scan>(readScan(path));
    state_ = State::Ready;
    emit({a.line, a.offset_s, describe(a),
          ref != nullptr && note.find("differs") == std::string::npos ? Verdict::Match
                                                                      : Verdict::Done,
          (note.empty() ? "sha256 as recorded" : note) + ", " +
              std::to_string(scan_->frameCount()) + " frames"});
  }

  void runCommand(const Action& a) {
    if (state_ == State::Paused) {
      state_ = State::Running;
      return emit({a.line, a.offset_s, describe(a), Verdict::Done,
                   "resumed at iteration " + std::to_string(iteration())});
    }
    if (state_ == State::Running)
      return emit({a.line, a.offset_s, describe(a), Verdict::Done, "already running"});
    if (!scan_) return emit({a.line, a.offset_s, describe(a), Verdict::Skipped, "no scan is open"});
    startRun(a);
    state_ = State::Running;
    const std::string problems = compareParameters(a);
    emit({a.line, a.offset_s, describe(a), problems.empty() ? Verdict::Match : Verdict::Differs,
          problems.empty() ? "run " + std::to_string(runNumber_) + " started, " +
                                 std::to_string(params_.iterations) + " iterations, seed " +
                                 std::to_string(params_.seed) + backendNote_
                           : problems});
  }

  /// The backend a run replays on (ReplayOptions::backend); `why` says why a recorded GPU run
  /// computes on the CPU here.
  [[nodiscard]] std::string backendFor(const Action& a, std::string& why) const {
    if (options_.backend != "recorded") return options_.backend;
    const std::string recorded = argument(a, "backend");
    if (recorded.empty() || recorded == "cpu") return "cpu";  // sessions before 2026-12-06: cpu
    const BackendChoice choice = resolveBackend("auto", detectDevices());
    why = choice.note;
    return choice.backend;
  }

  /// Backends round differently: a run replayed on another one than it was recorded on agrees
  /// only within that rounding, which `--tolerance` allows for.
  [[nodiscard]] static std::string backendNote(const std::string& recorded, const std::string& used,
                                               const std::string& why) {
    if (recorded.empty() || recorded == used) return ", on the " + used + " backend";
    return "; recorded on the " + recorded + " backend, replayed on " + used +
           (why.empty() ? "" : " (" + why + ")") +
           ": checkpoints agree only within rounding (--tolerance)";
  }

  void stepCommand(const Action& a) {
    if (state_ == State::Running)
      return emit({a.line, a.offset_s, describe(a), Verdict::Skipped, "refused while running"});
    std::string note;
    if (state_ != State::Paused) {
      if (!scan_)
        return emit({a.line, a.offset_s, describe(a), Verdict::Skipped, "no scan is open"});
      startRun(a);
      state_ = State::Paused;
      note = backendNote_;
    }
    recon_->step(1);
    keepResult();
    compareCheckpoints();
    const bool ok = a.effect != Action::Effect::At || a.effectIteration == iteration();
    emit({a.line, a.offset_s, describe(a),
          a.effect == Action::Effect::At ? (ok ? Verdict::Match : Verdict::Differs) : Verdict::Done,
          "paused at iteration " + std::to_string(iteration()) +
              (ok ? "" : ", recorded " + std::to_string(a.effectIteration)) + note});
  }

  void pauseCommand(const Action& a) {
    if (state_ != State::Running)
      return emit({a.line, a.offset_s, describe(a), Verdict::Done, "nothing running"});
    if (a.effect != Action::Effect::At) {
      return emit(
          {a.line, a.offset_s, describe(a), Verdict::Done, "never took effect in the recording"});
    }
    const std::string off = anchor(a);
    state_ = State::Paused;
    keepResult();
    compareCheckpoints();
    emit({a.line, a.offset_s, describe(a),
          a.effect == Action::Effect::At ? (off.empty() ? Verdict::Match : Verdict::Differs)
                                         : Verdict::Done,
          off.empty() ? "paused at iteration " + std::to_string(iteration()) : off});
  }

  void stopCommand(const Action& a) {
    if (state_ != State::Running && state_ != State::Paused) {
      return emit({a.line, a.offset_s, describe(a), Verdict::Done, "nothing running"});
    }
    if (state_ == State::Running && a.effect != Action::Effect::At) {
      return emit({a.line, a.offset_s, describe(a), Verdict::Done,
                   "never took effect in the recording (the run ended first)"});
    }
    const std::string off = state_ == State::Running ? anchor(a) : std::string{};
    state_ = State::Finished;
    keepResult();
    compareCheckpoints();
    emit({a.line, a.offset_s, describe(a),
          a.effect == Action::Effect::At ? (off.empty() ? Verdict::Match : Verdict::Differs)
                                         : Verdict::Done,
          off.empty() ? "stopped at iteration " + std::to_string(iteration()) : off});
  }

  void runEnd(const RunEnd& e) {
    const std::string what = "run " + std::to_string(e.run) + " " + e.reason;
    if (e.run != runNumber_ || state_ != State::Running) {
      return emit({e.line, 0.0, what, Verdict::Differs,
                   "the replay's run " + std::to_string(runNumber_) + " is not running here"});
    }
    advanceTo(e.iteration);
    state_ = State::Finished;
    keepResult();
    compareCheckpoints();
    const bool ok = iteration() == e.iteration;
    emit({e.line, 0.0, what, ok ? Verdict::Match : Verdict::Differs,
          "at iteration " + std::to_string(iteration()) +
              (ok ? "" : ", recorded " + std::to_string(e.iteration))});
  }

  void saveCommand(const Action& a) {
    if (!result_) {
      return emit({a.line, a.offset_s, describe(a), a.result ? Verdict::Differs : Verdict::Skipped,
                   "no result to save at this point of the replay"});
    }
    std::string written;
    if (!options_.outputDirectory.empty()) {
      std::filesystem::create_directories(options_.outputDirectory);
      const auto target = std::filesystem::path(options_.outputDirectory) /
                          std::filesystem::path(argument(a, "path")).filename();
      Reconstruction copy = *result_;
      copy.provenance.program = "ptyx replay";
      copy.provenance.version = PTYX_VERSION;
      copy.provenance.commandLine = "ptyx replay " + session_.path;
      copy.provenance.inputPath = scan_ ? scan_->sourcePath : "";
      copy.provenance.inputHash = scan_ ? scan_->sourceHash : "";
      writeResult(copy, target.string());
      written = "; wrote " + target.string();
    }
    const ResultHashes mine = resultHashes(*result_, runNumber_);
    if (!a.result) {
      return emit({a.line, a.offset_s, describe(a), Verdict::Done, "no hashes recorded" + written});
    }
    std::string differs;
    if (mine.iteration != a.result->iteration) {
      differs = "result of iteration " + std::to_string(mine.iteration) + ", recorded " +
                std::to_string(a.result->iteration);
    }
    if (mine.objectSha256 != a.result->objectSha256) {
      differs += std::string(differs.empty() ? "" : "; ") + "object sha256 " +
                 shortHash(mine.objectSha256) + "…, recorded " + shortHash(a.result->objectSha256) +
                 "…";
    }
    if (mine.probeSha256 != a.result->probeSha256) {
      differs += std::string(differs.empty() ? "" : "; ") + "probe sha256 " +
                 shortHash(mine.probeSha256) + "…, recorded " + shortHash(a.result->probeSha256) +
                 "…";
    }
    emit({a.line, a.offset_s, describe(a), differs.empty() ? Verdict::Match : Verdict::Differs,
          (differs.empty()
               ? "object and probe hashes match (iteration " + std::to_string(mine.iteration) + ")"
               : differs) +
              written});
  }

  const Session& session_;
  const ReplayOptions& options_;
  const std::function<void(const ReplayStep&)>& report_;
  ReplaySummary summary_;

  State state_ = State::Empty;
  std::shared_ptr<Scan> scan_;
  ReconParams params_;     // what the workbench's form holds
  ReconParams runParams_;  // what the live run was last asked to use
  SerialCommunicator comm_;
  std::unique_ptr<Backend> backend_;
  std::string backendNote_;                 // how that compares with the recording, for the report
  std::unique_ptr<Reconstructor> recon_;    // declared after what it refers to
  std::shared_ptr<Reconstruction> result_;  // when the run last returned control
  int runNumber_ = 0;
  std::vector<Checkpoint> checkpoints_;  // recorded, not yet compared
};

}  // namespace

bool metricsAgree(double recorded, double replayed, double tolerance) {
  if (std::isnan(recorded) || std::isnan(replayed))
    return std::isnan(recorded) && std::isnan(replayed);
  return std::abs(recorded - replayed) <=
         tolerance * std::max(std::abs(recorded), std::abs(replayed));
}

ReplaySummary replay(const Session& session, const ReplayOptions& options,
                     const std::function<void(const ReplayStep&)>& report) {
  if (options.speed < 0.0 || !std::isfinite(options.speed)) {
    throw InputError("--speed", "", "must be a positive number");
  }
  if (options.tolerance < 0.0 || !std::isfinite(options.tolerance)) {
    throw InputError("--tolerance", "", "must be a number >= 0");
  }
  Replayer replayer(session, options, report);
  return replayer.run();
}

}  // namespace ptyx::session
