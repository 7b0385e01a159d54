// Growing scans with HDF5 SWMR. The ordering that keeps readers safe:
//   writer: frames and translations extended, written and flushed -> arrival times written ->
//           frames_complete raised and flushed; at the end scan_complete set and flushed.
//   reader: refresh scan_complete, then frames_complete, then the extents of the growing
//           datasets; it uses min(frames_complete, extents) frames.
// A frame below the published count was flushed before the count was, so a reader never sees
// one half written; reading the marker before the count means that a reader that sees
// "complete" also sees the final count.
#include "io/SwmrScan.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>

#include "core/Error.hpp"
#include "io/Cxi.hpp"
#include "io/Hdf5.hpp"

namespace ptyx {
namespace {

const std::string kFrames = std::string(cxi::kDetector) + "/data";
const std::string kTranslation = cxi::kTranslationPaths[1];

std::vector<double> translationsOf(std::span<const Position> positions, double psizeY,
                                   double psizeX) {
  // The inverse of the reader's convention (CxiScan.cpp): t = -position * pixel size.
  std::vector<double> t(3 * positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    t[3 * j] = -positions[j].col * psizeX;
    t[3 * j + 1] = -positions[j].row * psizeY;
    t[3 * j + 2] = 0.0;
  }
  return t;
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer

struct SwmrScanWriter::State {
  std::string path;
  std::unique_ptr<h5::OutFile> out;
  h5::Dataset frames;
  h5::Dataset translation;
  h5::Dataset frameTime;
  h5::Dataset framesComplete;
  h5::Dataset scanComplete;
  std::size_t frameSize = 0;
  std::size_t planned = 0;
  double psizeY = 0.0;
  double psizeX = 0.0;
  std::size_t published = 0;
  std::size_t staged = 0;  // frames written, published or not
  bool finished = false;

  void check(herr_t status, const std::string& dataset, const std::string& what) const {
    if (status < 0) {
      const std::string reason = h5::takeErrorReason();
      throw Error(path + ": " + dataset + ": " + what +
                  (reason.empty() ? "" : " (HDF5: " + reason + ")"));
    }
  }

  h5::Dataset extensible(const std::string& name, hid_t type, std::vector<hsize_t> dims,
                         std::vector<hsize_t> chunk) const {
    std::vector<hsize_t> maxDims = dims;
    maxDims.front() = H5S_UNLIMITED;
    const h5::Dataspace space(
        H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxDims.data()));
    const h5::PropertyList create(H5Pcreate(H5P_DATASET_CREATE));
    check(space.get() < 0 || create.get() < 0 ? -1 : 0, name, "cannot set up the dataset");
    check(H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()), name,
          "cannot set the chunk shape");
    h5::Dataset ds(H5Dcreate2(out->handle(), name.c_str(), type, space.get(), H5P_DEFAULT,
                              create.get(), H5P_DEFAULT));
    check(ds.get() < 0 ? -1 : 0, name, "cannot create the dataset");
    return ds;
  }

  h5::Dataset scalar(const std::string& name, hid_t fileType, hid_t memType,
                     const void* value) const {
    const h5::Dataspace space(H5Screate(H5S_SCALAR));
    h5::Dataset ds(H5Dcreate2(out->handle(), name.c_str(), fileType, space.get(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT));
    check(ds.get() < 0 ? -1 : 0, name, "cannot create the dataset");
    check(H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, value), name,
          "cannot be written");
    return ds;
  }

  // Grows `ds` (leading dimension) to `rows` and writes `values` into rows [first, rows).
  void writeRows(const h5::Dataset& ds, const std::string& name, hid_t memType, const void* values,
                 std::size_t first, std::size_t rows, std::vector<hsize_t> rowShape) const {
    std::vector<hsize_t> dims{rows};
    dims.insert(dims.end(), rowShape.begin(), rowShape.end());
    check(H5Dset_extent(ds.get(), dims.data()), name, "cannot be extended");
    const h5::Dataspace fileSpace(H5Dget_space(ds.get()));
    std::vector<hsize_t> start(dims.size(), 0);
    start.front() = first;
    std::vector<hsize_t> count = dims;
    count.front() = rows - first;
    check(fileSpace.get() < 0 ? -1
                              : H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(),
                                                    nullptr, count.data(), nullptr),
          name, "cannot select the new rows");
    const h5::Dataspace memSpace(
        H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    check(H5Dwrite(ds.get(), memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, values), name,
          "cannot be written");
  }
};

SwmrScanWriter::SwmrScanWriter(const std::string& path, const Scan& header, double rate)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  const auto& g = header.geometry;
  const std::size_t m =
      header.probe ? header.probe->rows() : (header.truth ? header.truth->probe.rows() : 0);
  s.frameSize = header.frameSize() > 0 ? header.frameSize() : m;
  s.planned = header.positions.size();
  if (s.frameSize == 0) throw Error(path + ": frames: the frame size is unknown");
  if (s.planned == 0) throw Error(path + ": positions: the planned scan has no positions");
  if (!(g.distance_m > 0.0 && g.pixelSizeX_m > 0.0 && g.pixelSizeY_m > 0.0 &&
        g.wavelength_m > 0.0)) {
    throw Error(path + ": geometry: distance, pixel sizes and wavelength must be positive");
  }
  // Store what the reader will recompute (see CxiScan.cpp), so positions round-trip.
  const double energy = cxi::kPlanckTimesLight / g.wavelength_m;
  DetectorGeometry stored = g;
  stored.wavelength_m = cxi::kPlanckTimesLight / energy;
  s.psizeY = objectPixelSize(stored, s.frameSize, stored.pixelSizeY_m);
  s.psizeX = objectPixelSize(stored, s.frameSize, stored.pixelSizeX_m);

  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // a new acquisition replaces the previous file
  s.out = std::make_unique<h5::OutFile>(path, path, true);
  h5::OutFile& out = *s.out;
  out.writeScalar("/cxi_version", std::int32_t{cxi::kVersionWritten});
  out.group("/entry_1", "NXentry");
  out.group("/entry_1/instrument_1", "NXinstrument");
  out.group(cxi::kDetector, "NXdetector");
  out.writeScalar(cxi::kDistance, stored.distance_m);
  out.writeScalar(cxi::kPixelSizeX, stored.pixelSizeX_m);
  out.writeScalar(cxi::kPixelSizeY, stored.pixelSizeY_m);
  const hsize_t mm = s.frameSize;
  if (!header.mask.empty()) {
    std::vector<std::uint32_t> flags(header.mask.size());
    std::transform(header.mask.span().begin(), header.mask.span().end(), flags.begin(),
                   [](std::uint8_t bad) { return bad != 0 ? 1U : 0U; });
    out.write(cxi::kMask, std::span<const std::uint32_t>(flags), {mm, mm});
  }
  out.group("/entry_1/instrument_1/source_1", "NXsource");
  out.writeScalar(cxi::kEnergy, energy);
  if (header.probe) {
    out.write(cxi::kIlluminationPaths[0], header.probe->span(), {mm, mm});
  }
  out.group("/entry_1/sample_1", "NXsample");
  out.group("/entry_1/sample_1/geometry_1", "NXgeometry");
  out.group("/entry_1/data_1", "NXdata");
  if (header.truth) {
    const GroundTruth& truth = *header.truth;
    const std::string group = cxi::kTruth;
    out.group(group, "NXcollection");
    out.write(group + "/object", truth.object.span(), {truth.object.rows(), truth.object.cols()});
    out.write(group + "/probe", truth.probe.span(), {truth.probe.rows(), truth.probe.cols()});
    out.writeScalar(group + "/object_pixel_size", truth.objectPixelSize_m);
    const std::array<double, 2> origin = {truth.translationOrigin.row, truth.translationOrigin.col};
    out.write(group + "/translation_origin_pixel", std::span<const double>(origin), {2});
  }
  out.group(swmr::kGroup, "NXcollection");
  const auto planned = translationsOf(header.positions, s.psizeY, s.psizeX);
  out.write(swmr::kPlannedTranslation, std::span<const double>(planned), {s.planned, 3});
  out.writeScalar(swmr::kFramesPlanned, static_cast<std::int32_t>(s.planned));
  out.writeScalar(swmr::kRate, rate);

  // The growing datasets: one frame per chunk, translations and times in chunks of 64 rows.
  s.frames = s.extensible(kFrames, H5T_IEEE_F32LE, {0, mm, mm}, {1, mm, mm});
  out.attribute(kFrames, "axes", "translation:y:x");
  s.translation = s.extensible(kTranslation, H5T_IEEE_F64LE, {0, 3}, {64, 3});
  s.frameTime = s.extensible(swmr::kFrameTime, H5T_IEEE_F64LE, {0}, {64});
  const std::int64_t zero64 = 0;
  const std::int32_t zero32 = 0;
  s.framesComplete = s.scalar(swmr::kFramesComplete, H5T_STD_I64LE, H5T_NATIVE_INT64, &zero64);
  s.scanComplete = s.scalar(swmr::kScanComplete, H5T_STD_I32LE, H5T_NATIVE_INT32, &zero32);
  out.softLink(kFrames, cxi::kFramePaths[0]);
  out.softLink(kTranslation, cxi::kTranslationPaths[0]);

  // From here on readers may open the file; no new objects or attributes can be created.
  s.check(H5Fstart_swmr_write(out.handle()), "", "cannot start SWMR writing");
}

SwmrScanWriter::~SwmrScanWriter() = default;

std::size_t SwmrScanWriter::framesWritten() const {
  return state_->published;
}

void SwmrScanWriter::stage(std::span<const float> magnitudes, std::span<const Position> positions) {
  State& s = *state_;
  if (s.finished) throw Error(s.path + ": the scan is already complete");
  const std::size_t pixels = s.frameSize * s.frameSize;
  const std::size_t k = positions.size();
  if (magnitudes.size() != k * pixels) {
    throw Error(s.path + ": frames: " + std::to_string(magnitudes.size()) + " values for " +
                std::to_string(k) + " frames of " + std::to_string(pixels) + " pixels");
  }
  if (k == 0) return;
  std::vector<float> intensities(magnitudes.size());
  std::transform(magnitudes.begin(), magnitudes.end(), intensities.begin(),
                 [](float a) { return a * a; });
  const hsize_t mm = s.frameSize;
  const std::size_t rows = s.staged + k;
  s.writeRows(s.frames, kFrames, H5T_NATIVE_FLOAT, intensities.data(), s.staged, rows, {mm, mm});
  const auto t = translationsOf(positions, s.psizeY, s.psizeX);
  s.writeRows(s.translation, kTranslation, H5T_NATIVE_DOUBLE, t.data(), s.staged, rows, {3});
  s.check(H5Dflush(s.frames.get()), kFrames, "cannot be flushed");
  s.check(H5Dflush(s.translation.get()), kTranslation, "cannot be flushed");
  s.staged = rows;
}

void SwmrScanWriter::publish() {
  State& s = *state_;
  if (s.staged == s.published) return;
  const std::vector<double> times(s.staged - s.published, unixNow());
  s.writeRows(s.frameTime, swmr::kFrameTime, H5T_NATIVE_DOUBLE, times.data(), s.published, s.staged,
              {});
  s.check(H5Dflush(s.frameTime.get()), swmr::kFrameTime, "cannot be flushed");
  const auto count = static_cast<std::int64_t>(s.staged);
  s.check(H5Dwrite(s.framesComplete.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &count),
          swmr::kFramesComplete, "cannot be written");
  s.check(H5Dflush(s.framesComplete.get()), swmr::kFramesComplete, "cannot be flushed");
  s.published = s.staged;
}

void SwmrScanWriter::append(std::span<const float> magnitudes,
                            std::span<const Position> positions) {
  stage(magnitudes, positions);
  publish();
}

void SwmrScanWriter::finish() {
  State& s = *state_;
  if (s.finished) return;
  publish();
  const std::int32_t one = 1;
  s.check(H5Dwrite(s.scanComplete.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &one),
          swmr::kScanComplete, "cannot be written");
  s.check(H5Dflush(s.scanComplete.get()), swmr::kScanComplete, "cannot be flushed");
  s.finished = true;
  s.frames = {};
  s.translation = {};
  s.frameTime = {};
  s.framesComplete = {};
  s.scanComplete = {};
  s.out->close();
}

// ---------------------------------------------------------------------------------------------
// Reader

struct SwmrScanReader::State {
  std::unique_ptr<h5::InFile> file;
  ReadOptions options;
  Scan header;
  std::string framesPath;
  std::string translationPath;
  h5::Dataset frames;
  h5::Dataset translation;
  h5::Dataset frameTime;
  h5::Dataset framesComplete;
  h5::Dataset scanComplete;
  std::size_t frameSize = 0;
  std::size_t planned = 0;
  std::size_t available = 0;
  std::size_t published = 0;
  bool markerSet = false;

  h5::Dataset open(const std::string& name) const {
    if (!file->hasDataset(name)) {
      file->fail(name, "missing (a growing scan written by `ptyx stream-replay` has it)");
    }
    h5::Dataset ds(H5Dopen2(file->handle(), name.c_str(), H5P_DEFAULT));
    if (ds.get() < 0) file->fail(name, "cannot be opened: " + h5::takeErrorReason());
    return ds;
  }

  void refresh(const h5::Dataset& ds, const std::string& name) const {
    if (H5Drefresh(ds.get()) < 0) file->fail(name, "cannot be refreshed: " + h5::takeErrorReason());
  }

  std::vector<hsize_t> dims(const h5::Dataset& ds, const std::string& name) const {
    const h5::Dataspace space(H5Dget_space(ds.get()));
    const int rank = space.get() < 0 ? -1 : H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) file->fail(name, "cannot read the shape: " + h5::takeErrorReason());
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    return d;
  }

  double readNumber(const h5::Dataset& ds, const std::string& name) const {
    if (!dims(ds, name).empty()) file->fail(name, "expected a single number");
    double value = 0.0;
    if (H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
      file->fail(name, "cannot be read: " + h5::takeErrorReason());
    }
    return value;
  }

  // Rows [first, first + count) of a dataset whose leading dimension grows.
  template <class T>
  std::vector<T> readRows(const h5::Dataset& ds, const std::string& name, hid_t memType,
                          std::size_t first, std::size_t count) const {
    auto d = dims(ds, name);
    if (d.empty() || first + count > d.front()) {
      file->fail(name, "rows " + std::to_string(first) + " to " + std::to_string(first + count) +
                           " are not there yet");
    }
    std::size_t perRow = 1;
    for (std::size_t i = 1; i < d.size(); ++i) perRow *= d[i];
    std::vector<T> values(count * perRow);
    if (count == 0) return values;
    std::vector<hsize_t> start(d.size(), 0);
    start.front() = first;
    d.front() = count;
    const h5::Dataspace fileSpace(H5Dget_space(ds.get()));
    const h5::Dataspace memSpace(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
    if (fileSpace.get() < 0 || memSpace.get() < 0 ||
        H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, d.data(),
                            nullptr) < 0 ||
        H5Dread(ds.get(), memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, values.data()) <
            0) {
      file->fail(name, "cannot be read: " + h5::takeErrorReason());
    }
    return values;
  }
};

SwmrScanReader::SwmrScanReader(const std::string& path, const ReadOptions& options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.options = options;
  s.file = std::make_unique<h5::InFile>(path, h5::ReadAccess::Swmr);
  const h5::InFile& file = *s.file;
  if (!file.hasGroup(swmr::kGroup)) {
    file.fail(swmr::kGroup,
              "missing: not a growing scan (written by `ptyx stream-replay`); an "
              "ordinary scan file is reconstructed without --follow");
  }
  for (const char* candidate : cxi::kFramePaths) {
    if (file.hasDataset(candidate)) {
      s.framesPath = candidate;
      break;
    }
  }
  if (s.framesPath.empty()) file.fail(cxi::kFramePaths[0], "missing: no diffraction frames");
  s.frames = s.open(s.framesPath);
  const auto frameDims = s.dims(s.frames, s.framesPath);
  if (frameDims.size() != 3 || frameDims[1] != frameDims[2] || frameDims[1] == 0) {
    file.fail(s.framesPath,
              "frames must be a stack N x M x M, found shape " + h5::shapeText(frameDims));
  }
  s.frameSize = static_cast<std::size_t>(frameDims[1]);
  for (const char* candidate : cxi::kTranslationPaths) {
    if (file.hasDataset(candidate)) {
      s.translationPath = candidate;
      break;
    }
  }
  if (s.translationPath.empty())
    file.fail(cxi::kTranslationPaths[0], "missing: no sample translations");
  s.translation = s.open(s.translationPath);
  const auto translationDims = s.dims(s.translation, s.translationPath);
  if (translationDims.size() != 2 || (translationDims[1] != 3 && translationDims[1] != 2)) {
    file.fail(s.translationPath,
              "translations must be N x 3 or N x 2, found shape " + h5::shapeText(translationDims));
  }
  s.frameTime = s.open(swmr::kFrameTime);
  s.framesComplete = s.open(swmr::kFramesComplete);
  s.scanComplete = s.open(swmr::kScanComplete);

  s.header = cxi::readScanHeader(file, s.frameSize);
  const double planned = file.readScalar(swmr::kFramesPlanned);
  if (!(planned >= 1.0 && planned < 1e9 && std::floor(planned) == planned)) {
    file.fail(swmr::kFramesPlanned, "expected a positive whole number of frames");
  }
  s.planned = static_cast<std::size_t>(planned);
  const auto translations = file.readReal(swmr::kPlannedTranslation);
  s.header.positions = cxi::positionsFromTranslations(file, swmr::kPlannedTranslation, translations,
                                                      s.frameSize, s.header.geometry, options);
  if (s.header.positions.size() != s.planned) {
    file.fail(swmr::kPlannedTranslation,
              std::to_string(s.header.positions.size()) + " planned translations for " +
                  std::to_string(s.planned) + " planned frames (" + swmr::kFramesPlanned + ")");
  }
  poll();
}

SwmrScanReader::~SwmrScanReader() = default;

const Scan& SwmrScanReader::header() const {
  return state_->header;
}
std::size_t SwmrScanReader::framesPlanned() const {
  return state_->planned;
}
std::size_t SwmrScanReader::frameSize() const {
  return state_->frameSize;
}
std::size_t SwmrScanReader::framesAvailable() const {
  return state_->available;
}
bool SwmrScanReader::complete() const {
  return state_->markerSet && state_->available >= state_->published;
}

std::size_t SwmrScanReader::poll() {
  State& s = *state_;
  // The marker first, then the count, then the extents (see the top of this file).
  s.refresh(s.scanComplete, swmr::kScanComplete);
  const bool marker = s.readNumber(s.scanComplete, swmr::kScanComplete) != 0.0;
  s.refresh(s.framesComplete, swmr::kFramesComplete);
  const double count = s.readNumber(s.framesComplete, swmr::kFramesComplete);
  if (!(count >= 0.0 && count <= static_cast<double>(s.planned))) {
    s.file->fail(swmr::kFramesComplete, "says " + std::to_string(count) + " frames, but " +
                                            std::to_string(s.planned) + " are planned");
  }
  const auto published = static_cast<std::size_t>(count);
  s.refresh(s.frames, s.framesPath);
  s.refresh(s.translation, s.translationPath);
  s.refresh(s.frameTime, swmr::kFrameTime);
  std::size_t visible = published;
  visible = std::min<std::size_t>(visible, s.dims(s.frames, s.framesPath).front());
  visible = std::min<std::size_t>(visible, s.dims(s.translation, s.translationPath).front());
  visible = std::min<std::size_t>(visible, s.dims(s.frameTime, swmr::kFrameTime).front());
  s.published = std::max(s.published, published);
  s.available = std::max(s.available, visible);
  s.markerSet = s.markerSet || marker;
  return s.available;
}

Stack<float> SwmrScanReader::readMagnitudes(std::size_t first, std::size_t count) {
  State& s = *state_;
  if (first + count > s.available) {
    s.file->fail(s.framesPath, "frames " + std::to_string(first) + " to " +
                                   std::to_string(first + count) + " are not published yet");
  }
  const std::size_t m = s.frameSize;
  auto values = s.readRows<float>(s.frames, s.framesPath, H5T_NATIVE_FLOAT, first, count);
  Stack<float> magnitudes(count, m, m);
  auto out = magnitudes.span();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (!(v >= 0.0F) || !std::isfinite(v)) {
      s.file->fail(s.framesPath, "intensities must be finite and non-negative (frame " +
                                     std::to_string(first + i / (m * m)) + ")");
    }
    out[i] = std::sqrt(v);
  }
  return magnitudes;
}

std::vector<Position> SwmrScanReader::readPositions(std::size_t first, std::size_t count) {
  State& s = *state_;
  if (first + count > s.available) {
    s.file->fail(s.translationPath, "translations " + std::to_string(first) + " to " +
                                        std::to_string(first + count) + " are not published yet");
  }
  h5::Data<double> rows;
  const std::size_t columns = s.dims(s.translation, s.translationPath)[1];
  rows.values =
      s.readRows<double>(s.translation, s.translationPath, H5T_NATIVE_DOUBLE, first, count);
  rows.shape = {count, columns};
  return cxi::positionsFromTranslations(*s.file, s.translationPath, rows, s.frameSize,
                                        s.header.geometry, s.options);
}

std::vector<double> SwmrScanReader::readArrivalTimes(std::size_t first, std::size_t count) {
  State& s = *state_;
  if (first + count > s.available) {
    s.file->fail(swmr::kFrameTime, "times of frames not published yet");
  }
  return s.readRows<double>(s.frameTime, swmr::kFrameTime, H5T_NATIVE_DOUBLE, first, count);
}

bool isGrowingScan(const std::string& path) {
  h5::silenceErrorPrinting();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    h5::takeErrorReason();
    return false;
  }
  for (const auto access : {h5::ReadAccess::Swmr, h5::ReadAccess::Plain}) {
    try {
      const h5::InFile file(path, access);
      return file.hasGroup(swmr::kGroup);
    } catch (const InputError&) {
      // a file not in the latest format refuses SWMR reading: try plainly
    }
  }
  return false;
}

}  // namespace ptyx
