// What a user relies on when moving data through CXI files: a simulated scan comes back exactly
// as written, results keep every field, and the layouts other tools write load the same way.
#include <cmath>

#include "IoTestSupport.hpp"
#include "io/Formats.hpp"

namespace ptyx {
namespace {

using namespace ptyx::test;

void expectPositionsNear(const std::vector<Position>& actual,
                         const std::vector<Position>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t j = 0; j < expected.size(); ++j) {
    EXPECT_NEAR(actual[j].row, expected[j].row, 1e-9) << "frame " << j;
    EXPECT_NEAR(actual[j].col, expected[j].col, 1e-9) << "frame " << j;
  }
}

/// Positions the default RawScan translations (x = 0.2 um j, y = -0.1 um j) stand for.
std::vector<Position> rawPositions(std::size_t count = kFrames) {
  std::vector<Position> positions;
  for (std::size_t j = 0; j < count; ++j) {
    positions.push_back({1e-7 * static_cast<double>(j) / kObjectPixel,
                         -2e-7 * static_cast<double>(j) / kObjectPixel});
  }
  return positions;
}

void expectMagnitudesOfRaw(const Scan& scan, const RawScan& raw) {
  const auto intensities = raw.frameValues();
  ASSERT_EQ(scan.magnitudes.size(), intensities.size());
  for (std::size_t i = 0; i < intensities.size(); ++i) {
    EXPECT_FLOAT_EQ(scan.magnitudes.span()[i], std::sqrt(static_cast<float>(intensities[i])))
        << "element " << i;
  }
}

TEST(CxiScan, WriteThenReadGivesTheSameScan) {
  const Scan written = makeScan();
  writeScan(written, "scan.cxi");
  const Scan read = readScan("scan.cxi");

  ASSERT_EQ(read.frameCount(), kFrames);
  ASSERT_EQ(read.frameSize(), kSize);
  ASSERT_EQ(read.magnitudes.cols(), kSize);
  for (std::size_t i = 0; i < written.magnitudes.size(); ++i) {
    const float a = written.magnitudes.span()[i];
    EXPECT_NEAR(read.magnitudes.span()[i], a, 1e-6 * a) << "element " << i;
  }
  expectPositionsNear(read.positions, written.positions);
  EXPECT_EQ(read.geometry.distance_m, written.geometry.distance_m);
  EXPECT_EQ(read.geometry.pixelSizeX_m, written.geometry.pixelSizeX_m);
  EXPECT_EQ(read.geometry.pixelSizeY_m, written.geometry.pixelSizeY_m);
  EXPECT_NEAR(read.geometry.wavelength_m, written.geometry.wavelength_m, 1e-12 * kWavelength);
  EXPECT_EQ(read.mask, written.mask);
  ASSERT_TRUE(read.probe.has_value());
  EXPECT_EQ(*read.probe, *written.probe);
  ASSERT_TRUE(read.truth.has_value());
  EXPECT_EQ(read.truth->object, written.truth->object);
  EXPECT_EQ(read.truth->probe, written.truth->probe);
  EXPECT_EQ(read.truth->objectPixelSize_m, written.truth->objectPixelSize_m);
  EXPECT_EQ(read.truth->translationOrigin, written.truth->translationOrigin);
  EXPECT_EQ(read.sourcePath, "scan.cxi");
  EXPECT_EQ(read.sourceHash, fileSha256("scan.cxi"));
  EXPECT_EQ(read.sourceHash.size(), 64U);
}

TEST(CxiScan, ScanWithoutOptionalPartsRoundTrips) {
  Scan written = makeScan();
  written.mask = {};
  written.probe.reset();
  written.truth.reset();
  writeScan(written, "plain.cxi");
  const Scan read = readScan("plain.cxi");
  EXPECT_TRUE(read.mask.empty());
  EXPECT_FALSE(read.probe.has_value());
  EXPECT_FALSE(read.truth.has_value());
  expectPositionsNear(read.positions, written.positions);
}

TEST(CxiScan, WriterUsesTheStandardLayout) {
  writeScan(makeScan(), "layout.cxi");
  const hid_t file = H5Fopen("layout.cxi", H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5L_info_t link{};
  ASSERT_GE(H5Lget_info(file, "/entry_1/data_1/data", &link, H5P_DEFAULT), 0);
  EXPECT_EQ(link.type, H5L_TYPE_SOFT);
  ASSERT_GE(H5Lget_info(file, "/entry_1/data_1/translation", &link, H5P_DEFAULT), 0);
  EXPECT_EQ(link.type, H5L_TYPE_SOFT);

  // Intensities, float32, one frame per chunk.
  const hid_t frames = H5Dopen2(file, "/entry_1/instrument_1/detector_1/data", H5P_DEFAULT);
  ASSERT_GE(frames, 0);
  const hid_t frameType = H5Dget_type(frames);
  EXPECT_EQ(H5Tget_class(frameType), H5T_FLOAT);
  EXPECT_EQ(H5Tget_size(frameType), 4U);
  const hid_t create = H5Dget_create_plist(frames);
  std::array<hsize_t, 3> chunk{};
  EXPECT_EQ(H5Pget_chunk(create, 3, chunk.data()), 3);
  EXPECT_EQ(chunk, (std::array<hsize_t, 3>{1, kSize, kSize}));
  std::vector<float> intensities(kFrames * kSize * kSize);
  H5Dread(frames, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, intensities.data());
  const float a = makeScan().magnitudes.span()[17];
  EXPECT_EQ(intensities[17], a * a);

  // Complex as h5py's complex64: a compound of two float32 named r and i.
  const hid_t probe = H5Dopen2(file, "/entry_1/instrument_1/source_1/illumination", H5P_DEFAULT);
  const hid_t probeType = H5Dget_type(probe);
  EXPECT_EQ(H5Tget_class(probeType), H5T_COMPOUND);
  EXPECT_EQ(H5Tget_size(probeType), 8U);
  EXPECT_EQ(H5Tget_member_index(probeType, "r"), 0);
  EXPECT_EQ(H5Tget_member_index(probeType, "i"), 1);
  EXPECT_EQ(H5Tget_member_offset(probeType, 1), 4U);

  int version = 0;
  const hid_t versionSet = H5Dopen2(file, "/cxi_version", H5P_DEFAULT);
  H5Dread(versionSet, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &version);
  EXPECT_EQ(version, 160);
  double energy = 0.0;
  const hid_t energySet = H5Dopen2(file, "/entry_1/instrument_1/source_1/energy", H5P_DEFAULT);
  H5Dread(energySet, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &energy);
  EXPECT_NEAR(energy, kEnergy, 1e-12 * kEnergy);  // joules, about 1.99e-15 for 0.1 nm

  for (const hid_t id : {energySet, versionSet, probe, frames}) {
    H5Dclose(id);
  }
  H5Tclose(probeType);
  H5Tclose(frameType);
  H5Pclose(create);
  H5Fclose(file);
}

TEST(CxiScan, ReadOptionsFlipAndSwapTheTranslations) {
  const Scan written = makeScan();
  writeScan(written, "orient.cxi");
  const auto flippedX = readScan("orient.cxi", {.flipX = true}).positions;
  const auto flippedY = readScan("orient.cxi", {.flipY = true}).positions;
  const auto swapped = readScan("orient.cxi", {.swapXY = true}).positions;
  // Pixels are square here, so swapping x and y swaps rows and columns.
  const auto swappedThenFlipped = readScan("orient.cxi", {.flipX = true, .swapXY = true}).positions;
  for (std::size_t j = 0; j < kFrames; ++j) {
    const Position p = written.positions[j];
    EXPECT_NEAR(flippedX[j].row, p.row, 1e-9);
    EXPECT_NEAR(flippedX[j].col, -p.col, 1e-9);
    EXPECT_NEAR(flippedY[j].row, -p.row, 1e-9);
    EXPECT_NEAR(flippedY[j].col, p.col, 1e-9);
    EXPECT_NEAR(swapped[j].row, p.col, 1e-9);
    EXPECT_NEAR(swapped[j].col, p.row, 1e-9);
    EXPECT_NEAR(swappedThenFlipped[j].row, p.col, 1e-9);
    EXPECT_NEAR(swappedThenFlipped[j].col, -p.row, 1e-9);
  }
}

// --- layouts written by other tools -----------------------------------------------------------

TEST(CxiLayouts, FramesAtDetectorWithSoftLinkInData) {
  const RawScan raw;  // the default: detector_1/data, linked from data_1/data
  raw.write("linked.cxi");
  const Scan scan = readScan("linked.cxi");
  expectMagnitudesOfRaw(scan, raw);
  expectPositionsNear(scan.positions, rawPositions());
  EXPECT_NEAR(scan.geometry.wavelength_m, kWavelength, 1e-12 * kWavelength);
  EXPECT_TRUE(scan.mask.empty());
  EXPECT_FALSE(scan.probe.has_value());
}

TEST(CxiLayouts, FramesOnlyAtDetector) {
  RawScan raw;
  raw.framesLinkAt = "";
  raw.write("detector_only.cxi");
  expectMagnitudesOfRaw(readScan("detector_only.cxi"), raw);
}

TEST(CxiLayouts, FramesOnlyInData) {
  RawScan raw;
  raw.framesAt = "/entry_1/data_1/data";
  raw.framesLinkAt = "";
  raw.write("data_only.cxi");
  expectMagnitudesOfRaw(readScan("data_only.cxi"), raw);
}

TEST(CxiLayouts, TranslationsInEachOfTheUsualPlaces) {
  for (const std::string at :
       {"/entry_1/data_1/translation", "/entry_1/sample_1/geometry_1/translation",
        "/entry_1/instrument_1/detector_1/translation"}) {
    RawScan raw;
    raw.translationsAt = at;
    raw.write("translations.cxi");
    expectPositionsNear(readScan("translations.cxi").positions, rawPositions());
  }
}

TEST(CxiLayouts, TwoColumnTranslationsAreXY) {
  RawScan raw;
  raw.translationShape = {kFrames, 2};
  raw.write("xy.cxi");
  expectPositionsNear(readScan("xy.cxi").positions, rawPositions());
}

TEST(CxiLayouts, WavelengthInsteadOfEnergy) {
  RawScan raw;
  raw.energy.reset();
  raw.wavelength = 1.5e-10;
  raw.write("wavelength.cxi");
  const Scan scan = readScan("wavelength.cxi");
  EXPECT_EQ(scan.geometry.wavelength_m, 1.5e-10);
  // A longer wavelength makes object pixels larger, so the same translations span fewer pixels.
  EXPECT_NEAR(scan.positions[1].col, rawPositions()[1].col / 1.5, 1e-9);
}

TEST(CxiLayouts, IntegerFramesOfAnyWidth) {
  for (const hid_t type :
       {H5T_STD_U16LE, H5T_STD_U32LE, H5T_STD_I32BE, H5T_STD_U8LE, H5T_IEEE_F64LE}) {
    RawScan raw;
    raw.frameType = type;
    raw.write("integer.cxi");
    expectMagnitudesOfRaw(readScan("integer.cxi"), raw);
  }
}

TEST(CxiLayouts, MonitorNormalisesEachFrame) {
  RawScan raw;
  raw.intensities.assign(kFrames * kSize * kSize, 100.0);
  raw.monitor = std::vector<double>{1.0, 2.0, 1.0, 0.5, 0.5};  // mean 1
  raw.write("monitor.cxi");
  const Scan scan = readScan("monitor.cxi");
  for (std::size_t j = 0; j < kFrames; ++j) {
    const float expected = std::sqrt(100.0F / static_cast<float>((*raw.monitor)[j]));
    for (const float a : scan.magnitudes.frame(j)) {
      EXPECT_FLOAT_EQ(a, expected) << "frame " << j;
    }
  }
}

TEST(CxiLayouts, MaskFlagsOfAnyValueMarkBadPixels) {
  RawScan raw;
  raw.maskShape = {kSize, kSize};
  raw.mask.assign(kSize * kSize, 0.0);
  raw.mask[3] = 1.0;
  raw.mask[10] = 2147483648.0;  // CXI "saturated"-style high bit
  raw.write("mask.cxi");
  const Scan scan = readScan("mask.cxi");
  ASSERT_EQ(scan.mask.size(), kSize * kSize);
  for (std::size_t i = 0; i < kSize * kSize; ++i) {
    EXPECT_EQ(scan.mask.span()[i], (i == 3 || i == 10) ? 1 : 0) << i;
  }
}

TEST(CxiLayouts, ProbeUnderSourceProbeWithModesTakesTheFirstMode) {
  const Image<cfloat> first = complexImage(kSize, kSize, 0.3F);
  const Image<cfloat> second = complexImage(kSize, kSize, 0.9F);
  RawScan raw;
  raw.probeAt = "/entry_1/instrument_1/source_1/probe";
  raw.probeShape = {2, kSize, kSize};
  raw.probe.assign(first.span().begin(), first.span().end());
  raw.probe.insert(raw.probe.end(), second.span().begin(), second.span().end());
  raw.write("modes.cxi");
  const Scan scan = readScan("modes.cxi");
  ASSERT_TRUE(scan.probe.has_value());
  EXPECT_EQ(*scan.probe, first);
  EXPECT_EQ(readProbeFile("modes.cxi"), first);
}

TEST(CxiLayouts, Complex128ProbeIsAccepted) {
  const Image<cfloat> probe = complexImage(kSize, kSize, 0.3F);
  RawScan raw;
  raw.probeAt = "/entry_1/instrument_1/source_1/illumination";
  raw.probeShape = {kSize, kSize};
  raw.probe.assign(probe.span().begin(), probe.span().end());
  raw.probeDouble = true;
  raw.write("complex128.cxi");
  EXPECT_EQ(*readScan("complex128.cxi").probe, probe);  // float values survive double exactly
}

TEST(CxiLayouts, RealProbeHasZeroImaginaryPart) {
  RawH5 file("real_probe.h5");
  std::vector<double> values(kSize * kSize);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = 0.5 * static_cast<double>(i);
  }
  file.real("/entry_1/instrument_1/source_1/illumination", {kSize, kSize}, values, H5T_IEEE_F32LE);
  const Image<cfloat> probe = readProbeFile("real_probe.h5");
  ASSERT_EQ(probe.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(probe.span()[i], (cfloat{static_cast<float>(values[i]), 0.0F}));
  }
}

// --- results --------------------------------------------------------------------------------

Reconstruction makeResult() {
  Reconstruction result;
  result.object = complexImage(12, 16, 0.2F);
  result.probe = complexImage(kSize, kSize, 1.1F);
  result.objectPixelSize_m = kObjectPixel;
  result.positions = {{0.5, -1.25}, {3.0, 4.0}, {-2.0, 7.75}};
  result.originPixel = {6.0, 8.5};
  result.history = {
      {1, 0.5, 0.25, std::numeric_limits<double>::quiet_NaN(), 0.01, false},
      {2, 0.25, 0.125, 0.75, 0.02, true},
      {3, 0.125, 0.0625, 0.5, 0.015, false},
  };
  result.parametersJson = R"({"algorithm": "raar", "beta": 0.8, "note": "β ≈ 0.8"})";
  result.provenance = {"ptyx",
                       "0.1.0",
                       "2024-05-01T12:00:00Z",
                       "ptyx recon scan.cxi --beta 0.8",
                       "/data/scan.cxi",
                       std::string(64, 'a')};
  return result;
}

TEST(CxiResult, WriteThenReadKeepsEveryField) {
  const Reconstruction written = makeResult();
  writeResult(written, "result.cxi");
  const Reconstruction read = readResult("result.cxi");
  EXPECT_EQ(read.object, written.object);
  EXPECT_EQ(read.probe, written.probe);
  EXPECT_EQ(read.objectPixelSize_m, written.objectPixelSize_m);
  EXPECT_EQ(read.positions, written.positions);
  EXPECT_EQ(read.originPixel, written.originPixel);
  ASSERT_EQ(read.history.size(), written.history.size());
  for (std::size_t k = 0; k < written.history.size(); ++k) {
    const auto& a = read.history[k];
    const auto& b = written.history[k];
    EXPECT_EQ(a.iteration, b.iteration);
    EXPECT_EQ(a.fourierError, b.fourierError);
    EXPECT_EQ(a.overlapError, b.overlapError);
    EXPECT_TRUE(a.objectError == b.objectError ||
                (std::isnan(a.objectError) && std::isnan(b.objectError)));
    EXPECT_EQ(a.seconds, b.seconds);
    EXPECT_EQ(a.parametersChanged, b.parametersChanged);
  }
  EXPECT_EQ(read.parametersJson, written.parametersJson);
  EXPECT_EQ(read.provenance.program, written.provenance.program);
  EXPECT_EQ(read.provenance.version, written.provenance.version);
  EXPECT_EQ(read.provenance.date, written.provenance.date);
  EXPECT_EQ(read.provenance.commandLine, written.provenance.commandLine);
  EXPECT_EQ(read.provenance.inputPath, written.provenance.inputPath);
  EXPECT_EQ(read.provenance.inputHash, written.provenance.inputHash);
}

TEST(CxiResult, EmptyHistoryAndStringsRoundTrip) {
  Reconstruction written = makeResult();
  written.history.clear();
  written.positions.clear();
  written.parametersJson.clear();
  written.provenance.commandLine.clear();
  writeResult(written, "empty.cxi");
  const Reconstruction read = readResult("empty.cxi");
  EXPECT_TRUE(read.history.empty());
  EXPECT_TRUE(read.positions.empty());
  EXPECT_EQ(read.parametersJson, "");
  EXPECT_EQ(read.provenance.commandLine, "");
}

TEST(CxiResult, ProbeAndObjectLoadForInitialisation) {
  const Reconstruction written = makeResult();
  writeResult(written, "init.cxi");
  EXPECT_EQ(readProbeFile("init.cxi"), written.probe);
  EXPECT_EQ(readObjectFile("init.cxi"), written.object);

  // The probe is stored as mode:y:x with one mode, and illumination links to it.
  const hid_t file = H5Fopen("init.cxi", H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t probe = H5Dopen2(file, "/entry_1/instrument_1/source_1/illumination", H5P_DEFAULT);
  const hid_t space = H5Dget_space(probe);
  std::array<hsize_t, 3> shape{};
  EXPECT_EQ(H5Sget_simple_extent_dims(space, shape.data(), nullptr), 3);
  EXPECT_EQ(shape, (std::array<hsize_t, 3>{1, kSize, kSize}));
  H5Sclose(space);
  H5Dclose(probe);
  H5Fclose(file);

  // A scan file offers its initial probe.
  writeScan(makeScan(), "probe_scan.cxi");
  EXPECT_EQ(readProbeFile("probe_scan.cxi"), *makeScan().probe);
}

}  // namespace
}  // namespace ptyx
