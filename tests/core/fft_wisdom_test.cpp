// Measured FFT plans for the frames (math/FftWisdom.hpp): measured once and kept in the cache
// file, read back rather than measured again, correct transforms either way, and FFTW's
// estimated plans (with a working run) when the cache cannot be kept or measuring is off.
#include "math/FftWisdom.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "math/Fft.hpp"

namespace ptyx {
namespace {

namespace fs = std::filesystem;

// Largest error of FFTW's forward transform with `plans` (from `data` into `spectrum`) against a
// direct DFT, relative to the largest coefficient; and of the inverse, back into `data`, against
// M^2 times the input (FFTW's unnormalised round trip).
double transformError(std::size_t m, const fftwisdom::FramePlans& plans, fftwf_complex* data,
                      fftwf_complex* spectrum) {
  std::mt19937 random(5);
  std::uniform_real_distribution<float> value(-1.0F, 1.0F);
  std::vector<std::complex<double>> input(m * m);
  for (std::size_t i = 0; i < m * m; ++i) {
    data[i][0] = value(random);
    data[i][1] = value(random);
    input[i] = {data[i][0], data[i][1]};
  }
  fftwf_execute_dft(plans.forward, data, spectrum);
  double worst = 0.0;
  double largest = 0.0;
  for (std::size_t u = 0; u < m; ++u) {
    for (std::size_t v = 0; v < m; ++v) {
      std::complex<double> sum = 0.0;
      for (std::size_t r = 0; r < m; ++r) {
        for (std::size_t c = 0; c < m; ++c) {
          const double phase =
              -2.0 * std::numbers::pi * static_cast<double>(u * r + v * c) / static_cast<double>(m);
          sum += input[r * m + c] * std::polar(1.0, phase);
        }
      }
      const std::complex<double> got(spectrum[u * m + v][0], spectrum[u * m + v][1]);
      worst = std::max(worst, std::abs(got - sum));
      largest = std::max(largest, std::abs(sum));
    }
  }
  fftwf_execute_dft(plans.inverse, spectrum, data);
  double worstBack = 0.0;
  double largestBack = 0.0;
  const auto scale = static_cast<double>(m * m);
  for (std::size_t i = 0; i < m * m; ++i) {
    const std::complex<double> got(data[i][0], data[i][1]);
    worstBack = std::max(worstBack, std::abs(got - scale * input[i]));
    largestBack = std::max(largestBack, scale * std::abs(input[i]));
  }
  return std::max(worst / largest, worstBack / largestBack);
}

struct Plans {
  explicit Plans(std::size_t m)
      : scratch(fftwf_alloc_complex(m * m)), spectrum(fftwf_alloc_complex(m * m)) {
    plans = fftwisdom::planFrames(m, scratch, spectrum);
  }
  ~Plans() {
    const std::lock_guard lock(fftwPlannerMutex());
    if (plans.forward != nullptr) fftwf_destroy_plan(plans.forward);
    if (plans.inverse != nullptr) fftwf_destroy_plan(plans.inverse);
    fftwf_free(scratch);
    fftwf_free(spectrum);
  }
  Plans(const Plans&) = delete;
  Plans& operator=(const Plans&) = delete;
  fftwf_complex* scratch;
  fftwf_complex* spectrum;
  fftwisdom::FramePlans plans;
};

std::string contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FftWisdom, MeasuresOnceKeepsThePlansInTheCacheAndTransformsCorrectly) {
  const fs::path dir = fs::temp_directory_path() / ("ptyx-wisdom-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path file = dir / "cache" / "fftw-wisdom";  // the folder does not exist yet
  ::setenv("PTYX_FFT_WISDOM", file.c_str(), 1);
  ASSERT_EQ(fftwisdom::cachePath(), file.string());

  const std::string settled = fftwisdom::settle(24);
  ASSERT_FALSE(settled.empty());
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(contents(file), settled);
  const auto written = fs::last_write_time(file);

  // Settled again (another backend, another frame load): the same plans, nothing re-measured.
  EXPECT_EQ(fftwisdom::settle(24), settled);
  EXPECT_EQ(fs::last_write_time(file), written);

  const Plans frames(24);
  ASSERT_NE(frames.plans.forward, nullptr);
  EXPECT_TRUE(frames.plans.measured);
  EXPECT_LT(transformError(24, frames.plans, frames.scratch, frames.spectrum), 1e-5);

  // A second size is added to the same file, keeping the first.
  const std::string both = fftwisdom::settle(20);
  EXPECT_EQ(contents(file), both);
  EXPECT_GT(both.size(), settled.size());
  fs::remove_all(dir);
}

TEST(FftWisdom, AnUnwritableCacheGivesEstimatedPlansThatStillWork) {
  ::setenv("PTYX_FFT_WISDOM", "/proc/ptyx-no-such-folder/fftw-wisdom", 1);
  EXPECT_TRUE(fftwisdom::settle(18).empty());
  const Plans frames(18);
  ASSERT_NE(frames.plans.forward, nullptr);
  EXPECT_FALSE(frames.plans.measured);
  EXPECT_LT(transformError(18, frames.plans, frames.scratch, frames.spectrum), 1e-5);
}

TEST(FftWisdom, OffMeansEstimatedPlansAndNoFile) {
  ::setenv("PTYX_FFT_WISDOM", "off", 1);
  EXPECT_TRUE(fftwisdom::cachePath().empty());
  const Plans frames(16);
  ASSERT_NE(frames.plans.forward, nullptr);
  EXPECT_FALSE(frames.plans.measured);
  EXPECT_LT(transformError(16, frames.plans, frames.scratch, frames.spectrum), 1e-5);
}

}  // namespace
}  // namespace ptyx
