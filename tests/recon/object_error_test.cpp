// The object error against a known truth: zero for the truth itself, and for what far-field data
// cannot tell from it (a complex scale, a linear phase ramp); the same score from a scorer kept
// for a run as from a fresh one, and for any number of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "recon/ObjectError.hpp"

namespace ptyx {
namespace {

constexpr std::size_t kRows = 40;
constexpr std::size_t kCols = 36;

GroundTruth truth() {
  GroundTruth t;
  t.object = Image<cfloat>(kRows, kCols);
  for (std::size_t r = 0; r < kRows; ++r) {
    for (std::size_t c = 0; c < kCols; ++c) {
      const auto y = static_cast<double>(r);
      const auto x = static_cast<double>(c);
      const double a = 1.0 + 0.3 * std::sin(0.4 * y) * std::cos(0.3 * x);
      const double phase = 0.8 * std::sin(0.25 * y + 0.15 * x);
      t.object(r, c) = {static_cast<float>(a * std::cos(phase)),
                        static_cast<float>(a * std::sin(phase))};
    }
  }
  t.translationOrigin = {20.0, 18.0};
  return t;
}

Image<std::uint8_t> everywhere() {
  return Image<std::uint8_t>(kRows, kCols, 1);
}

// `o` times exp(i (gr r + gc c)) times `scale`.
Image<cfloat> transformed(const Image<cfloat>& o, double gr, double gc, cfloat scale) {
  Image<cfloat> out(o.rows(), o.cols());
  for (std::size_t r = 0; r < o.rows(); ++r) {
    for (std::size_t c = 0; c < o.cols(); ++c) {
      const double phase = gr * static_cast<double>(r) + gc * static_cast<double>(c);
      const cfloat ramp{static_cast<float>(std::cos(phase)), static_cast<float>(std::sin(phase))};
      out(r, c) = scale * (ramp * o(r, c));
    }
  }
  return out;
}

TEST(ObjectError, ZeroForTheTruthAndForAComplexScaleOfIt) {
  const GroundTruth t = truth();
  const Position origin = t.translationOrigin;
  EXPECT_LT(objectError(t.object, origin, t, everywhere()).error, 1e-6);
  EXPECT_LT(objectError(transformed(t.object, 0, 0, {0.3F, -1.2F}), origin, t, everywhere()).error,
            1e-6);
}

// 1 - |<t, o>|^2 / (|o|^2 |t|^2): the error before any registration.
double unregisteredError(const Image<cfloat>& o, const Image<cfloat>& t) {
  double re = 0.0;
  double im = 0.0;
  double no = 0.0;
  double nt = 0.0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    const cfloat a = o.data()[i];
    const cfloat b = t.data()[i];
    re += static_cast<double>(b.re) * a.re + static_cast<double>(b.im) * a.im;
    im += static_cast<double>(b.re) * a.im - static_cast<double>(b.im) * a.re;
    no += static_cast<double>(a.re) * a.re + static_cast<double>(a.im) * a.im;
    nt += static_cast<double>(b.re) * b.re + static_cast<double>(b.im) * b.im;
  }
  return 1.0 - (re * re + im * im) / (no * nt);
}

TEST(ObjectError, APhaseRampIsRegisteredAway) {
  const GroundTruth t = truth();
  // A fraction of a cycle across the object, as an object and probe trade between them.
  const double twoPi = 2.0 * std::numbers::pi;
  const Image<cfloat> ramped = transformed(t.object, twoPi * 0.4 / 40, twoPi * -0.3 / 36, {1, 0});
  const double before = unregisteredError(ramped, t.object);
  const double after = objectError(ramped, t.translationOrigin, t, everywhere()).error;
  EXPECT_GT(before, 0.05) << "the ramp must matter before registration";
  EXPECT_LT(after, 0.05 * before) << "registered " << after << ", unregistered " << before;
}

TEST(ObjectError, AScorerKeptForARunScoresLikeAFreshOneWithAnyThreads) {
  const GroundTruth t = truth();
  const Image<std::uint8_t> all = everywhere();
  Image<std::uint8_t> part = everywhere();
  for (std::size_t r = 0; r < 8; ++r) {
    for (std::size_t c = 0; c < kCols; ++c) part(r, c) = 0;
  }
  const Image<cfloat> a = transformed(t.object, 0.05, -0.02, {0.9F, 0.1F});
  Image<cfloat> b = transformed(t.object, -0.03, 0.04, {1.1F, -0.2F});
  for (std::size_t r = 20; r < 26; ++r) {
    for (std::size_t c = 0; c < kCols; ++c) b(r, c) = 0.5F * b(r, c);  // a real difference
  }

  ObjectScorer kept(t, kRows, kCols, t.translationOrigin, 3);
  const ObjectErrorResult first = kept.score(a, all);   // leaves its work arrays dirty
  const ObjectErrorResult again = kept.score(b, part);  // another region: another truth spectrum
  const ObjectErrorResult back = kept.score(a, all);
  EXPECT_EQ(std::memcmp(&first.error, &back.error, sizeof(double)), 0)
      << "the truth's spectrum kept for one region must not serve another: " << first.error
      << " vs " << back.error;
  for (int threads : {1, 2}) {
    const ObjectErrorResult fresh =
        ObjectScorer(t, kRows, kCols, t.translationOrigin, threads).score(b, part);
    EXPECT_EQ(std::memcmp(&again.error, &fresh.error, sizeof(double)), 0)
        << again.error << " vs " << fresh.error << " with " << threads << " threads";
    EXPECT_EQ(again.shiftRows, fresh.shiftRows);
    EXPECT_EQ(again.shiftCols, fresh.shiftCols);
  }
  EXPECT_GT(again.error, 1e-3) << "b is not the truth: the comparison must not be trivial";
}

}  // namespace
}  // namespace ptyx
