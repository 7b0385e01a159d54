// CXI scans: the reader with the usual fallbacks of real files (DESIGN.md §4) and the writer the
// simulator uses.
//
// Position convention. A CXI translation t is the translation of the SAMPLE (metres; x along
// detector columns, y along rows). Moving the sample by +t moves the illuminated spot over the
// object by -t, so the probe centre of frame j sits at object coordinate -t_j:
//
//     Position{row = -t_y / objectPixelSizeY, col = -t_x / objectPixelSizeX}
//
// with object pixel sizes lambda z / (M p_y) and lambda z / (M p_x). ReadOptions adapt files
// written with another orientation: swapXY exchanges t_x and t_y first, then flipX and flipY
// negate t_x and t_y. The writer applies the exact inverse (t_x = -col * psize_x, ...), so
// simulate -> write -> read gives back the positions the simulator used.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <utility>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "io/Cxi.hpp"
#include "io/Hdf5.hpp"
#include "io/SwmrScan.hpp"

namespace ptyx::cxi {
namespace {

/// Positions spreading over more object pixels than this are a unit mistake (micrometres
/// written as metres), not a scan anyone can reconstruct.
constexpr double kMaxPositionExtent = 65536.0;
/// About 6 MeV: a larger "energy in joules" is almost surely eV or keV written by mistake.
constexpr double kMaxPhotonEnergy_J = 1e-12;

std::string number(double value) {
  std::ostringstream text;
  text.precision(6);
  text << value;
  return text.str();
}

template <std::size_t N>
std::string firstDataset(const h5::InFile& file, const std::array<const char*, N>& candidates) {
  for (const char* candidate : candidates) {
    if (file.hasDataset(candidate)) {
      return candidate;
    }
  }
  return {};
}

template <std::size_t N>
std::string listed(const std::array<const char*, N>& candidates) {
  std::string text;
  for (const char* candidate : candidates) {
    text += (text.empty() ? "" : ", ") + std::string(candidate);
  }
  return text;
}

double readPositive(const h5::InFile& file, const std::string& dataset, const std::string& what) {
  if (!file.hasDataset(dataset)) {
    file.fail(dataset, "missing (the " + what + " is required)");
  }
  const double value = file.readScalar(dataset);
  if (!std::isfinite(value) || value <= 0.0) {
    file.fail(dataset, "the " + what + " must be a positive number, found " + number(value));
  }
  return value;
}

struct FrameShape {
  std::size_t count = 0;
  std::size_t size = 0;  ///< M of M x M
};

FrameShape readFrameShape(const h5::InFile& file, const std::string& dataset) {
  const auto shape = file.shape(dataset);
  if (shape.size() != 3) {
    file.fail(dataset, "frames must be a 3-D stack N x M x M, found shape " + h5::shapeText(shape));
  }
  if (shape[0] == 0) {
    file.fail(dataset, "contains no frames (shape " + h5::shapeText(shape) + ")");
  }
  if (shape[1] != shape[2]) {
    file.fail(dataset, "frames must be square, found " + std::to_string(shape[1]) + " x " +
                           std::to_string(shape[2]) + " pixels");
  }
  if (shape[1] == 0) {
    file.fail(dataset, "frames have no pixels (shape " + h5::shapeText(shape) + ")");
  }
  return {static_cast<std::size_t>(shape[0]), static_cast<std::size_t>(shape[1])};
}

void checkIntensities(const h5::InFile& file, const std::string& dataset,
                      const Stack<float>& intensities) {
  std::size_t nan = 0;
  std::size_t infinite = 0;
  std::size_t negative = 0;
  std::size_t firstFrame = intensities.count();
  for (std::size_t j = 0; j < intensities.count(); ++j) {
    for (const float value : intensities.frame(j)) {
      if (value >= 0.0F && std::isfinite(value)) {
        continue;
      }
      (std::isnan(value) ? nan : std::isinf(value) ? infinite : negative) += 1;
      firstFrame = std::min(firstFrame, j);
    }
  }
  if (nan + infinite + negative == 0) {
    return;
  }
  std::string counts;
  const auto add = [&counts](std::size_t n, const char* kind) {
    if (n > 0) {
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
    }
  };
  add(nan, "NaN");
  add(infinite, "infinite");
  add(negative, "negative");
  file.fail(dataset, "intensities must be finite and non-negative: " + counts +
                         " (first in frame " + std::to_string(firstFrame) +
                         "); mark bad pixels in the detector mask instead");
}

/// Rescales frame j by mean(monitor) / monitor_j, so that beam-intensity drift does not look
/// like object contrast.
void normaliseByMonitor(const h5::InFile& file, Stack<float>& intensities) {
  if (!file.hasDataset(kMonitor)) {
    return;
  }
  const auto monitor = file.readReal(kMonitor);
  if (monitor.values.size() != intensities.count()) {
    file.fail(kMonitor, "expected one value per frame (" + std::to_string(intensities.count()) +
                            "), found shape " + h5::shapeText(monitor.shape));
  }
  double sum = 0.0;
  for (std::size_t j = 0; j < monitor.values.size(); ++j) {
    const double m = monitor.values[j];
    if (!std::isfinite(m) || m <= 0.0) {
      file.fail(kMonitor, "monitor values must be positive, found " + number(m) + " for frame " +
                              std::to_string(j));
    }
    sum += m;
  }
  const double mean = sum / static_cast<double>(monitor.values.size());
  for (std::size_t j = 0; j < intensities.count(); ++j) {
    const auto factor = static_cast<float>(mean / monitor.values[j]);
    for (float& value : intensities.frame(j)) {
      value *= factor;
    }
  }
}

double readWavelength(const h5::InFile& file) {
  if (file.hasDataset(kEnergy)) {
    const double energy = readPositive(file, kEnergy, "photon energy (J)");
    if (energy > kMaxPhotonEnergy_J) {
      file.fail(kEnergy, "a photon energy of " + number(energy) +
                             " J is implausible: CXI stores joules, not electronvolts "
                             "(8 keV is 1.2817e-15 J)");
    }
    return kPlanckTimesLight / energy;
  }
  if (file.hasDataset(kWavelength)) {
    return readPositive(file, kWavelength, "wavelength (m)");
  }
  file.fail(kEnergy, std::string("missing: the source needs a photon energy in joules (") +
                         kEnergy + ") or a wavelength in metres (" + kWavelength + ")");
}

std::vector<Position> readPositions(const h5::InFile& file, const std::string& framesPath,
                                    FrameShape frames, const DetectorGeometry& geometry,
                                    const ReadOptions& options) {
  const std::string dataset = firstDataset(file, kTranslationPaths);
  if (dataset.empty()) {
    file.fail(kTranslationPaths[0],
              "no sample translations; looked for " + listed(kTranslationPaths));
  }
  const auto translations = file.readReal(dataset);
  auto positions =
      positionsFromTranslations(file, dataset, translations, frames.size, geometry, options);
  if (positions.size() != frames.count) {
    file.fail(dataset, std::to_string(positions.size()) + " translations for " +
                           std::to_string(frames.count) + " frames in " + framesPath);
  }
  return positions;
}

Image<std::uint8_t> readMask(const h5::InFile& file, std::size_t frameSize) {
  if (!file.hasDataset(kMask)) {
    return {};
  }
  const auto flags = file.readReal(kMask);
  if (flags.shape != std::vector<hsize_t>{frameSize, frameSize}) {
    file.fail(kMask, "the mask is " + h5::shapeText(flags.shape) + " but frames are " +
                         std::to_string(frameSize) + " x " + std::to_string(frameSize));
  }
  Image<std::uint8_t> mask(frameSize, frameSize);
  std::transform(flags.values.begin(), flags.values.end(), mask.span().begin(),
                 [](double flag) { return static_cast<std::uint8_t>(flag != 0.0 ? 1 : 0); });
  return mask;
}

std::optional<Image<cfloat>> readProbe(const h5::InFile& file, std::size_t frameSize) {
  const std::string dataset = firstDataset(file, kIlluminationPaths);
  if (dataset.empty()) {
    return std::nullopt;
  }
  Image<cfloat> probe = readComplexImage(file, dataset);
  if (probe.rows() != frameSize || probe.cols() != frameSize) {
    file.fail(dataset, "the probe is " + std::to_string(probe.rows()) + " x " +
                           std::to_string(probe.cols()) + " but frames are " +
                           std::to_string(frameSize) + " x " + std::to_string(frameSize));
  }
  return probe;
}

std::optional<GroundTruth> readTruth(const h5::InFile& file) {
  if (!file.hasGroup(kTruth)) {
    return std::nullopt;
  }
  const std::string group = kTruth;
  GroundTruth truth;
  truth.object = readComplexImage(file, group + "/object");
  truth.probe = readComplexImage(file, group + "/probe");
  truth.objectPixelSize_m =
      readPositive(file, group + "/object_pixel_size", "ground-truth object pixel size (m)");
  const std::string originPath = group + "/translation_origin_pixel";
  const auto origin = file.readReal(originPath);
  if (origin.values.size() != 2 || !std::isfinite(origin.values[0]) ||
      !std::isfinite(origin.values[1])) {
    file.fail(originPath,
              "expected two finite numbers (row, col), found shape " + h5::shapeText(origin.shape));
  }
  truth.translationOrigin = Position{origin.values[0], origin.values[1]};
  return truth;
}

}  // namespace

Image<cfloat> readComplexImage(const h5::InFile& file, const std::string& dataset) {
  const auto data = file.readComplex(dataset);
  const auto& shape = data.shape;
  if (shape.size() != 2 && shape.size() != 3) {
    file.fail(dataset, "expected a 2-D complex image or a 3-D stack of modes, found shape " +
                           h5::shapeText(shape));
  }
  if (shape.size() == 3 && shape[0] == 0) {
    file.fail(dataset, "holds no modes (shape " + h5::shapeText(shape) + ")");
  }
  // Mode 0 is the first rows x cols block of the stack.
  Image<cfloat> image(shape[shape.size() - 2], shape[shape.size() - 1]);
  std::copy_n(data.values.begin(), image.size(), image.span().begin());
  return image;
}

std::vector<Position> positionsFromTranslations(const h5::InFile& file, const std::string& dataset,
                                                const h5::Data<double>& translations,
                                                std::size_t frameSize,
                                                const DetectorGeometry& geometry,
                                                const ReadOptions& options) {
  const auto& shape = translations.shape;
  if (shape.size() != 2 || (shape[1] != 3 && shape[1] != 2)) {
    file.fail(dataset,
              "translations must be N x 3 (x, y, z in metres) or N x 2 (x, y), found "
              "shape " +
                  h5::shapeText(shape));
  }
  const auto count = static_cast<std::size_t>(shape[0]);
  const auto columns = static_cast<std::size_t>(shape[1]);
  const double psizeY = objectPixelSize(geometry, frameSize, geometry.pixelSizeY_m);
  const double psizeX = objectPixelSize(geometry, frameSize, geometry.pixelSizeX_m);
  std::vector<Position> positions(count);
  for (std::size_t j = 0; j < count; ++j) {
    double tx = translations.values[j * columns];
    double ty = translations.values[j * columns + 1];
    if (options.swapXY) {
      std::swap(tx, ty);
    }
    if (options.flipX) {
      tx = -tx;
    }
    if (options.flipY) {
      ty = -ty;
    }
    positions[j] = Position{-ty / psizeY, -tx / psizeX};
  }
  if (positions.empty()) {
    return positions;
  }
  const auto [rowMin, rowMax] = std::minmax_element(positions.begin(), positions.end(),
                                                    [](auto a, auto b) { return a.row < b.row; });
  const auto [colMin, colMax] = std::minmax_element(positions.begin(), positions.end(),
                                                    [](auto a, auto b) { return a.col < b.col; });
  const double rowExtent = rowMax->row - rowMin->row;
  const double colExtent = colMax->col - colMin->col;
  const bool finite = std::all_of(positions.begin(), positions.end(), [](const Position& p) {
    return std::isfinite(p.row) && std::isfinite(p.col);
  });
  if (!finite || !(rowExtent <= kMaxPositionExtent) || !(colExtent <= kMaxPositionExtent)) {
    file.fail(dataset, "positions span " + number(rowExtent) + " x " + number(colExtent) +
                           " object pixels of " + number(psizeY) + " x " + number(psizeX) +
                           " m (at most " + number(kMaxPositionExtent) +
                           " expected, all finite): are the translations in metres?");
  }
  return positions;
}

Scan readScanHeader(const h5::InFile& file, std::size_t frameSize) {
  Scan scan;
  scan.geometry.distance_m = readPositive(file, kDistance, "detector distance (m)");
  scan.geometry.pixelSizeX_m = readPositive(file, kPixelSizeX, "detector pixel size (m)");
  scan.geometry.pixelSizeY_m = readPositive(file, kPixelSizeY, "detector pixel size (m)");
  scan.geometry.wavelength_m = readWavelength(file);
  scan.mask = readMask(file, frameSize);
  scan.probe = readProbe(file, frameSize);
  scan.truth = readTruth(file);
  scan.sourcePath = file.path();
  return scan;
}

bool ScanReader::canRead(const std::string& path) const {
  h5::silenceErrorPrinting();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    h5::takeErrorReason();
    return false;
  }
  try {
    const h5::InFile file(path);
    return file.hasGroup("/entry_1");
  } catch (const InputError&) {
    return true;  // HDF5 but damaged (truncated, say): read() explains what is wrong
  }
}

namespace {

/// Opens a scan file; a growing scan that a writer still holds (or left unfinished) is named as
/// such, with what to do, instead of HDF5's "already open for write".
h5::InFile openScanFile(const std::string& path) {
  try {
    return h5::InFile(path);
  } catch (const InputError& e) {
    if (!e.field().empty() || !isGrowingScan(path)) throw;
    throw InputError(path, swmr::kGroup,
                     "a growing scan that is still being written (or whose writer stopped before "
                     "finishing): reconstruct it while it grows with `ptyx recon --follow` "
                     "(File > Follow growing scan... in the workbench)");
  }
}

}  // namespace

Scan ScanReader::read(const std::string& path, const ReadOptions& options) const {
  const h5::InFile file = openScanFile(path);

  const std::string framesPath = firstDataset(file, kFramePaths);
  if (framesPath.empty()) {
    file.fail(kFramePaths[0], "no diffraction frames; looked for " + listed(kFramePaths));
  }
  const FrameShape frames = readFrameShape(file, framesPath);

  Scan scan;
  scan.geometry.distance_m = readPositive(file, kDistance, "detector distance (m)");
  scan.geometry.pixelSizeX_m = readPositive(file, kPixelSizeX, "detector pixel size (m)");
  scan.geometry.pixelSizeY_m = readPositive(file, kPixelSizeY, "detector pixel size (m)");
  scan.geometry.wavelength_m = readWavelength(file);
  scan.positions = readPositions(file, framesPath, frames, scan.geometry, options);
  scan.mask = readMask(file, frames.size);
  scan.probe = readProbe(file, frames.size);
  scan.truth = readTruth(file);

  // The frames last: by far the largest read, done once everything else is known to be sane.
  Stack<float> intensities(frames.count, frames.size, frames.size);
  file.readRealInto(framesPath, intensities.span());
  checkIntensities(file, framesPath, intensities);
  normaliseByMonitor(file, intensities);
  for (float& value : intensities.span()) {
    value = std::sqrt(value);
  }
  scan.magnitudes = std::move(intensities);

  scan.sourcePath = path;
  scan.sourceHash = fileSha256(path);
  return scan;
}

namespace {

void requirePositive(const std::string& path, const char* field, double value) {
  if (!std::isfinite(value) || value <= 0.0) {
    throw Error(path + ": " + field + ": must be positive to write a CXI scan, got " +
                number(value));
  }
}

void validateForWriting(const Scan& scan, const std::string& path) {
  const std::size_t count = scan.frameCount();
  const std::size_t size = scan.frameSize();
  const auto fail = [&path](const char* field, const std::string& what) {
    throw Error(path + ": " + field + ": " + what);
  };
  if (count == 0 || size == 0) {
    fail("frames", "the scan has no frames to write");
  }
  if (scan.magnitudes.cols() != size) {
    fail("frames", "frames must be square");
  }
  if (scan.positions.size() != count) {
    fail("positions", std::to_string(scan.positions.size()) + " positions for " +
                          std::to_string(count) + " frames");
  }
  requirePositive(path, "distance", scan.geometry.distance_m);
  requirePositive(path, "x_pixel_size", scan.geometry.pixelSizeX_m);
  requirePositive(path, "y_pixel_size", scan.geometry.pixelSizeY_m);
  requirePositive(path, "wavelength", scan.geometry.wavelength_m);
  if (!scan.mask.empty() && (scan.mask.rows() != size || scan.mask.cols() != size)) {
    fail("mask", "the mask does not match the frame size");
  }
  if (scan.probe && (scan.probe->rows() != size || scan.probe->cols() != size)) {
    fail("probe", "the probe does not match the frame size");
  }
}

std::vector<hsize_t> shapeOf(const Image<cfloat>& image) {
  return {image.rows(), image.cols()};
}

}  // namespace

void ScanWriter::write(const Scan& scan, const std::string& path) const {
  validateForWriting(scan, path);
  const std::size_t count = scan.frameCount();
  const std::size_t size = scan.frameSize();

  // Store what the reader will recompute (lambda = h c / E round-trips to within an ulp), so
  // that translations convert back to exactly these positions.
  const double energy = kPlanckTimesLight / scan.geometry.wavelength_m;
  DetectorGeometry stored = scan.geometry;
  stored.wavelength_m = kPlanckTimesLight / energy;
  const double psizeY = objectPixelSize(stored, size, stored.pixelSizeY_m);
  const double psizeX = objectPixelSize(stored, size, stored.pixelSizeX_m);

  AtomicFile atomic(path);
  h5::OutFile out(atomic.tempPath(), path);
  out.writeScalar("/cxi_version", std::int32_t{kVersionWritten});
  out.group("/entry_1", "NXentry");
  out.group("/entry_1/instrument_1", "NXinstrument");
  out.group(kDetector, "NXdetector");

  const std::string frames = std::string(kDetector) + "/data";
  std::vector<float> intensities(scan.magnitudes.size());
  std::transform(scan.magnitudes.span().begin(), scan.magnitudes.span().end(), intensities.begin(),
                 [](float a) { return a * a; });
  out.write(frames, std::span<const float>(intensities), {count, size, size}, true);
  out.attribute(frames, "axes", "translation:y:x");
  out.writeScalar(kDistance, stored.distance_m);
  out.writeScalar(kPixelSizeX, stored.pixelSizeX_m);
  out.writeScalar(kPixelSizeY, stored.pixelSizeY_m);
  if (!scan.mask.empty()) {
    // CXI masks are 32-bit flags; bit 0 means "invalid pixel".
    std::vector<std::uint32_t> flags(scan.mask.size());
    std::transform(scan.mask.span().begin(), scan.mask.span().end(), flags.begin(),
                   [](std::uint8_t bad) { return bad != 0 ? 1U : 0U; });
    out.write(kMask, std::span<const std::uint32_t>(flags), {size, size});
  }

  out.group("/entry_1/instrument_1/source_1", "NXsource");
  out.writeScalar(kEnergy, energy);
  if (scan.probe) {
    out.write(kIlluminationPaths[0], scan.probe->span(), shapeOf(*scan.probe));
  }

  out.group("/entry_1/sample_1", "NXsample");
  out.group("/entry_1/sample_1/geometry_1", "NXgeometry");
  std::vector<double> translations(3 * count);
  for (std::size_t j = 0; j < count; ++j) {
    translations[3 * j] = -scan.positions[j].col * psizeX;
    translations[3 * j + 1] = -scan.positions[j].row * psizeY;
    translations[3 * j + 2] = 0.0;
  }
  out.write(kTranslationPaths[1], std::span<const double>(translations), {count, 3});

  out.group("/entry_1/data_1", "NXdata");
  out.softLink(frames, kFramePaths[0]);
  out.softLink(kTranslationPaths[1], kTranslationPaths[0]);

  if (scan.truth) {
    const GroundTruth& truth = *scan.truth;
    const std::string group = kTruth;
    out.group(group, "NXcollection");
    out.write(group + "/object", truth.object.span(), shapeOf(truth.object));
    out.write(group + "/probe", truth.probe.span(), shapeOf(truth.probe));
    out.writeScalar(group + "/object_pixel_size", truth.objectPixelSize_m);
    const std::array<double, 2> origin = {truth.translationOrigin.row, truth.translationOrigin.col};
    out.write(group + "/translation_origin_pixel", std::span<const double>(origin), {2});
  }

  out.close();
  atomic.commit();
}

}  // namespace ptyx::cxi
