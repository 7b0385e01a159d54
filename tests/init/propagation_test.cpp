// Oracles for the probe models: free-space propagation against the Gaussian-beam formula, the
// lens focus against the Airy pattern, and the invariants (energy, reversibility) of both.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "init/Initialisation.hpp"

namespace ptyx {
namespace {

constexpr double kPi = std::numbers::pi;

double energy(const Image<cfloat>& field) {
  double sum = 0.0;
  for (const cfloat v : field.span()) sum += norm2(v);
  return sum;
}

/// A field with structure at every scale: Gaussian envelope, a phase vortex-free swirl and a
/// hard-edged notch.
Image<cfloat> testField(std::size_t m) {
  Image<cfloat> field(m, m);
  const double c = static_cast<double>(m / 2);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t k = 0; k < m; ++k) {
      const double y = static_cast<double>(r) - c;
      const double x = static_cast<double>(k) - c;
      const double a = std::exp(-(x * x + y * y) / 60.0) * (x > 3.0 && y > 0.0 ? 0.3 : 1.0);
      const double phase = 0.02 * x * y + 0.1 * x;
      field(r, k) = {static_cast<float>(a * std::cos(phase)),
                     static_cast<float>(a * std::sin(phase))};
    }
  }
  return field;
}

/// 1/e^2 intensity radius from the second moment along columns: for exp(-2 x^2 / w^2),
/// <(x - <x>)^2> = w^2 / 4.
double beamRadiusPixels(const Image<cfloat>& field) {
  double total = 0.0;
  double mean = 0.0;
  for (std::size_t r = 0; r < field.rows(); ++r) {
    for (std::size_t c = 0; c < field.cols(); ++c) {
      total += norm2(field(r, c));
      mean += norm2(field(r, c)) * static_cast<double>(c);
    }
  }
  mean /= total;
  double second = 0.0;
  for (std::size_t r = 0; r < field.rows(); ++r) {
    for (std::size_t c = 0; c < field.cols(); ++c) {
      const double d = static_cast<double>(c) - mean;
      second += norm2(field(r, c)) * d * d;
    }
  }
  return 2.0 * std::sqrt(second / total);
}

TEST(FresnelPropagation, ConservesEnergy) {
  const Image<cfloat> field = testField(64);
  for (const double z : {1e-4, 3e-3, -2e-2}) {
    const Image<cfloat> moved = fresnelPropagate(field, 1e-7, 1.5e-10, z);
    EXPECT_NEAR(energy(moved), energy(field), 1e-5 * energy(field)) << "z = " << z;
  }
}

TEST(FresnelPropagation, BackwardUndoesForward) {
  const Image<cfloat> field = testField(64);
  const Image<cfloat> there = fresnelPropagate(field, 1e-7, 1.5e-10, 5e-3);
  const Image<cfloat> back = fresnelPropagate(there, 1e-7, 1.5e-10, -5e-3);
  double worst = 0.0;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const cfloat d = back.span()[i] - field.span()[i];
    worst = std::max(worst, std::sqrt(static_cast<double>(norm2(d))));
  }
  EXPECT_LT(worst, 1e-5);
  // And it did move: the propagated field differs from the start.
  double moved = 0.0;
  for (std::size_t i = 0; i < field.size(); ++i) moved += norm2(there.span()[i] - field.span()[i]);
  EXPECT_GT(moved, 0.1 * energy(field));
}

TEST(FresnelPropagation, GaussianBeamWidensAsTheAnalyticFormula) {
  const double dx = 1e-7;
  const double lambda = 1e-10;
  const double sigma = 3.0;  // pixels; amplitude exp(-r^2 / 2 sigma^2) has w0 = sqrt(2) sigma
  const double w0 = std::sqrt(2.0) * sigma * dx;
  const double rayleigh = kPi * w0 * w0 / lambda;
  const Image<cfloat> waist = gaussianProbe(64, sigma);
  EXPECT_NEAR(beamRadiusPixels(waist) * dx, w0, 0.01 * w0);
  for (const double z : {0.5 * rayleigh, rayleigh, 2.0 * rayleigh, -1.5 * rayleigh}) {
    const double expected = w0 * std::sqrt(1.0 + (z / rayleigh) * (z / rayleigh));
    const double measured = beamRadiusPixels(fresnelPropagate(waist, dx, lambda, z)) * dx;
    EXPECT_NEAR(measured, expected, 0.02 * expected) << "z / zR = " << z / rayleigh;
  }
}

/// Geometry with a 100 nm object pixel for a 64-pixel frame at 1 A.
DetectorGeometry geometry100nm() {
  DetectorGeometry g;
  g.wavelength_m = 1e-10;
  g.distance_m = 1.0;
  g.pixelSizeX_m = g.wavelength_m * g.distance_m / (64 * 1e-7);
  g.pixelSizeY_m = g.pixelSizeX_m;
  return g;
}

TEST(ZonePlate, FocusHasTheAiryFirstZero) {
  const DetectorGeometry g = geometry100nm();
  const double dx = 1e-7;
  const double diameter = 50e-6;
  for (const double focal : {0.2667, 0.4}) {
    const double zeroRadius = 1.22 * g.wavelength_m * focal / diameter / dx;  // pixels
    const Image<cfloat> focus = zonePlateProbe(64, g, diameter, focal, 0.0);
    // Peak at the centre, and the first minimum along the centre row where Airy puts it.
    std::size_t peakAt = 0;
    for (std::size_t i = 1; i < focus.size(); ++i) {
      if (norm2(focus.span()[i]) > norm2(focus.span()[peakAt])) peakAt = i;
    }
    EXPECT_EQ(peakAt, 32U * 64U + 32U);
    const double peak = norm2(focus(32, 32));
    std::size_t c = 33;
    while (c + 1 < 64 && norm2(focus(32, c + 1)) < norm2(focus(32, c))) ++c;
    // Sub-pixel position of the minimum from a parabola through its neighbours.
    const double left = std::sqrt(norm2(focus(32, c - 1)));
    const double mid = std::sqrt(norm2(focus(32, c)));
    const double right = std::sqrt(norm2(focus(32, c + 1)));
    const double offset = 0.5 * (left - right) / (left - 2.0 * mid + right);
    const double measured = static_cast<double>(c - 32) + offset;
    EXPECT_NEAR(measured, zeroRadius, 0.6) << "f = " << focal;
    EXPECT_LT(norm2(focus(32, c)), 0.02 * peak) << "an Airy zero is dark";
  }
}

TEST(ZonePlate, DefocusIsFresnelPropagationOfTheFocus) {
  const DetectorGeometry g = geometry100nm();
  // Beyond the depth of focus lambda / NA^2 = 2.6 cm, so the spot visibly spreads.
  const double defocus = 3e-2;
  const Image<cfloat> focus = zonePlateProbe(64, g, 50e-6, 0.4, 0.0);
  const Image<cfloat> direct = zonePlateProbe(64, g, 50e-6, 0.4, defocus);
  const Image<cfloat> propagated = fresnelPropagate(focus, 1e-7, g.wavelength_m, defocus);
  const auto peakOf = [](const Image<cfloat>& f) {
    double peak = 0.0;
    for (const cfloat v : f.span()) peak = std::max(peak, static_cast<double>(norm2(v)));
    return peak;
  };
  const double peak = std::sqrt(peakOf(direct));
  for (std::size_t i = 0; i < direct.size(); ++i) {
    const cfloat d = direct.span()[i] - propagated.span()[i];
    ASSERT_LT(std::sqrt(static_cast<double>(norm2(d))), 1e-4 * peak);
  }
  EXPECT_NEAR(energy(direct), energy(focus), 1e-4 * energy(focus));
  EXPECT_LT(peakOf(direct), 0.7 * peakOf(focus));
}

TEST(Aperture, InFocusItIsTheLitDisc) {
  const DetectorGeometry g = geometry100nm();
  const double diameter = 2e-6;  // 20 pixels
  const Image<cfloat> disc = apertureProbe(64, g, diameter, 0.0);
  const double area = kPi * 10.0 * 10.0;  // pixels; rim pixels are lit by the area they cover
  double lit = 0.0;
  for (const cfloat v : disc.span()) lit += v.re;
  EXPECT_NEAR(lit, area, 0.005 * area);
  EXPECT_NEAR(disc(32, 32).re, 1.0F, 1e-6F);
  EXPECT_NEAR(std::abs(disc(32, 50).re), 0.0F, 1e-6F);
  // Propagated, it keeps its energy and develops Fresnel fringes (the centre is no longer 1).
  const Image<cfloat> near =
      apertureProbe(64, g, diameter, (diameter / 2) * (diameter / 2) / (3 * g.wavelength_m));
  EXPECT_NEAR(energy(near), energy(disc), 1e-4 * energy(disc));
  EXPECT_GT(std::abs(std::sqrt(static_cast<double>(norm2(near(32, 32)))) - 1.0), 0.1);
}

TEST(ProbeModels, RejectNonsense) {
  const DetectorGeometry g = geometry100nm();
  EXPECT_THROW((void)gaussianProbe(32, 0.0), InputError);
  EXPECT_THROW((void)apertureProbe(32, g, -1.0, 0.0), InputError);
  EXPECT_THROW((void)zonePlateProbe(64, g, 1e-3, 1e-3, 0.0), InputError);  // NA beyond the detector
  EXPECT_THROW((void)zonePlateProbe(64, g, 50e-6, 0.0, 0.0), InputError);
  EXPECT_THROW((void)apertureProbe(32, DetectorGeometry{}, 1e-6, 0.0), InputError);  // no geometry
  EXPECT_THROW((void)fresnelPropagate(testField(16), 0.0, 1e-10, 1e-3), InputError);
}

}  // namespace
}  // namespace ptyx
