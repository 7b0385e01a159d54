#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "backend/Backend.hpp"
#include "cli/Commands.hpp"
#include "cli/Progress.hpp"
#include "comm/Communicator.hpp"
#include "comm/TimedCommunicator.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "job/Checkpoint.hpp"
#include "job/JobDirectory.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/Layout.hpp"
#include "recon/MemoryPlanner.hpp"
#include "recon/Reconstructor.hpp"
#include "recon/ScanFollower.hpp"
#include "render/Render.hpp"

namespace ptyx::cli {
namespace {

// Before anything large is allocated: will this rank's share fit? A plan that cannot is refused
// with the number of ranks (GPUs) it would take, rather than failing half-way through loading.
void checkMemoryPlan(std::size_t frames, std::size_t frameSize, const ObjectLayout& layout,
                     const std::string& source, const ReconParams& params,
                     const std::string& backend, int ranks) {
  MemoryCase c{frames,
               frameSize,
               layout.rows,
               layout.cols,
               static_cast<std::size_t>(std::max(1, params.threads)),
               needsAuxiliaryWaves(params),
               backend == "cuda" ? MemoryTarget::CudaDevice : MemoryTarget::CpuRam};
  const std::size_t capacity = capacityPerRank(c.target);
  if (capacity == 0) return;  // unknown capacity: nothing to check against
  const PlanVerdict verdict = checkPlan(c, ranks, capacity);
  if (!verdict.fits) throw InputError(source, "", verdict.message);
}

void checkMemoryPlan(const Scan& scan, const ReconParams& params, const std::string& backend,
                     int ranks) {
  checkMemoryPlan(scan.frameCount(), scan.frameSize(), layoutFor(scan), scan.sourcePath, params,
                  backend, ranks);
}

// Ctrl-C or SIGTERM stops after the current iteration and saves what was reached (and a
// checkpoint when one is configured). The handler only stores to a lock-free atomic, which is
// async-signal-safe; the ranks agree on stopping once per iteration, so that all stop together.
std::atomic<bool> gStopSignal{false};
extern "C" void onStopSignal(int /*signal*/) {
  gStopSignal.store(true);
}

struct ReconOptions {
  std::string input;
  std::string output;
  std::string pngDir;
  std::string backend = "cpu";
  std::string comm = "auto";
  std::string checkpoint;
  int checkpointEvery = 0;
  std::string resume;
  std::string jobDir;
  ProgressStyle progress = ProgressStyle::Auto;
  ReadOptions orientation;
  bool follow = false;  // a growing scan (docs/STREAMING.md)
  FollowOptions followOptions;
  std::vector<std::pair<const ParameterSpec*, CLI::Option*>> parameterOptions;
  std::vector<std::string> values;  // one per schema entry, filled by CLI11
};

std::string describe(const ParameterSpec& spec) {
  std::ostringstream help;
  help << spec.help;
  if (!spec.unit.empty()) help << " [" << spec.unit << "]";
  if (spec.kind == ParameterSpec::Kind::Integer || spec.kind == ParameterSpec::Kind::Real) {
    help << " (" << spec.minimum << " to " << spec.maximum << ")";
  }
  return help.str();
}

// The parameters given on the command line, over `params` (defaults, or a checkpoint's).
ReconParams parametersFrom(const ReconOptions& o, ReconParams params = {}) {
  // The algorithm's preset first, then every parameter the user gave, whatever their order.
  for (std::size_t i = 0; i < o.parameterOptions.size(); ++i) {
    const auto& [spec, option] = o.parameterOptions[i];
    if (spec->name == "algorithm" && option->count() > 0) {
      spec->set(params, o.values[i]);
      applyPreset(params, params.algorithm);
    }
  }
  for (std::size_t i = 0; i < o.parameterOptions.size(); ++i) {
    const auto& [spec, option] = o.parameterOptions[i];
    if (option->count() > 0) spec->set(params, o.values[i]);
  }
  validate(params);
  return params;
}

// A resumed run continues with the checkpoint's parameters; flags given again override them.
// A change to anything but the run length and execution settings is a parameter change, and the
// history records it as one.
bool changesTheAlgorithm(const ReconParams& a, const ReconParams& b) {
  ReconParams x = a;
  x.iterations = b.iterations;
  x.threads = b.threads;
  x.snapshotInterval_s = b.snapshotInterval_s;
  return !(x == b);
}

struct Run {
  int ranks = 1;
  bool stoppedBySignal = false;
  bool stoppedByControl = false;
  std::string checkpointPath;
  std::string resumedFrom;
};

int runRecon(const ReconOptions& o, const std::string& commandLine, Communicator& comm) {
  const bool rank0 = comm.rank() == 0;
  TimedCommunicator timed(comm);
  Run run;
  run.ranks = comm.size();
  run.checkpointPath = o.checkpoint;
  if (o.follow) {
    if (comm.size() > 1) {
      throw InputError("--follow", "", "follows a growing scan on one rank; run it without mpirun");
    }
    if (!o.checkpoint.empty() || o.checkpointEvery > 0 || !o.resume.empty()) {
      throw InputError("--follow", "",
                       "cannot be combined with --checkpoint, --checkpoint-every or --resume");
    }
  }
  if (run.checkpointPath.empty() && !o.jobDir.empty() && !o.follow) {
    run.checkpointPath = (std::filesystem::path(o.jobDir) / "checkpoint.h5").string();
  }
  if (o.checkpointEvery > 0 && run.checkpointPath.empty()) {
    throw InputError("--checkpoint-every", "", "needs --checkpoint PATH (or --job-dir)");
  }

  // Every rank reads the scan and keeps its own block of frames (docs/JOBS.md says why).
  ReconParams params = parametersFrom(o);
  // Following: wait for the start rule; the follower owns the scan so far (docs/STREAMING.md).
  std::optional<ScanFollower> follower;
  Scan ownScan;
  if (o.follow) {
    follower.emplace(o.input, o.orientation, o.followOptions);
    gStopSignal.store(false);
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    if (o.progress != ProgressStyle::Json && o.progress != ProgressStyle::None) {
      std::cerr << "ptyx recon: following " << o.input << ": waiting for frames\n";
    }
  }
  Scan& scan = follower ? follower->waitForStart([] { return gStopSignal.load(); })
                        : (ownScan = readScan(o.input, o.orientation));
  const std::size_t startFrames = scan.frameCount();
  const std::string output =
      o.output.empty()
          ? std::filesystem::path(o.input).replace_extension("").string() + "-result.cxi"
          : o.output;

  std::optional<job::LoadedCheckpoint> loaded;
  if (!o.resume.empty()) {
    loaded =
        job::loadCheckpoint(o.resume, comm, scan.sourceHash, scan.frameCount(), scan.frameSize(),
                            frameBlock(scan.frameCount(), comm.rank(), comm.size()));
    if (rank0 && !loaded->warning.empty())
      std::cerr << "ptyx recon: warning: " << loaded->warning << "\n";
    run.resumedFrom = loaded->path;
    params = parametersFrom(o, loaded->state.params);
  }

  auto backend = makeBackend(o.backend, {params.threads});
  if (follower) {  // the whole planned scan must fit, not just the frames so far
    const auto& planned = follower->plannedPositions();
    checkMemoryPlan(planned.size(), scan.frameSize(), layoutFor(planned, scan.frameSize(), o.input),
                    o.input, params, backend->name(), comm.size());
  } else {
    checkMemoryPlan(scan, params, backend->name(), comm.size());
  }
  auto ownedReconstructor =
      follower ? std::make_unique<Reconstructor>(scan, follower->plannedPositions(), params,
                                                 *backend, timed)
               : std::make_unique<Reconstructor>(scan, loaded ? loaded->state.params : params,
                                                 *backend, timed);
  Reconstructor& reconstructor = *ownedReconstructor;
  const std::size_t frameCount = scan.frameCount();
  scan.magnitudes = {};  // the backend holds its own copy
  if (loaded) {
    SolverState state = std::move(loaded->state);
    const bool changed = changesTheAlgorithm(state.params, params);
    if (!changed) state.params = params;
    reconstructor.restore(state, loaded->exitWaves);
    if (changed) reconstructor.requestParameters(params);
    loaded->exitWaves = {};
  }

  // Only rank 0 reports and writes.
  std::optional<ProgressReporter> progress;
  std::optional<job::JobDirectory> jobDir;
  if (rank0) {
    progress.emplace(o.progress, params.iterations, std::cerr, std::cout);
    reconstructor.addObserver(&*progress);
    if (!o.jobDir.empty()) {
      jobDir.emplace(o.jobDir, reconstructor, &timed, commandLine, scan.sourceHash);
      reconstructor.addObserver(&*jobDir);
      jobDir->started(comm.size(), params.threads,
                      follower ? follower->framesPlanned() : frameCount, run.resumedFrom);
    }
  }
  int lastCheckpoint = loaded ? reconstructor.iteration() : -1;
  auto checkpoint = [&] {
    if (run.checkpointPath.empty() || reconstructor.iteration() == lastCheckpoint) return;
    const auto t0 = std::chrono::steady_clock::now();
    job::saveCheckpoint(reconstructor, comm, run.checkpointPath, scan.sourceHash);
    lastCheckpoint = reconstructor.iteration();
    if (jobDir) {
      jobDir->checkpointWritten(
          run.checkpointPath, lastCheckpoint,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  };

  gStopSignal.store(false);
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  const auto start = std::chrono::steady_clock::now();
  int target = params.iterations;
  bool paused = false;
  // Following: --iterations counts the iterations after the last frame arrived; until then the
  // target moves ahead with every iteration.
  int afterScan = params.iterations;
  bool scanDone = !follower;
  for (;;) {
    // Once per iteration the ranks agree on what to do: rank 0's control command, and whether
    // any rank was asked by a signal to stop. Two tiny collectives (tens of microseconds).
    std::string control;
    if (jobDir) {
      if (auto text = jobDir->takeControl()) {
        try {
          const auto command = job::parseControl(*text);
          job::applySettings(reconstructor.parameters(), command);  // validate before sending
          control = *text;
          jobDir->controlApplied(control);
        } catch (const InputError& e) {
          jobDir->controlRejected(*text, e.what());
        }
      }
    }
    broadcastString(comm, control, 0);
    std::array<double, 1> stop{gStopSignal.load() ? 1.0 : 0.0};
    comm.allReduceSum(std::span<double>(stop));
    if (!control.empty()) {
      const auto command = job::parseControl(control);
      if (!command.set.empty()) {
        const ReconParams next = job::applySettings(reconstructor.parameters(), command);
        reconstructor.requestParameters(next);
        target = next.iterations;
        if (!scanDone) afterScan = next.iterations;
      }
      using Action = job::ControlCommand::Action;
      if (command.action == Action::Pause) paused = true;
      if (command.action == Action::Resume) paused = false;
      if (command.action == Action::Stop) run.stoppedByControl = true;
      if (jobDir) jobDir->state(paused ? "paused" : "running");
    }
    if (stop[0] > 0.0) run.stoppedBySignal = true;
    if (run.stoppedBySignal || run.stoppedByControl) break;
    if (!scanDone) {
      follower->addArrived(reconstructor);
      const bool stalled = !follower->complete() && follower->stalled();
      scanDone = follower->complete() || stalled;
      target = reconstructor.iteration() + std::max(scanDone ? 0 : 1, afterScan);
      reconstructor.setIterationTarget(target);
      if (progress) progress->setTotal(target);
      if (stalled && rank0) {
        std::cerr << "ptyx recon: warning: no new frame for " << o.followOptions.timeout_s
                  << " s and the scan is not marked complete; finishing on the "
                  << follower->framesReceived() << " frames received\n";
      }
    }
    if (reconstructor.iteration() >= target) break;
    if (paused) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (follower) follower->iterationStarting();
    reconstructor.step(1);
    if (o.checkpointEvery > 0 && reconstructor.iteration() % o.checkpointEvery == 0) checkpoint();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (jobDir && (run.stoppedBySignal || run.stoppedByControl)) jobDir->state("stopping");
  checkpoint();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!rank0) return 0;
  progress->finish();

  Reconstruction result = reconstructor.result();
  result.provenance.version = PTYX_VERSION;
  result.provenance.date = isoNow();
  result.provenance.commandLine = commandLine;
  result.provenance.inputPath = std::filesystem::absolute(o.input).string();
  result.provenance.inputHash = follower ? fileSha256(o.input) : scan.sourceHash;
  writeResult(result, output);
  if (!o.pngDir.empty()) renderResultPngs(result, o.pngDir);
  const bool stopped = run.stoppedBySignal || run.stoppedByControl;
  if (jobDir) {
    jobDir->onSnapshot({reconstructor.iteration(), reconstructor.object(), reconstructor.probe(),
                        result.history.empty() ? IterationMetrics{} : result.history.back(),
                        reconstructor.frameFourierErrors()});
    jobDir->state(stopped ? "stopped" : "finished", run.stoppedBySignal ? "stopped by a signal"
                                                    : run.stoppedByControl
                                                        ? "stopped by the control file"
                                                        : "");
  }

  if (o.progress != ProgressStyle::Json) {
    std::ostream& out = std::cerr;
    out << "ptyx recon: " << reconstructor.iteration() << " iterations of "
        << toString(reconstructor.parameters().algorithm) << " in " << std::fixed
        << std::setprecision(1) << seconds << " s";
    if (comm.size() > 1) out << " on " << comm.size() << " ranks";
    if (!result.history.empty()) {
      const auto& last = result.history.back();
      out << std::scientific << std::setprecision(2) << "; fourier error " << last.fourierError;
      // The object error is scored every few iterations: report the latest score.
      const auto scored =
          std::find_if(result.history.rbegin(), result.history.rend(),
                       [](const IterationMetrics& m) { return std::isfinite(m.objectError); });
      if (scored != result.history.rend()) {
        out << ", object error " << scored->objectError << " (iteration " << scored->iteration
            << ")";
      }
    }
    out << "\n  result: " << output << "\n";
    if (!o.pngDir.empty()) out << "  pictures: " << o.pngDir << "/\n";
    if (!run.checkpointPath.empty()) out << "  checkpoint: " << run.checkpointPath << "\n";
    if (run.stoppedBySignal)
      out << "  (stopped early by a signal; the result holds what was reached)\n";
    if (run.stoppedByControl)
      out << "  (stopped by the control file; the result holds what was reached)\n";
  }
  if (follower && o.progress != ProgressStyle::None) {
    const LatencySummary latency = summarise(follower->latencies());
    std::cerr << std::fixed << std::setprecision(1) << "  followed: " << follower->framesReceived()
              << " of " << follower->framesPlanned() << " planned frames, started with "
              << startFrames;
    if (latency.count > 0) {
      std::cerr << "; arrival to first use (" << latency.count << " frames): median "
                << 1e3 * latency.median << " ms, 95th percentile " << 1e3 * latency.p95
                << " ms, max " << 1e3 * latency.max << " ms";
    }
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace

Runner addRecon(CLI::App& app, const std::string& commandLine) {
  auto* sub = app.add_subcommand("recon", "Reconstruct object and probe from a scan file");
  auto o = std::make_shared<ReconOptions>();
  sub->add_option("scan", o->input, "Scan file (CXI)")->required()->type_name("FILE");
  sub->add_option("-o,--output", o->output, "Result file (CXI); default: <scan>-result.cxi")
      ->type_name("FILE");
  sub->add_option("--png", o->pngDir, "Directory for PNG pictures of object, probe and errors")
      ->type_name("DIR");
  sub->add_option("--backend", o->backend,
                  "Compute backend: cpu, cuda (a usable GPU, else an error), auto (cuda when a GPU "
                  "is usable, else cpu); `ptyx devices` lists the GPUs")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  const std::map<std::string, ProgressStyle> styles{{"auto", ProgressStyle::Auto},
                                                    {"text", ProgressStyle::Text},
                                                    {"json", ProgressStyle::Json},
                                                    {"none", ProgressStyle::None}};
  sub->add_option("--progress", o->progress,
                  "Progress: text (live line with rate and ETA), json (JSON lines on stdout), none")
      ->transform(CLI::CheckedTransformer(styles, CLI::ignore_case).description(""))
      ->type_name("{auto,text,json,none}")
      ->default_str("auto");
  sub->add_flag("--flip-x", o->orientation.flipX, "Negate the x translations of the file");
  sub->add_flag("--flip-y", o->orientation.flipY, "Negate the y translations of the file");
  sub->add_flag("--swap-xy", o->orientation.swapXY, "Exchange x and y translations of the file");
  sub->add_option("--comm", o->comm,
                  "Communicator: auto (MPI when started by mpirun/srun), serial, mpi")
      ->check(CLI::IsMember({"auto", "serial", "mpi"}))
      ->capture_default_str()
      ->group("Jobs");
  sub->add_option("--checkpoint", o->checkpoint,
                  "Checkpoint file (HDF5), written atomically every --checkpoint-every iterations, "
                  "on SIGTERM/SIGINT, on a stop command and at the end; the previous one is kept "
                  "as PATH.prev. Default with --job-dir: DIR/checkpoint.h5")
      ->group("Jobs");
  sub->add_option("--checkpoint-every", o->checkpointEvery,
                  "Iterations between checkpoints (0 = only on stop and at the end)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group("Jobs");
  sub->add_option("--resume", o->resume,
                  "Continue from this checkpoint (or PATH.prev when PATH is damaged); parameter "
                  "flags given again override the saved ones")
      ->group("Jobs");
  auto* followFlag =
      sub->add_flag(
             "--follow", o->follow,
             "Reconstruct a growing scan while its frames arrive (written by `ptyx "
             "stream-replay` or an acquisition using the same layout); --iterations then counts "
             "the iterations after the last frame (docs/STREAMING.md)")
          ->group("Streaming");
  sub->add_option("--min-frames", o->followOptions.minFrames,
                  "With --follow: start once at least this many frames have arrived (and "
                  "--min-coverage holds)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->needs(followFlag)
      ->group("Streaming");
  sub->add_option("--min-coverage", o->followOptions.minCoverage,
                  "With --follow: start once the arrived frames cover this fraction of the "
                  "planned scan area (each frame counts a disc of diameter M/2)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str()
      ->needs(followFlag)
      ->group("Streaming");
  sub->add_option("--follow-timeout", o->followOptions.timeout_s,
                  "With --follow: seconds to wait for the file or a new frame; after it, the run "
                  "fails before it started, or finishes on the frames received")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->needs(followFlag)
      ->group("Streaming");
  sub->add_option("--job-dir", o->jobDir,
                  "Job directory: progress.jsonl, status.json, snapshot.cxi written there; the "
                  "control file DIR/control is obeyed (docs/JOBS.md)")
      ->group("Jobs");

  const auto& schema = reconParameterSchema();
  o->values.resize(schema.size());
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const auto& spec = schema[i];
    auto* option = sub->add_option(spec.flag(), o->values[i], describe(spec));
    option->default_str(spec.defaultText())->group(spec.group);
    switch (spec.kind) {
      case ParameterSpec::Kind::Integer:
        option->type_name("INT");
        break;
      case ParameterSpec::Kind::Real:
        option->type_name("NUMBER");
        break;
      case ParameterSpec::Kind::Text:
        option->type_name("FILE");
        break;
      case ParameterSpec::Kind::Choice: {
        std::string names;
        for (const auto& c : spec.choices) names += (names.empty() ? "" : ",") + c;
        option->type_name("{" + names + "}");
        option->check(CLI::IsMember(spec.choices).description(""));
        break;
      }
    }
    o->parameterOptions.emplace_back(&spec, option);
  }

  return [o, commandLine] {
    auto comm = makeCommunicator(o->comm);
    try {
      return runRecon(*o, commandLine, *comm);
    } catch (const std::exception& e) {
      if (comm->size() > 1) {
        // One rank failing alone would leave the others waiting in a collective: end them all.
        std::cerr << "ptyx: error (rank " << comm->rank() << " of " << comm->size()
                  << "): " << e.what() << "\n"
                  << std::flush;
        abortAllRanks(dynamic_cast<const InputError*>(&e) != nullptr ? 2 : 1);
      }
      throw;
    }
  };
}

}  // namespace ptyx::cli
