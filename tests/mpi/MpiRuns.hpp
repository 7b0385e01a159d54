#pragma once
// Running `ptyx` under a real `mpirun` from tests, and comparing what the runs wrote. The paths
// come from the environment CTest sets (PTYX_BIN, PTYX_MPIRUN); nothing site-specific.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/Reconstruction.hpp"
#include "io/Formats.hpp"
#include "io/Hdf5.hpp"

namespace ptyx::mpitest {

namespace fs = std::filesystem;

inline std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}
inline std::string ptyxBin() {
  return env("PTYX_BIN", "ptyx");
}
inline std::string mpirun() {
  return env("PTYX_MPIRUN");
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Outcome {
  int code = -1;
  std::string log;  ///< stdout and stderr together
};

/// `ptyx ARGS` on `ranks` ranks under mpirun (ranks = 0: plainly, without mpirun).
inline std::string command(int ranks, const std::string& args) {
  const std::string ptyx = ptyxBin() + " " + args;
  if (ranks == 0) return ptyx;
  return mpirun() + " --oversubscribe -np " + std::to_string(ranks) + " " + ptyx;
}

inline Outcome run(int ranks, const std::string& args, const std::string& log = "run.log") {
  const int status = std::system((command(ranks, args) + " >" + log + " 2>&1").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(log)};
}

/// Starts `ranks` ranks in the background (its own process group); output to `log`.
inline pid_t spawn(int ranks, const std::string& args, const std::string& log) {
  const std::string cmd = "exec " + command(ranks, args) + " >" + log + " 2>&1";
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

/// Waits for `pid` up to `timeout`; the exit status, or -1 on timeout (the group is then killed).
inline int waitExit(pid_t pid, std::chrono::duration<double> timeout, double* seconds = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      if (seconds != nullptr) {
        *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() - start > timeout) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// Polls `ready` every 20 ms up to `timeout`.
inline bool waitUntil(const std::function<bool()>& ready, std::chrono::duration<double> timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

/// The ptyx processes mpirun `launcher` started, with their MPI rank.
inline std::vector<std::pair<pid_t, int>> ranksOf(pid_t launcher) {
  std::vector<std::pair<pid_t, int>> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::istringstream stat(slurp(entry.path() / "stat"));
    std::string pid, comm, state;
    pid_t ppid = 0;
    stat >> pid >> comm >> state >> ppid;
    if (ppid != launcher) continue;
    const std::string environ = slurp(entry.path() / "environ");
    const std::string key = std::string("OMPI_COMM_WORLD_RANK=");
    const auto at = environ.find(key);
    if (at == std::string::npos) continue;
    found.emplace_back(static_cast<pid_t>(std::stoi(name)),
                       std::atoi(environ.c_str() + at + key.size()));
  }
  return found;
}

/// Writes a control file the way the docs ask: a temporary name, then rename into place.
inline void control(const std::string& dir, const std::string& json) {
  const std::string tmp = dir + "/control.tmp";
  std::ofstream(tmp) << json;
  fs::rename(tmp, dir + "/control");
}

/// Lines of DIR/progress.jsonl with "event": kind.
inline int countEvents(const std::string& dir, const std::string& needle) {
  std::istringstream lines(slurp(dir + "/progress.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

inline int checkpointIteration(const std::string& path) {
  return static_cast<int>(h5::InFile(path).readScalar("/ptyx_checkpoint/iteration"));
}

template <class T>
bool sameBits(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

/// Object, probe and every metric bit for bit (wall times excepted).
inline ::testing::AssertionResult bitIdentical(const Reconstruction& a, const Reconstruction& b) {
  if (!sameBits(a.object.span(), b.object.span()))
    return ::testing::AssertionFailure() << "objects differ";
  if (!sameBits(a.probe.span(), b.probe.span()))
    return ::testing::AssertionFailure() << "probes differ";
  if (a.history.size() != b.history.size()) {
    return ::testing::AssertionFailure()
           << "histories of " << a.history.size() << " and " << b.history.size() << " iterations";
  }
  for (std::size_t k = 0; k < a.history.size(); ++k) {
    const auto& x = a.history[k];
    const auto& y = b.history[k];
    if (std::memcmp(&x.fourierError, &y.fourierError, sizeof(double)) != 0 ||
        std::memcmp(&x.overlapError, &y.overlapError, sizeof(double)) != 0 ||
        std::memcmp(&x.objectError, &y.objectError, sizeof(double)) != 0) {
      return ::testing::AssertionFailure() << "metrics differ at iteration " << x.iteration;
    }
  }
  return ::testing::AssertionSuccess();
}

/// ||a - b|| / ||a|| over the central rows and columns (margin = that fraction of each side cut
/// off): the edges of the object array are barely lit, and the regularised division lets them
/// wander without any effect on the data.
inline double relativeDifference(const Image<cfloat>& a, const Image<cfloat>& b,
                                 double margin = 0.0) {
  double diff = 0.0;
  double norm = 0.0;
  const auto r0 = static_cast<std::size_t>(margin * static_cast<double>(a.rows()));
  const auto c0 = static_cast<std::size_t>(margin * static_cast<double>(a.cols()));
  for (std::size_t r = r0; r < a.rows() - r0; ++r) {
    for (std::size_t c = c0; c < a.cols() - c0; ++c) {
      const cfloat x = a(r, c);
      const cfloat y = b(r, c);
      const double dr = x.re - y.re;
      const double di = x.im - y.im;
      diff += dr * dr + di * di;
      norm += double{x.re} * x.re + double{x.im} * x.im;
    }
  }
  return std::sqrt(diff / norm);
}

/// The scan every test uses: 64 frames of 32 x 32, noise-free, ground truth included.
inline void simulateScan() {
  if (fs::exists("sim.cxi")) return;
  const Outcome o =
      run(0, "simulate --frames 64 --size 32 --photons 0 --seed 7 -o sim.cxi", "sim.log");
  ASSERT_EQ(o.code, 0) << o.log;
}

}  // namespace ptyx::mpitest
