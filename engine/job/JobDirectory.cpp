#include "job/JobDirectory.hpp"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::job {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Parameters that only matter when the run starts (initialisation, threads) are refused while
// it runs: accepting them would suggest an effect they cannot have.
bool changeableWhileRunning(const ParameterSpec& spec) {
  return spec.group == "Algorithm" || spec.name == "snapshot_interval";
}

double finiteOr(double v, double fallback) {
  return std::isfinite(v) ? v : fallback;
}

}  // namespace

ControlCommand parseControl(const std::string& text) {
  const std::string where = "control file";
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw InputError(where, "", std::string("not valid JSON: ") + e.what());
  }
  if (!json.is_object()) throw InputError(where, "", "must be a JSON object");
  ControlCommand command;
  for (const auto& [key, value] : json.items()) {
    if (key == "command") {
      if (!value.is_string()) throw InputError(where, key, "must be a string");
      const auto name = value.get<std::string>();
      if (name == "pause")
        command.action = ControlCommand::Action::Pause;
      else if (name == "resume")
        command.action = ControlCommand::Action::Resume;
      else if (name == "stop")
        command.action = ControlCommand::Action::Stop;
      else
        throw InputError(where, key, "'" + name + "' is not one of: pause, resume, stop");
    } else if (key == "set") {
      if (!value.is_object()) throw InputError(where, key, "must be an object of parameters");
      for (const auto& [name, v] : value.items()) {
        std::string textValue;
        if (v.is_string()) {
          textValue = v.get<std::string>();
        } else if (v.is_number()) {
          std::ostringstream out;
          out.precision(17);
          if (v.is_number_float())
            out << v.get<double>();
          else
            out << v.get<long long>();
          textValue = out.str();
        } else {
          throw InputError(where, "set." + name, "must be a number or a string");
        }
        command.set.emplace_back(name, textValue);
      }
    } else {
      throw InputError(where, key, "unknown key (expected command, set)");
    }
  }
  if (command.action == ControlCommand::Action::None && command.set.empty()) {
    throw InputError(where, "", "holds neither a command nor settings");
  }
  return command;
}

ReconParams applySettings(const ReconParams& params, const ControlCommand& command) {
  ReconParams next = params;
  for (const auto& [name, value] : command.set) {
    const ParameterSpec& spec = findParameter(name);
    if (!changeableWhileRunning(spec)) {
      throw InputError("control file", "set." + name, "cannot change while the run is going");
    }
    if (name == "algorithm") {
      spec.set(next, value);
      applyPreset(next, next.algorithm);
    }
  }
  for (const auto& [name, value] : command.set) {
    if (name != "algorithm") setParameter(next, name, value);
  }
  validate(next);
  return next;
}

JobDirectory::JobDirectory(std::string dir, const Reconstructor& reconstructor,
                           TimedCommunicator* timing, std::string provenanceCommandLine,
                           std::string inputHash)
    : dir_(std::move(dir)),
      reconstructor_(reconstructor),
      timing_(timing),
      commandLine_(std::move(provenanceCommandLine)),
      inputHash_(std::move(inputHash)),
      start_(std::chrono::steady_clock::now()) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_))
    throw Error(dir_ + ": cannot create the job directory: " + ec.message());
  progress_.open(fs::path(dir_) / "progress.jsonl", std::ios::app);
  if (!progress_) throw Error(dir_ + "/progress.jsonl: cannot be opened for writing");
}

std::optional<std::string> JobDirectory::takeControl() {
  const fs::path control = fs::path(dir_) / "control";
  const fs::path claimed = fs::path(dir_) / "control.applied";
  std::error_code ec;
  if (!fs::exists(control, ec)) return std::nullopt;
  // Claim by renaming first: a writer that renames its file into place afterwards is not lost.
  fs::rename(control, claimed, ec);
  if (ec) return std::nullopt;
  std::ifstream in(claimed);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void JobDirectory::line(const std::string& json) {
  progress_ << json << '\n' << std::flush;
}

void JobDirectory::started(int ranks, int threads, std::size_t frames,
                           const std::string& resumedFrom) {
  Json j{{"event", "start"},
         {"time", utcNow()},
         {"ranks", ranks},
         {"threads", threads},
         {"frames", frames},
         {"iteration", reconstructor_.iteration()},
         {"iterations", reconstructor_.parameters().iterations},
         {"parameters", Json::parse(toJson(reconstructor_.parameters()))}};
  if (!resumedFrom.empty()) j["resumed_from"] = resumedFrom;
  line(j.dump());
  state("running");
}

void JobDirectory::controlApplied(const std::string& text) {
  Json j{{"event", "control"},
         {"time", utcNow()},
         {"status", "applied"},
         {"iteration", reconstructor_.iteration()}};
  j["command"] = Json::parse(text);
  line(j.dump());
}

void JobDirectory::controlRejected(const std::string& text, const std::string& reason) {
  Json j{{"event", "control"},   {"time", utcNow()},
         {"status", "rejected"}, {"iteration", reconstructor_.iteration()},
         {"text", text},         {"message", reason}};
  line(j.dump());
}

void JobDirectory::state(const std::string& state, const std::string& message) {
  const bool changed = state != state_ || message != message_;
  state_ = state;
  message_ = message;
  if (changed) {
    Json j{{"event", "state"},
           {"time", utcNow()},
           {"state", state_},
           {"iteration", reconstructor_.iteration()}};
    if (!message_.empty()) j["message"] = message_;
    line(j.dump());
  }
  writeStatus();
}

void JobDirectory::checkpointWritten(const std::string& path, int iteration, double seconds) {
  line(Json{{"event", "checkpoint"},
            {"time", utcNow()},
            {"path", path},
            {"iteration", iteration},
            {"seconds", seconds}}
           .dump());
}

void JobDirectory::onIteration(const IterationMetrics& m) {
  if (firstIteration_ < 0) {
    firstIteration_ = m.iteration - 1;
    start_ = std::chrono::steady_clock::now() -
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                 std::chrono::duration<double>(m.seconds));
  }
  last_ = m;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int done = m.iteration - firstIteration_;
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  const int total = reconstructor_.parameters().iterations;
  Json j{{"event", "iteration"},
         {"iteration", m.iteration},
         {"iterations", total},
         {"fourier_error", m.fourierError},
         {"overlap_error", m.overlapError}};
  if (std::isfinite(m.objectError)) j["object_error"] = m.objectError;
  j["seconds"] = m.seconds;
  if (timing_ != nullptr) j["reduce_s"] = timing_->takeReduceSeconds();
  j["rate"] = rate;
  j["eta_s"] = rate > 0 ? finiteOr((total - m.iteration) / rate, 0.0) : 0.0;
  if (m.framesReceived > 0) j["frames_received"] = m.framesReceived;
  if (m.parametersChanged) {
    j["parameters_changed"] = true;
    j["parameters"] = Json::parse(toJson(reconstructor_.parameters()));
  }
  line(j.dump());
}

void JobDirectory::onSnapshot(const Snapshot& snapshot) {
  Reconstruction r = reconstructor_.result();
  r.provenance.version = PTYX_VERSION;
  r.provenance.date = utcNow();
  r.provenance.commandLine = commandLine_;
  r.provenance.inputHash = inputHash_;
  writeResult(r, (fs::path(dir_) / "snapshot.cxi").string());
  line(Json{{"event", "snapshot"},
            {"time", utcNow()},
            {"iteration", snapshot.iteration},
            {"path", "snapshot.cxi"}}
           .dump());
  writeStatus();
}

void JobDirectory::writeStatus() {
  Json j{{"state", state_},
         {"iteration", reconstructor_.iteration()},
         {"iterations", reconstructor_.parameters().iterations},
         {"updated", utcNow()}};
  if (!message_.empty()) j["message"] = message_;
  if (last_.iteration > 0) {
    j["fourier_error"] = last_.fourierError;
    j["overlap_error"] = last_.overlapError;
    if (std::isfinite(last_.objectError)) j["object_error"] = last_.objectError;
  }
  const std::string path = (fs::path(dir_) / "status.json").string();
  writeFileAtomically(path, j.dump(2) + '\n');
}

}  // namespace ptyx::job
