// The File initialisations: a probe or object from an earlier result, shape-checked against the
// scan, with messages that name the file.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "io/Formats.hpp"

namespace ptyx {
namespace {

Image<cfloat> ramp(std::size_t rows, std::size_t cols) {
  Image<cfloat> image(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      image(r, c) = {1.0F + 0.01F * static_cast<float>(r), 0.02F * static_cast<float>(c)};
    }
  }
  return image;
}

/// A result file holding a 16 x 16 probe and a 20 x 30 object.
std::string writeResultFile() {
  Reconstruction result;
  result.probe = ramp(16, 16);
  result.object = ramp(20, 30);
  result.objectPixelSize_m = 1e-7;
  writeResult(result, "result.cxi");
  return "result.cxi";
}

Scan scanOfSize(std::size_t m) {
  Scan scan;
  scan.magnitudes = Stack<float>(3, m, m, 1.0F);
  return scan;
}

std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(FileInit, ProbeFromAResultKeepsItsShape) {
  const std::string path = writeResultFile();
  ReconParams params;
  params.probeInit = ProbeInit::File;
  params.probeFile = path;
  const Scan scan = scanOfSize(16);
  const Image<cfloat> probe = initialProbe(params, scan);
  ASSERT_EQ(probe.rows(), 16U);
  const Image<cfloat> original = ramp(16, 16);
  const float scale = probe(0, 0).re / original(0, 0).re;
  EXPECT_NEAR(probe(5, 9).re, scale * original(5, 9).re, 1e-5F * scale);
  EXPECT_NEAR(probe(5, 9).im, scale * original(5, 9).im, 1e-5F * scale);
  // Normalised like every other start: sum |P|^2 = mean frame energy / M^2 = 1.
  double energy = 0.0;
  for (const cfloat v : probe.span()) energy += norm2(v);
  EXPECT_NEAR(energy, 1.0, 1e-5);
}

TEST(FileInit, ProbeOfTheWrongSizeNamesTheFileAndShapes) {
  const std::string path = writeResultFile();
  ReconParams params;
  params.probeInit = ProbeInit::File;
  params.probeFile = path;
  const Scan scan = scanOfSize(32);
  const std::string message = messageOf([&] { (void)initialProbe(params, scan); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("16 x 16"), std::string::npos) << message;
  EXPECT_NE(message.find("32 x 32"), std::string::npos) << message;
}

TEST(FileInit, NoProbeFileTakesTheScansOwnProbe) {
  ReconParams params;
  params.probeInit = ProbeInit::File;
  Scan scan = scanOfSize(16);
  EXPECT_NE(messageOf([&] { (void)initialProbe(params, scan); }).find("probe_file"),
            std::string::npos);
  scan.probe = ramp(16, 16);
  const Image<cfloat> probe = initialProbe(params, scan);
  EXPECT_NEAR(probe(3, 4).im / probe(3, 4).re,
              scan.probe->operator()(3, 4).im / scan.probe->operator()(3, 4).re, 1e-5);
}

TEST(FileInit, ObjectFromAResultMustMatchTheShape) {
  const std::string path = writeResultFile();
  ReconParams params;
  params.objectInit = ObjectInit::File;
  params.objectFile = path;
  EXPECT_EQ(initialObject(params, 20, 30), ramp(20, 30));
  const std::string message = messageOf([&] { (void)initialObject(params, 20, 31); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("20 x 30"), std::string::npos) << message;
  EXPECT_NE(message.find("20 x 31"), std::string::npos) << message;
}

TEST(FileInit, MissingFileIsNamed) {
  ReconParams params;
  params.probeInit = ProbeInit::File;
  params.probeFile = "nowhere.cxi";
  EXPECT_NE(messageOf([&] { (void)initialProbe(params, scanOfSize(16)); }).find("nowhere.cxi"),
            std::string::npos);
}

}  // namespace
}  // namespace ptyx
