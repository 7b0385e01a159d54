// ptyx bench --follow-latency RATES: how long a frame waits between its arrival (written and
// published by `ptyx stream-replay`, a separate process) and the start of the first iteration that
// uses it in a reconstruction following the growing file (docs/STREAMING.md). The follower runs
// in this process exactly as `ptyx recon --follow` runs it.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "backend/Backend.hpp"
#include "cli/Commands.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/Reconstructor.hpp"
#include "recon/ScanFollower.hpp"
#include "sim/Simulator.hpp"

extern char** environ;  // NOLINT: POSIX

namespace ptyx::cli {
namespace {

/// `ptyx stream-replay` in a child process; the caller waits for it.
pid_t startReplay(const std::string& scan, const std::string& output, double rate) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::ostringstream rateText;
  rateText << rate;
  std::vector<std::string> args{"ptyx", "stream-replay", scan,     "--rate", rateText.str(),
                                "-o",   output,          "--quiet"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    throw Error("bench: cannot start " + self + " stream-replay");
  }
  return pid;
}

struct FollowRun {
  std::size_t startedWith = 0;
  int iterations = 0;
  double iterationMedian_s = 0.0;
  LatencySummary latency;
};

FollowRun follow(const std::string& path, const ReconParams& params) {
  FollowOptions options;
  options.poll_s = 0.001;
  ScanFollower follower(path, {}, options);
  const Scan& scan = follower.waitForStart();
  FollowRun run;
  run.startedWith = scan.frameCount();
  SerialCommunicator comm;
  auto backend = makeBackend("cpu", {params.threads});
  Reconstructor reconstructor(scan, follower.plannedPositions(), params, *backend, comm);
  while (!follower.complete()) {
    follower.addArrived(reconstructor);
    if (follower.stalled()) throw Error(path + ": the replay stalled");
    reconstructor.setIterationTarget(reconstructor.iteration() + 1);
    follower.iterationStarting();
    reconstructor.step(1);
  }
  std::vector<double> seconds;
  for (const auto& m : reconstructor.history()) seconds.push_back(m.seconds);
  run.iterations = reconstructor.iteration();
  run.iterationMedian_s = summarise(seconds).median;
  run.latency = summarise(follower.latencies());
  return run;
}

}  // namespace

int runFollowLatencyBench(const std::vector<double>& rates, std::size_t frames, std::size_t size,
                          int threads, const std::string& algorithm) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ptyx-follow-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "scan.cxi").string();
  SimulationOptions sim;
  sim.frames = frames;
  sim.frameSize = size;
  sim.seed = 1;
  std::cout << "ptyx bench --follow-latency: simulating " << frames << " frames of " << size << "x"
            << size << "..." << std::flush;
  // Without its ground truth, as a measured scan: scoring against a truth would add object-sized
  // FFTs to every early iteration and so to the latency.
  Scan scan = simulate(sim);
  scan.truth.reset();
  writeScan(scan, file);
  std::cout << " done\n";

  ReconParams params;
  setParameter(params, "algorithm", algorithm);
  applyPreset(params, params.algorithm);
  params.threads = threads;
  params.probeUpdateStart = 0;

  std::cout
      << "ptyx " << PTYX_VERSION << ", algorithm " << algorithm << ", " << threads << " threads, "
      << sysconf(_SC_NPROCESSORS_ONLN) << " cores; start rule: the default"
      << " (--min-coverage 0.5)\n\n"
      << "frames/s  started with  iterations  s/iteration   latency ms: median      p95      max\n";
  int status = 0;
  for (const double rate : rates) {
    const std::string growing = (dir / "growing.cxi").string();
    std::filesystem::remove(growing);
    const pid_t child = startReplay(file, growing, rate);
    try {
      const FollowRun r = follow(growing, params);
      std::cout << std::fixed << std::setprecision(0) << std::setw(8) << rate << std::setw(14)
                << r.startedWith << std::setw(12) << r.iterations << std::setprecision(4)
                << std::setw(13) << r.iterationMedian_s << std::setprecision(1) << std::setw(20)
                << 1e3 * r.latency.median << std::setw(9) << 1e3 * r.latency.p95 << std::setw(9)
                << 1e3 * r.latency.max << "   (" << r.latency.count << " frames)\n";
    } catch (const std::exception& e) {
      std::cout << std::setw(8) << rate << "  failed: " << e.what() << "\n";
      status = 1;
    }
    int wstatus = 0;
    waitpid(child, &wstatus, 0);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) status = 1;
  }
  std::cout << "\nlatency = start of the first iteration using a frame - the time stream-replay "
               "published it\n(frames present when the reconstruction started are not counted).\n";
  std::filesystem::remove_all(dir);
  return status;
}

}  // namespace ptyx::cli
