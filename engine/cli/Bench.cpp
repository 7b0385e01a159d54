// ptyx bench: seconds per iteration and peak memory against the floor set by the bare FFT batch
// (FFTW for --backend cpu, cuFFT for --backend cuda). Each measurement runs in a child process
// of its own so that its peak RSS is its own.
#include <fftw3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "backend/Backend.hpp"
#include "backend/Devices.hpp"
#include "cli/Commands.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/MemoryEstimate.hpp"
#include "recon/Reconstructor.hpp"
#include "sim/Simulator.hpp"

namespace ptyx::cli {
namespace {

// Mean seconds per timed iteration in each kind of backend call; the rest of an iteration is
// the Reconstructor's own work (object and probe division, maxima, copies).
struct Phases {
  double overlapSums = 0.0;  // accumulateObject + accumulateProbe
  double relaxedStep = 0.0;  // form, FFT, modulus projection, inverse FFT, update
  double reflection = 0.0;   // reflectModulus (general difference map and HIO only)
};

struct Measurement {
  double seconds = 0.0;       // per iteration (recon) or per forward+inverse batch (FFT)
  double peakMiB = 0.0;       // child's peak resident set
  double arraysMiB = 0.0;     // what the algorithm must hold
  double firstSeconds = 0.0;  // first iteration (includes set-up effects)
  double meanSeconds = 0.0;   // mean of the timed iterations, what the phases add up to
  double deviceMiB = 0.0;     // the backend's resident device memory (cuda), else 0
  Phases phases;
  bool ok = false;
};

// Forwards every call to the real backend and adds up the wall time of the frame-wise phases.
class TimedBackend final : public Backend {
 public:
  explicit TimedBackend(Backend& inner) : inner_(inner) {}
  [[nodiscard]] std::string name() const override { return inner_.name(); }
  void load(const FrameSet& frames) override { inner_.load(frames); }
  [[nodiscard]] std::size_t frameCount() const override { return inner_.frameCount(); }
  void formExitWaves(const ModelView& model) override { inner_.formExitWaves(model); }
  void readExitWaves(std::span<cfloat> out) const override { inner_.readExitWaves(out); }
  void writeExitWaves(std::span<const cfloat> in) override { inner_.writeExitWaves(in); }
  void accumulateObject(Waves waves, std::span<const cfloat> probe, std::span<cfloat> numerator,
                        std::span<float> denominator) override {
    const Clock clock(totals_.overlapSums);
    inner_.accumulateObject(waves, probe, numerator, denominator);
  }
  void accumulateProbe(Waves waves, std::span<const cfloat> object, std::span<cfloat> numerator,
                       std::span<float> denominator) override {
    const Clock clock(totals_.overlapSums);
    inner_.accumulateProbe(waves, object, numerator, denominator);
  }
  StepSums relaxedStep(const RelaxedStep& step, const ModelView& model,
                       const ModelView& updateModel) override {
    const Clock clock(totals_.relaxedStep);
    return inner_.relaxedStep(step, model, updateModel);
  }
  void reflectModulus(float gammaA) override {
    const Clock clock(totals_.reflection);
    inner_.reflectModulus(gammaA);
  }
  void frameFourierErrors(std::span<double> out) const override { inner_.frameFourierErrors(out); }
  [[nodiscard]] std::size_t residentBytes() const override { return inner_.residentBytes(); }

  void reset() { totals_ = {}; }
  [[nodiscard]] const Phases& totals() const { return totals_; }

 private:
  class Clock {
   public:
    explicit Clock(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
    ~Clock() {
      total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    Clock(const Clock&) = delete;
    Clock& operator=(const Clock&) = delete;

   private:
    double& total_;
    std::chrono::steady_clock::time_point start_;
  };

  Backend& inner_;
  Phases totals_;
};

// Runs `ptyx bench --measure ...` as a fresh process (fork alone would inherit a broken OpenMP
// thread pool) and reads its one-line answer; the peak RSS comes from wait4().
Measurement inChild(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw Error("bench: pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw Error("bench: fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string text;
  char buffer[256];
  ssize_t got = 0;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(got));
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Measurement m;
  std::istringstream in(text);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !(in >> m.seconds >> m.arraysMiB >> m.firstSeconds >> m.meanSeconds >> m.phases.overlapSums >>
        m.phases.relaxedStep >> m.phases.reflection >> m.deviceMiB)) {
    throw Error("bench: a measurement failed");
  }
  m.ok = true;
  m.peakMiB = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  return m;
}

Measurement fftBatch(std::size_t frames, std::size_t size, int threads) {
  fftwf_init_threads();
  fftwf_plan_with_nthreads(threads);
  const std::size_t total = frames * size * size;
  auto* data = fftwf_alloc_complex(total);
  if (data == nullptr) throw Error("bench: cannot allocate the FFT batch");
  const int n[2] = {static_cast<int>(size), static_cast<int>(size)};
  const int dist = static_cast<int>(size * size);
  fftwf_plan fwd = fftwf_plan_many_dft(2, n, static_cast<int>(frames), data, nullptr, 1, dist, data,
                                       nullptr, 1, dist, FFTW_FORWARD, FFTW_MEASURE);
  fftwf_plan inv = fftwf_plan_many_dft(2, n, static_cast<int>(frames), data, nullptr, 1, dist, data,
                                       nullptr, 1, dist, FFTW_BACKWARD, FFTW_MEASURE);
  for (std::size_t i = 0; i < total; ++i) {
    data[i][0] = static_cast<float>(i % 7);
    data[i][1] = 0.0F;
  }
  double best = 1e30;
  for (int k = 0; k < 5; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    fftwf_execute(fwd);
    fftwf_execute(inv);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  fftwf_destroy_plan(fwd);
  fftwf_destroy_plan(inv);
  fftwf_free(data);
  Measurement m;
  m.seconds = best;
  return m;
}

Measurement reconstruction(const std::string& file, const std::string& backendName,
                           const ReconParams& params, int warmup) {
  Scan scan = readScan(file);
  scan.truth.reset();  // time the algorithm, not the scoring against the truth
  auto inner = makeBackend(backendName, {params.threads});
  TimedBackend backend(*inner);
  SerialCommunicator comm;
  Reconstructor recon(scan, params, backend, comm);
  const auto& layout = recon.layout();
  const MemoryEstimate arrays =
      estimateMemory(scan.frameCount(), scan.frameSize(), layout.rows, layout.cols,
                     static_cast<std::size_t>(params.threads), params.algorithm == Algorithm::HIO);
  scan.magnitudes = {};
  recon.step(warmup);
  backend.reset();
  recon.step(params.iterations);
  std::vector<double> times;
  for (std::size_t i = static_cast<std::size_t>(warmup); i < recon.history().size(); ++i) {
    times.push_back(recon.history()[i].seconds);
  }
  Measurement m;
  if (!times.empty()) {
    const auto count = static_cast<double>(times.size());
    for (double t : times) m.meanSeconds += t / count;
    m.phases = backend.totals();
    m.phases.overlapSums /= count;
    m.phases.relaxedStep /= count;
    m.phases.reflection /= count;
  }
  std::sort(times.begin(), times.end());
  m.seconds = times.empty() ? 0.0 : times[times.size() / 2];
  m.firstSeconds = recon.history().empty() ? 0.0 : recon.history().front().seconds;
  m.arraysMiB = static_cast<double>(arrays.total()) / (1024.0 * 1024.0);
  if (inner->name() == "cuda") {
    m.deviceMiB = static_cast<double>(backend.residentBytes()) / (1024.0 * 1024.0);
  }
  return m;
}

}  // namespace

Runner addBench(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "bench", "Time iterations and peak memory against the bare FFT batch on this machine");
  struct Options {
    std::size_t frames = 1024;
    std::size_t size = 128;
    std::vector<int> threads{1, 2};
    int iterations = 10;
    std::string algorithm = "dm";
    std::string backend = "cpu";
    std::string measure;  // internal: "fft" or "recon", run by the parent in a fresh process
    std::string scan;
    std::vector<double> followRates;  // --follow-latency (FollowBench.cpp)
  };
  auto o = std::make_shared<Options>();
  sub->add_option("--frames", o->frames, "Frames in the simulated scan")->capture_default_str();
  sub->add_option("--size", o->size, "Frame size M")->capture_default_str();
  sub->add_option("--threads", o->threads, "Thread counts to measure")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--iterations", o->iterations, "Timed iterations (after 2 warm-up iterations)")
      ->capture_default_str();
  sub->add_option("--algorithm", o->algorithm, "Algorithm to time")
      ->check(CLI::IsMember({"dm", "raar", "hio", "er"}))
      ->capture_default_str();
  sub->add_option("--backend", o->backend,
                  "Backend to time: cpu (against an FFTW batch) or cuda (against a cuFFT batch "
                  "on the device `ptyx devices` lists first, or PTYX_DEVICE); threads then "
                  "count for the host side of an iteration")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  sub->add_option("--measure", o->measure)->group("");  // hidden: one measurement per process
  sub->add_option("--scan", o->scan)->group("");
  sub->add_option("--follow-latency", o->followRates,
                  "Instead: latency from a frame's arrival to its first use while following a "
                  "scan replayed at these rates (frames/s), e.g. 100,1000 (docs/STREAMING.md)")
      ->delimiter(',')
      ->type_name("RATES");

  return [o] {
    if (!o->followRates.empty()) {
      return runFollowLatencyBench(o->followRates, o->frames, o->size,
                                   o->threads.empty() ? 1 : o->threads.back(), o->algorithm);
    }
    if (!o->measure.empty()) {
      const int t = o->threads.empty() ? 1 : o->threads.front();
      Measurement m;
      if (o->measure == "fft") {
        if (o->backend == "cuda") {
          m.seconds = deviceFftBatchSeconds(o->frames, o->size);
        } else {
          m = fftBatch(o->frames, o->size, t);
        }
      } else {
        ReconParams params;
        setParameter(params, "algorithm", o->algorithm);
        applyPreset(params, params.algorithm);
        params.threads = t;
        params.iterations = o->iterations;
        params.probeUpdateStart = 0;
        m = reconstruction(o->scan, o->backend, params, 2);
      }
      std::cout << std::setprecision(9) << m.seconds << ' ' << m.arraysMiB << ' ' << m.firstSeconds
                << ' ' << m.meanSeconds << ' ' << m.phases.overlapSums << ' '
                << m.phases.relaxedStep << ' ' << m.phases.reflection << ' ' << m.deviceMiB << '\n';
      return 0;
    }
    const bool cuda = o->backend == "cuda";
    if (cuda) {
      const DeviceStatus devices = queryDevices();
      if (!devices.usable) throw InputError("backend", "cuda", "not available: " + devices.reason);
    }
    const auto dir =
        std::filesystem::temp_directory_path() / ("ptyx-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string file = (dir / "scan.cxi").string();
    SimulationOptions sim;
    sim.frames = o->frames;
    sim.frameSize = o->size;
    sim.seed = 1;
    std::cout << "ptyx bench: simulating " << o->frames << " frames of " << o->size << "x"
              << o->size << "..." << std::flush;
    const Scan scan = simulate(sim);
    writeScan(scan, file);
    std::cout << " done\n";

    std::cout
        << "ptyx " << PTYX_VERSION << ", algorithm " << o->algorithm << ", " << o->iterations
        << " timed iterations (median), backend " << o->backend << ", "
        << sysconf(_SC_NPROCESSORS_ONLN) << " cores\n\n"
        << (cuda ? "threads  s/iteration  cuFFT batch s  ratio  host peak MiB  GPU MiB\n"
                 : "threads  s/iteration  FFT batch s  ratio  peak MiB  arrays MiB  peak/arrays\n");
    int status = 0;
    std::ostringstream phases;  // printed under the table
    for (int t : o->threads) {
      try {
        const std::vector<std::string> common{"bench",
                                              "--frames",
                                              std::to_string(o->frames),
                                              "--size",
                                              std::to_string(o->size),
                                              "--threads",
                                              std::to_string(t),
                                              "--iterations",
                                              std::to_string(o->iterations),
                                              "--algorithm",
                                              o->algorithm,
                                              "--backend",
                                              o->backend};
        auto with = [&](std::vector<std::string> extra) {
          std::vector<std::string> args = common;
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        };
        const Measurement fft = inChild(with({"--measure", "fft"}));
        const Measurement rec = inChild(with({"--measure", "recon", "--scan", file}));
        std::cout << std::fixed << std::setw(7) << t << std::setprecision(4) << std::setw(13)
                  << rec.seconds << std::setw(cuda ? 15 : 13) << fft.seconds << std::setprecision(2)
                  << std::setw(7) << rec.seconds / fft.seconds << std::setprecision(0);
        if (cuda) {
          std::cout << std::setw(15) << rec.peakMiB << std::setw(9) << rec.deviceMiB << "\n";
        } else {
          std::cout << std::setw(10) << rec.peakMiB << std::setw(12) << rec.arraysMiB
                    << std::setprecision(2) << std::setw(13) << rec.peakMiB / rec.arraysMiB << "\n";
        }
        const Phases& p = rec.phases;
        const double rest = rec.meanSeconds - p.overlapSums - p.relaxedStep - p.reflection;
        phases << std::fixed << std::setprecision(4) << "phases, " << t
               << (t == 1 ? " thread" : " threads") << " (mean s/iteration " << rec.meanSeconds
               << "): overlap sums " << p.overlapSums << ", relaxed step " << p.relaxedStep
               << " (bare " << (cuda ? "cuFFT" : "FFT") << " batch " << fft.seconds << ")";
        if (p.reflection > 0.0) phases << ", modulus reflection " << p.reflection;
        phases << ", reconstructor " << rest << "\n";
      } catch (const std::exception& e) {
        std::cout << std::setw(7) << t << "  failed: " << e.what() << "\n";
        status = 1;
      }
    }
    if (cuda) {
      std::cout << "\nratio = seconds per iteration / (forward + inverse cuFFT of all frames, "
                   "batched, on the device);\nhost peak = the run's peak resident memory; GPU "
                   "= what the backend holds on the device\n(residentBytes, the planner's "
                   "figure without the context).\n";
    } else {
      std::cout << "\nratio = seconds per iteration / (forward + inverse FFT of all frames, FFTW "
                   "MEASURE,\nbatched, same threads); peak = the run's peak resident memory, whole "
                   "process.\n";
    }
    if (!phases.str().empty()) std::cout << "\n" << phases.str();
    std::filesystem::remove_all(dir);
    return status;
  };
}

}  // namespace ptyx::cli
