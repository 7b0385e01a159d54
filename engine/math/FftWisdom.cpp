#include "math/FftWisdom.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "math/Fft.hpp"

namespace ptyx::fftwisdom {
namespace {

namespace fs = std::filesystem;

// PATIENT finds plans 10-20 % faster than MEASURE up to 256^2 in 0.2-3.4 s, once per machine;
// beyond that it costs many seconds for about 1 %.
unsigned rigour(std::size_t m) {
  return m <= 256 ? FFTW_PATIENT : FFTW_MEASURE;
}

// Guarded by fftwPlannerMutex(): FFTW's planner and its wisdom are process-wide.
struct State {
  std::string wisdom;    // what this process plans from: the cache file's, measured, or adopted
  bool loaded = false;   // the cache file has been read
  bool adopted = false;  // another rank's wisdom: the cache file is not ours to use
  bool warned = false;   // the one message about estimated plans has been said
};
State& state() {
  static State s;
  return s;
}

struct AlignedFrame {
  explicit AlignedFrame(std::size_t m) : data(fftwf_alloc_complex(m * m)) {}
  ~AlignedFrame() { fftwf_free(data); }
  AlignedFrame(const AlignedFrame&) = delete;
  AlignedFrame& operator=(const AlignedFrame&) = delete;
  fftwf_complex* data;
};

// Plans both directions, forward from `a` into `b` and inverse back, from `wisdom` by `flags`
// (with FFTW_WISDOM_ONLY: from the wisdom alone), and puts the wisdom FFTW then holds in
// `exported` if asked. The process's wisdom is forgotten afterwards either way, so that no other
// plan in this process (the simulator's, the scorer's) ever depends on whether frames were
// planned before it. Out of place, with the input free to be overwritten: FFTW then needs no
// copy passes of its own (9 % less time per 128^2 pair than in place, docs/PERFORMANCE.md).
FramePlans planWith(const std::string& wisdom, std::size_t m, fftwf_complex* a, fftwf_complex* b,
                    unsigned flags, std::string* exported = nullptr) {
  FramePlans plans;
  if (!wisdom.empty() && fftwf_import_wisdom_from_string(wisdom.c_str()) == 0) return plans;
  const int n = static_cast<int>(m);
  flags |= FFTW_DESTROY_INPUT;
  plans.forward = fftwf_plan_dft_2d(n, n, a, b, FFTW_FORWARD, flags);
  plans.inverse = fftwf_plan_dft_2d(n, n, b, a, FFTW_BACKWARD, flags);
  if (plans.forward == nullptr || plans.inverse == nullptr) {
    if (plans.forward != nullptr) fftwf_destroy_plan(plans.forward);
    if (plans.inverse != nullptr) fftwf_destroy_plan(plans.inverse);
    plans = {};
  } else if (exported != nullptr) {
    const std::unique_ptr<char, decltype(&std::free)> text(fftwf_export_wisdom_to_string(),
                                                           &std::free);
    if (text) *exported = text.get();
  }
  fftwf_forget_wisdom();
  return plans;
}

void destroy(const FramePlans& plans) {
  if (plans.forward != nullptr) fftwf_destroy_plan(plans.forward);
  if (plans.inverse != nullptr) fftwf_destroy_plan(plans.inverse);
}

// `wisdom` with M x M plans measured into it (FFTW times candidates on a scratch frame); empty
// when FFTW cannot plan that size. A wisdom FFTW cannot read is replaced.
std::string measure(std::string wisdom, std::size_t m) {
  const AlignedFrame a(m);
  const AlignedFrame b(m);
  if (fftwf_import_wisdom_from_string(wisdom.c_str()) == 0) wisdom.clear();
  fftwf_forget_wisdom();
  std::string measured;
  destroy(planWith(wisdom, m, a.data, b.data, rigour(m), &measured));
  return measured;
}

bool covers(const std::string& wisdom, std::size_t m) {
  if (wisdom.empty()) return false;
  const AlignedFrame a(m);
  const AlignedFrame b(m);
  const FramePlans plans = planWith(wisdom, m, a.data, b.data, rigour(m) | FFTW_WISDOM_ONLY);
  destroy(plans);
  return plans.forward != nullptr;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void sayEstimated(State& s, const std::string& why) {
  if (s.warned) return;
  s.warned = true;
  std::cerr << "ptyx: " << why
            << "; frames use FFTW's estimated plans (slower for many frame sizes; set "
               "PTYX_FFT_WISDOM to a writable file)\n";
}

/// An exclusive lock on `path`.lock for the life of the object: one process measures, the
/// others wait and then read what it stored.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) {
      error_ = std::string("cannot create ") + path + ".lock: " + std::strerror(errno);
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error_ = std::string("cannot lock ") + path + ".lock: " + std::strerror(errno);
        return;
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  int fd_;
  std::string error_;
};

// Measures M x M plans on top of the file's wisdom and stores the result, with the file
// locked; empty (and `why` set) when the file cannot be kept.
std::string measureAndStore(const std::string& path, std::size_t m, std::string& why) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const FileLock lock(path);
  if (!lock.error().empty()) {
    why = lock.error();
    return {};
  }
  std::string wisdom = readFile(path);  // another process may have measured meanwhile
  if (covers(wisdom, m)) return wisdom;

  std::cerr << "ptyx: measuring FFT plans for " << m << "x" << m
            << " frames, once for this machine (kept in " << path << ") ...\n";
  const auto start = std::chrono::steady_clock::now();
  std::string measured = measure(wisdom, m);
  if (measured.empty()) {
    why = "FFTW could not measure plans for " + std::to_string(m) + "x" + std::to_string(m);
    return {};
  }
  try {
    writeFileAtomically(path, measured);
  } catch (const Error& e) {
    why = e.what();
    return {};
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ostringstream done;
  done.precision(2);
  done << "ptyx: measured in " << seconds << " s\n";
  std::cerr << done.str();
  return measured;
}

}  // namespace

std::string cachePath() {
  if (const char* set = std::getenv("PTYX_FFT_WISDOM"); set != nullptr && *set != '\0') {
    return std::string(set) == "off" ? std::string() : std::string(set);
  }
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache == '/') {
    return std::string(cache) + "/ptyx/fftw-wisdom";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::string(home) + "/.cache/ptyx/fftw-wisdom";
  }
  return {};
}

std::string settle(std::size_t m) {
  const std::lock_guard lock(fftwPlannerMutex());
  State& s = state();
  if (covers(s.wisdom, m) || s.adopted) return s.wisdom;
  const std::string path = cachePath();
  if (path.empty()) {
    if (std::getenv("PTYX_FFT_WISDOM") == nullptr) {
      sayEstimated(s, "no cache directory for measured FFT plans (HOME is not set)");
    }
    return {};
  }
  if (!s.loaded) {
    s.loaded = true;
    std::string stored = readFile(path);
    if (covers(stored, m)) {
      s.wisdom = std::move(stored);
      return s.wisdom;
    }
  }
  std::string why;
  std::string measured = measureAndStore(path, m, why);
  if (measured.empty()) {
    sayEstimated(s, "cannot keep measured FFT plans in " + path + ": " + why);
    return {};
  }
  s.wisdom = std::move(measured);
  return s.wisdom;
}

void adopt(const std::string& wisdom) {
  const std::lock_guard lock(fftwPlannerMutex());
  State& s = state();
  s.wisdom = wisdom;
  s.adopted = true;
}

FramePlans planFrames(std::size_t m, fftwf_complex* a, fftwf_complex* b) {
  const std::string wisdom = settle(m);
  const std::lock_guard lock(fftwPlannerMutex());
  if (!wisdom.empty()) {
    FramePlans plans = planWith(wisdom, m, a, b, rigour(m) | FFTW_WISDOM_ONLY);
    if (plans.forward != nullptr) {
      plans.measured = true;
      return plans;
    }
  }
  return planWith({}, m, a, b, FFTW_ESTIMATE);
}

}  // namespace ptyx::fftwisdom
