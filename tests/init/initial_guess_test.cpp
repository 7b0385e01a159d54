// initialProbe / initialObject as the reconstruction calls them: every choice gives a centred,
// correctly scaled M x M probe, and the random object start is reproducible from the seed.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <string>

#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "sim/Simulator.hpp"
#include "support/Overlap.hpp"

namespace ptyx {
namespace {

Scan smallScan() {
  SimulationOptions o;
  o.frames = 12;
  o.frameSize = 32;
  return simulate(o);
}

double meanFrameEnergy(const Scan& scan) {
  double e = 0.0;
  for (const float a : scan.magnitudes.span()) e += static_cast<double>(a) * a;
  return e / static_cast<double>(scan.frameCount());
}

void expectCentredAndNormalised(const Image<cfloat>& probe, const Scan& scan,
                                const std::string& what) {
  const std::size_t m = scan.frameSize();
  ASSERT_EQ(probe.rows(), m) << what;
  ASSERT_EQ(probe.cols(), m) << what;
  double total = 0.0;
  double row = 0.0;
  double col = 0.0;
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) {
      const double w = norm2(probe(r, c));
      total += w;
      row += w * static_cast<double>(r);
      col += w * static_cast<double>(c);
    }
  }
  EXPECT_NEAR(row / total, static_cast<double>(m / 2), 0.6) << what;
  EXPECT_NEAR(col / total, static_cast<double>(m / 2), 0.6) << what;
  const double target = meanFrameEnergy(scan) / static_cast<double>(m * m);
  EXPECT_NEAR(total, target, 1e-4 * target) << what;
}

TEST(InitialProbe, EveryModelIsCentredAndNormalised) {
  const Scan scan = smallScan();
  ReconParams params;
  for (const ProbeInit init :
       {ProbeInit::Gaussian, ProbeInit::Aperture, ProbeInit::ZonePlate, ProbeInit::DataMean}) {
    params.probeInit = init;
    expectCentredAndNormalised(initialProbe(params, scan), scan, toString(init));
  }
}

// The default: the probe the scan file carries when it has one (its shape, scaled to the data),
// else the same as data-mean.
TEST(InitialProbe, AutoStartsFromTheScansOwnProbeElseTheDataMean) {
  Scan scan = smallScan();
  ReconParams params;
  ASSERT_EQ(params.probeInit, ProbeInit::Auto);
  params.probeInit = ProbeInit::DataMean;
  const Image<cfloat> dataMean = initialProbe(params, scan);
  params.probeInit = ProbeInit::Auto;
  EXPECT_EQ(initialProbe(params, scan), dataMean) << "no probe in the scan";

  params.probeInit = ProbeInit::ZonePlate;
  Image<cfloat> carried = initialProbe(params, scan);
  for (cfloat& v : carried.span()) v = 3.0F * v;  // any scale: the data set it
  scan.probe = carried;
  params.probeInit = ProbeInit::Auto;
  const Image<cfloat> probe = initialProbe(params, scan);
  expectCentredAndNormalised(probe, scan, "auto");
  EXPECT_NEAR(testing::normalisedOverlap(probe, carried), 1.0, 1e-6)
      << "the carried probe, rescaled";
}

TEST(InitialProbe, ApertureDefaultsToHalfTheWindow) {
  const Scan scan = smallScan();
  ReconParams params;
  params.probeInit = ProbeInit::Aperture;
  params.apertureDiameter_m = 0.0;
  params.defocus_m = 0.0;
  const Image<cfloat> probe = initialProbe(params, scan);
  // A 16-pixel disc: lit at 7 pixels from the centre, dark at 9.
  EXPECT_GT(norm2(probe(16, 23)), 0.5F * norm2(probe(16, 16)));
  EXPECT_LT(norm2(probe(16, 25)), 1e-6F * norm2(probe(16, 16)));
}

TEST(InitialProbe, GaussianUsesTheRequestedWidth) {
  const Scan scan = smallScan();
  ReconParams params;
  params.probeInit = ProbeInit::Gaussian;
  params.probeSigmaPixels = 3.0;
  const Image<cfloat> probe = initialProbe(params, scan);
  // Amplitude exp(-r^2 / 2 sigma^2): at r = sigma it is exp(-1/2) of the peak.
  EXPECT_NEAR(probe(16, 19).re / probe(16, 16).re, std::exp(-0.5), 1e-5);
  params.probeSigmaPixels = 0.0;
  try {
    (void)initialProbe(params, scan);
    ADD_FAILURE() << "accepted sigma 0";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("probe_sigma"), std::string::npos) << e.what();
  }
}

TEST(InitialProbe, LensModelsNeedTheGeometry) {
  Scan scan = smallScan();
  scan.geometry = DetectorGeometry{};
  ReconParams params;
  for (const ProbeInit init : {ProbeInit::Aperture, ProbeInit::ZonePlate}) {
    params.probeInit = init;
    try {
      (void)initialProbe(params, scan);
      ADD_FAILURE() << "built a lens probe without a geometry";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("geometry"), std::string::npos) << e.what();
    }
  }
  params.probeInit = ProbeInit::DataMean;  // needs no geometry
  EXPECT_NO_THROW((void)initialProbe(params, scan));
}

TEST(InitialObject, ConstantIsFlat) {
  ReconParams params;
  params.objectInit = ObjectInit::Constant;
  params.objectAmplitude = 0.8;
  const Image<cfloat> object = initialObject(params, 20, 30);
  ASSERT_EQ(object.rows(), 20U);
  ASSERT_EQ(object.cols(), 30U);
  for (const cfloat v : object.span()) EXPECT_EQ(v, (cfloat{0.8F, 0.0F}));
}

TEST(InitialObject, RandomIsSeededAndSmall) {
  ReconParams params;
  params.objectInit = ObjectInit::Random;
  params.objectAmplitude = 0.8;
  params.seed = 11;
  const Image<cfloat> a = initialObject(params, 40, 50);
  EXPECT_EQ(a, initialObject(params, 40, 50));
  params.seed = 12;
  EXPECT_NE(a, initialObject(params, 40, 50));
  double mean = 0.0;
  for (const cfloat v : a.span()) {
    const double amplitude = std::hypot(v.re, v.im);
    EXPECT_GE(amplitude, 0.8 * 0.9 - 1e-6);
    EXPECT_LE(amplitude, 0.8 * 1.1 + 1e-6);
    EXPECT_LE(std::abs(std::atan2(v.im, v.re)), 0.1 + 1e-6);
    mean += amplitude;
  }
  EXPECT_NEAR(mean / static_cast<double>(a.size()), 0.8, 0.01);
}

TEST(InitialObject, RejectsAnEmptyShape) {
  EXPECT_THROW((void)initialObject(ReconParams{}, 0, 10), InputError);
}

}  // namespace
}  // namespace ptyx
