// Bad input is the normal case at a beamline: each broken file must give a message naming the
// file and the dataset and saying what is wrong, never a crash, and a failed write must leave
// nothing behind.
#include <unistd.h>

#include <fstream>

#include "IoTestSupport.hpp"
#include "io/Cxi.hpp"
#include "io/Formats.hpp"

namespace ptyx {
namespace {

using namespace ptyx::test;

const std::string kDetectorData = "/entry_1/instrument_1/detector_1/data";
const std::string kTranslation = "/entry_1/sample_1/geometry_1/translation";
const std::string kDetectorPath = "/entry_1/instrument_1/detector_1/";
const std::string kSourcePath = "/entry_1/instrument_1/source_1/";

/// Reads with the CXI reader itself, so that files the registry would not even offer to it
/// (not HDF5 at all) still show the reader's own message.
Scan readCxi(const std::string& path) {
  return cxi::ScanReader().read(path, {});
}

std::string readError(const RawScan& raw, const std::string& dataset,
                      const std::vector<std::string>& phrases) {
  raw.write("bad.cxi");
  return expectInputError([] { (void)readScan("bad.cxi"); }, "bad.cxi", dataset, phrases);
}

// --- the file itself ------------------------------------------------------------------------

TEST(CxiBadFile, MissingFile) {
  expectInputError([] { (void)readScan("absent.cxi"); }, "absent.cxi", "", {"no such file"});
  expectInputError([] { (void)readCxi("absent.cxi"); }, "absent.cxi", "", {"no such file"});
}

TEST(CxiBadFile, DirectoryInsteadOfFile) {
  freshDirectory("a_directory.cxi");
  expectInputError([] { (void)readCxi("a_directory.cxi"); }, "a_directory.cxi", "", {"directory"});
}

TEST(CxiBadFile, UnreadableFile) {
  writeScan(makeScan(), "locked.cxi");
  std::filesystem::permissions("locked.cxi", std::filesystem::perms::none);
  // Root reads any file, so the read is tried by an unprivileged user in a child process.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(3);
    try {
      (void)readCxi("locked.cxi");
      ::_exit(1);
    } catch (const InputError& e) {
      const std::string m = e.what();
      ::_exit(m.find("locked.cxi") != std::string::npos &&
                      m.find("cannot be read") != std::string::npos
                  ? 0
                  : 2);
    } catch (...) {
      ::_exit(4);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::permissions("locked.cxi", std::filesystem::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: the unreadable file was read, 2: the message lacks the file or the reason, "
         "3: could not become an unprivileged user, 4: another exception";
}

TEST(CxiBadFile, NotHdf5) {
  std::ofstream("notes.cxi") << "frame,x,y\n0,1,2\n";
  expectInputError([] { (void)readCxi("notes.cxi"); }, "notes.cxi", "", {"not an HDF5 file"});
}

TEST(CxiBadFile, TruncatedFileIsAClearErrorNotACrash) {
  writeScan(makeScan(), "cut.cxi");
  const auto size = std::filesystem::file_size("cut.cxi");
  std::filesystem::resize_file("cut.cxi", size / 2);
  testing::internal::CaptureStderr();
  const std::string message =
      expectInputError([] { (void)readScan("cut.cxi"); }, "cut.cxi", "", {"truncated"});
  // Users see our message, not HDF5's error-stack dump.
  EXPECT_EQ(testing::internal::GetCapturedStderr().find("HDF5-DIAG"), std::string::npos);
  EXPECT_EQ(message.find("HDF5-DIAG"), std::string::npos);
}

// --- frames ---------------------------------------------------------------------------------

TEST(CxiBadFrames, MissingFramesListsThePlacesSearched) {
  RawScan raw;
  raw.framesAt = "/entry_1/data_1/frames";  // not where anyone looks
  raw.framesLinkAt = "";
  readError(raw, "/entry_1/data_1/data",
            {"no diffraction frames", "/entry_1/data_1/data", kDetectorData});
}

TEST(CxiBadFrames, WrongRank) {
  RawScan raw;
  raw.frameShape = {kFrames, kSize * kSize};
  readError(raw, "/entry_1/data_1/data", {"3-D", "5 x 64"});
}

TEST(CxiBadFrames, NotSquare) {
  RawScan raw;
  raw.frameShape = {kFrames, 8, 6};
  readError(raw, "/entry_1/data_1/data", {"square", "8 x 6"});
}

TEST(CxiBadFrames, ZeroFrames) {
  RawScan raw;
  raw.frameShape = {0, kSize, kSize};
  raw.translationShape = {0, 3};
  readError(raw, "/entry_1/data_1/data", {"no frames"});
}

TEST(CxiBadFrames, NanInfAndNegativeIntensitiesAreCountedWithTheFirstFrame) {
  RawScan raw;
  raw.intensities = raw.frameValues();
  const std::size_t frame = kSize * kSize;
  raw.intensities[2 * frame + 5] = std::numeric_limits<double>::quiet_NaN();
  raw.intensities[3 * frame + 1] = -4.0;
  raw.intensities[4 * frame] = std::numeric_limits<double>::infinity();
  raw.intensities[4 * frame + 9] = -1.0;
  readError(raw, "/entry_1/data_1/data",
            {"1 NaN", "1 infinite", "2 negative", "first in frame 2", "mask"});
}

TEST(CxiBadFrames, AbsurdShapeIsRejectedBeforeAllocating) {
  RawScan raw;
  raw.hugeFramesWithoutData = true;
  raw.frameShape = {hsize_t{1} << 20U, 4096, 4096};  // 2^44 elements, nothing stored
  readError(raw, "/entry_1/data_1/data", {"too large"});
}

TEST(CxiBadFrames, ShapeWhoseProductOverflowsIsRejected) {
  RawScan raw;
  raw.hugeFramesWithoutData = true;
  raw.frameShape = {hsize_t{1} << 30U, hsize_t{1} << 30U, hsize_t{1} << 30U};  // 2^90
  readError(raw, "/entry_1/data_1/data", {"too large"});
}

// --- translations ---------------------------------------------------------------------------

TEST(CxiBadTranslations, CountDiffersFromFrames) {
  RawScan raw;
  raw.translationShape = {kFrames - 1, 3};
  readError(raw, kTranslation, {"4 translations for 5 frames"});
}

TEST(CxiBadTranslations, NotNBy3) {
  RawScan raw;
  raw.translationShape = {kFrames, 4};
  readError(raw, kTranslation, {"N x 3", "5 x 4"});
  raw.translationShape = {kFrames};
  raw.translations.assign(kFrames, 0.0);
  readError(raw, kTranslation, {"N x 3"});
}

TEST(CxiBadTranslations, MissingListsThePlacesSearched) {
  RawScan raw;
  raw.translationsAt = "";
  readError(raw, "/entry_1/data_1/translation",
            {"no sample translations", kTranslation, kDetectorPath + "translation"});
}

TEST(CxiBadTranslations, MicrometresInsteadOfMetres) {
  RawScan raw;
  raw.translations = raw.translationValues();
  for (double& t : raw.translations) {
    t *= 1e6;
  }
  readError(raw, kTranslation, {"object pixels", "in metres?"});
}

TEST(CxiBadTranslations, NotFinite) {
  RawScan raw;
  raw.translations = raw.translationValues();
  raw.translations[4] = std::numeric_limits<double>::quiet_NaN();
  readError(raw, kTranslation, {"finite"});
}

// --- geometry -------------------------------------------------------------------------------

TEST(CxiBadGeometry, MissingOrNonPositiveDistance) {
  RawScan raw;
  raw.distance.reset();
  readError(raw, kDetectorPath + "distance", {"missing", "detector distance"});
  raw.distance = 0.0;
  readError(raw, kDetectorPath + "distance", {"positive", "found 0"});
  raw.distance = -1.0;
  readError(raw, kDetectorPath + "distance", {"positive", "found -1"});
}

TEST(CxiBadGeometry, MissingOrNonPositivePixelSize) {
  RawScan raw;
  raw.pixelX = 0.0;
  readError(raw, kDetectorPath + "x_pixel_size", {"positive"});
  raw.pixelX = kPixel;
  raw.pixelY.reset();
  readError(raw, kDetectorPath + "y_pixel_size", {"missing"});
  raw.pixelY = std::numeric_limits<double>::quiet_NaN();
  readError(raw, kDetectorPath + "y_pixel_size", {"positive"});
}

TEST(CxiBadGeometry, MissingOrNonPositiveEnergyAndWavelength) {
  RawScan raw;
  raw.energy.reset();
  readError(raw, kSourcePath + "energy", {"missing", "joules", kSourcePath + "wavelength"});
  raw.energy = -kEnergy;
  readError(raw, kSourcePath + "energy", {"positive"});
  raw.energy.reset();
  raw.wavelength = 0.0;
  readError(raw, kSourcePath + "wavelength", {"positive"});
}

TEST(CxiBadGeometry, EnergyInElectronvoltsIsCaught) {
  RawScan raw;
  raw.energy = 8000.0;
  readError(raw, kSourcePath + "energy", {"joules", "electronvolts"});
}

// --- optional parts -------------------------------------------------------------------------

TEST(CxiBadOptional, MaskShapeDiffersFromFrames) {
  RawScan raw;
  raw.maskShape = {kSize, kSize + 1};
  raw.mask.assign(kSize * (kSize + 1), 0.0);
  readError(raw, kDetectorPath + "mask", {"8 x 9", "frames are 8 x 8"});
}

TEST(CxiBadOptional, ProbeShapeDiffersFromFrames) {
  RawScan raw;
  raw.probeAt = kSourcePath + "illumination";
  raw.probeShape = {kSize / 2, kSize / 2};
  raw.probe.assign(kSize * kSize / 4, cfloat{1.0F, 0.0F});
  readError(raw, kSourcePath + "illumination", {"probe is 4 x 4", "frames are 8 x 8"});
}

TEST(CxiBadOptional, ProbeThatIsNotComplex) {
  RawScan raw;
  raw.write("string_probe.cxi");
  {
    const hid_t file = H5Fopen("string_probe.cxi", H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 4);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t ds = H5Dcreate2(file, (kSourcePath + "probe").c_str(), type, space, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abcd");
    H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
  }
  expectInputError([] { (void)readScan("string_probe.cxi"); }, "string_probe.cxi",
                   kSourcePath + "probe", {"expected complex numbers"});
}

TEST(CxiBadOptional, MonitorWithWrongCountOrZeros) {
  RawScan raw;
  raw.monitor = std::vector<double>{1.0, 1.0};
  readError(raw, "/entry_1/data_1/monitor", {"one value per frame"});
  raw.monitor = std::vector<double>{1.0, 1.0, 0.0, 1.0, 1.0};
  readError(raw, "/entry_1/data_1/monitor", {"positive", "frame 2"});
}

TEST(CxiBadOptional, ProbeAndObjectFilesWithoutThem) {
  RawScan().write("no_probe.cxi");
  expectInputError([] { (void)readProbeFile("no_probe.cxi"); }, "no_probe.cxi",
                   "/entry_1/image_1/data", {"no probe", "source_1/probe"});
  expectInputError([] { (void)readObjectFile("no_probe.cxi"); }, "no_probe.cxi",
                   "/entry_1/image_2/data", {"no object"});
  expectInputError([] { (void)readResult("no_probe.cxi"); }, "no_probe.cxi",
                   "/entry_1/image_2/data", {"not a reconstruction result"});
  expectInputError([] { (void)readObjectFile("nowhere.cxi"); }, "nowhere.cxi", "",
                   {"no such file"});
}

// --- writers leave nothing behind ------------------------------------------------------------

TEST(CxiWriterFailure, MissingDirectoryThrowsAndLeavesNoTemporary) {
  const auto directory = freshDirectory("writes");
  EXPECT_THROW(writeScan(makeScan(), (directory / "missing" / "scan.cxi").string()), Error);
  EXPECT_THROW(writeResult(Reconstruction{}, (directory / "missing" / "r.cxi").string()), Error);
  EXPECT_TRUE(filesIn(directory).empty());
}

TEST(CxiWriterFailure, InconsistentScanIsRefusedWithoutAFile) {
  const auto directory = freshDirectory("inconsistent");
  Scan scan = makeScan();
  scan.positions.pop_back();
  try {
    writeScan(scan, (directory / "scan.cxi").string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 positions for 5 frames"), std::string::npos);
  }
  EXPECT_TRUE(filesIn(directory).empty());
}

TEST(CxiWriterFailure, ResultFailingMidwayLeavesNoFile) {
  const auto directory = freshDirectory("midway");
  Reconstruction result;
  result.probe = complexImage(kSize, kSize, 1.0F);  // written first...
  // ...then the object is found empty, with the file already half written.
  try {
    writeResult(result, (directory / "result.cxi").string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/entry_1/image_2/data: the object is empty"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(filesIn(directory).empty());
}

TEST(CxiWriterFailure, FailedOverwriteKeepsTheOldFile) {
  const auto directory = freshDirectory("overwrite");
  const std::string target = (directory / "result.cxi").string();
  Reconstruction good;
  good.object = complexImage(4, 4, 0.5F);
  good.probe = complexImage(kSize, kSize, 1.0F);
  writeResult(good, target);
  const std::string before = fileSha256(target);

  Reconstruction bad = good;
  bad.object = {};
  EXPECT_THROW(writeResult(bad, target), Error);
  EXPECT_EQ(fileSha256(target), before);
  EXPECT_EQ(filesIn(directory), std::set<std::string>{"result.cxi"});
  EXPECT_EQ(readObjectFile(target), good.object);
}

}  // namespace
}  // namespace ptyx
