// CXI result files: what a reconstruction produced, laid out as other CXI tools expect (probe in
// image_1, object in image_2) plus Ptyx's own history and positions under /entry_1/ptyx.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "io/Cxi.hpp"
#include "io/Hdf5.hpp"

namespace ptyx::cxi {
namespace {

const std::string kImage1 = "/entry_1/image_1";
const std::string kImage2 = "/entry_1/image_2";
const std::string kHistory = std::string(kPtyx) + "/history";

/// Writes an image, refusing an empty one: a result without it is not a result.
void writeImage(h5::OutFile& out, const std::string& dataset, const Image<cfloat>& image,
                const char* what, bool asModes) {
  if (image.empty()) {
    out.fail(dataset, std::string("the ") + what + " is empty");
  }
  std::vector<hsize_t> shape = {image.rows(), image.cols()};
  if (asModes) {
    shape.insert(shape.begin(), 1);
  }
  out.write(dataset, image.span(), shape);
}

template <class T, class Field>
std::vector<T> column(const std::vector<IterationMetrics>& history, Field field) {
  std::vector<T> values(history.size());
  std::transform(history.begin(), history.end(), values.begin(),
                 [field](const IterationMetrics& m) { return static_cast<T>(m.*field); });
  return values;
}

void readStringIfPresent(const h5::InFile& file, const std::string& dataset, std::string& into) {
  if (file.hasDataset(dataset)) {
    into = file.readString(dataset);
  }
}

std::vector<double> readHistoryColumn(const h5::InFile& file, const std::string& name,
                                      std::size_t expected) {
  const std::string dataset = kHistory + "/" + name;
  auto data = file.readReal(dataset);
  if (data.shape.size() != 1 || data.values.size() != expected) {
    file.fail(dataset, "expected " + std::to_string(expected) + " values (one per iteration), " +
                           "found shape " + h5::shapeText(data.shape));
  }
  return std::move(data.values);
}

}  // namespace

void ResultWriter::write(const Reconstruction& result, const std::string& path) const {
  AtomicFile atomic(path);
  h5::OutFile out(atomic.tempPath(), path);
  out.writeScalar("/cxi_version", std::int32_t{kVersionWritten});
  out.group("/entry_1", "NXentry");

  out.group(kImage1, "NXdata");
  writeImage(out, kResultProbe, result.probe, "probe", true);
  out.attribute(kResultProbe, "axes", "mode:y:x");

  out.group(kImage2, "NXdata");
  writeImage(out, kResultObject, result.object, "object", false);
  out.attribute(kResultObject, "axes", "y:x");
  out.writeScalar(kImage2 + "/pixel_size", result.objectPixelSize_m);
  out.writeScalar(kImage2 + "/x_pixel_size", result.objectPixelSize_m);
  out.writeScalar(kImage2 + "/y_pixel_size", result.objectPixelSize_m);

  out.group("/entry_1/instrument_1", "NXinstrument");
  out.group("/entry_1/instrument_1/source_1", "NXsource");
  out.softLink(kResultProbe, kIlluminationPaths[0]);

  const std::string process = kProcess;
  const Provenance& from = result.provenance;
  out.group(process, "NXprocess");
  out.writeString(process + "/program", from.program);
  out.writeString(process + "/version", from.version);
  out.writeString(process + "/date", from.date);
  out.writeString(process + "/command_line", from.commandLine);
  out.writeString(process + "/input_path", from.inputPath);
  out.writeString(process + "/input_hash", from.inputHash);
  out.writeString(process + "/parameters", result.parametersJson);

  const std::string ptyx = kPtyx;
  out.group(ptyx, "NXcollection");
  std::vector<double> positions(2 * result.positions.size());
  for (std::size_t j = 0; j < result.positions.size(); ++j) {
    positions[2 * j] = result.positions[j].row;
    positions[2 * j + 1] = result.positions[j].col;
  }
  out.write(ptyx + "/positions", std::span<const double>(positions), {result.positions.size(), 2});
  const std::array<double, 2> origin = {result.originPixel.row, result.originPixel.col};
  out.write(ptyx + "/origin_pixel", std::span<const double>(origin), {2});
  out.writeScalar(ptyx + "/object_pixel_size", result.objectPixelSize_m);

  const auto& history = result.history;
  const std::vector<hsize_t> iterations = {history.size()};
  out.group(kHistory, "NXcollection");
  out.write(
      kHistory + "/iteration",
      std::span<const std::int32_t>(column<std::int32_t>(history, &IterationMetrics::iteration)),
      iterations);
  out.write(kHistory + "/fourier_error",
            std::span<const double>(column<double>(history, &IterationMetrics::fourierError)),
            iterations);
  out.write(kHistory + "/overlap_error",
            std::span<const double>(column<double>(history, &IterationMetrics::overlapError)),
            iterations);
  out.write(kHistory + "/object_error",
            std::span<const double>(column<double>(history, &IterationMetrics::objectError)),
            iterations);
  out.write(kHistory + "/seconds",
            std::span<const double>(column<double>(history, &IterationMetrics::seconds)),
            iterations);
  out.write(kHistory + "/parameters_changed",
            std::span<const std::uint8_t>(
                column<std::uint8_t>(history, &IterationMetrics::parametersChanged)),
            iterations);

  out.close();
  atomic.commit();
}

}  // namespace ptyx::cxi

namespace ptyx {

Reconstruction readResult(const std::string& path) {
  using namespace cxi;
  const h5::InFile file(path);
  if (!file.hasDataset(kResultObject)) {
    file.fail(kResultObject, "missing: not a reconstruction result (no object image)");
  }
  Reconstruction result;
  result.object = readComplexImage(file, kResultObject);
  if (!file.hasDataset(kResultProbe)) {
    file.fail(kResultProbe, "missing: a result needs its probe");
  }
  result.probe = readComplexImage(file, kResultProbe);

  // Only the images are standard CXI; the rest is read when present, so that results of other
  // CXI tools load too.
  const std::string ptyx = kPtyx;
  if (file.hasDataset(ptyx + "/object_pixel_size")) {
    result.objectPixelSize_m = file.readScalar(ptyx + "/object_pixel_size");
  } else if (file.hasDataset(kImage2 + "/pixel_size")) {
    result.objectPixelSize_m = file.readScalar(kImage2 + "/pixel_size");
  }
  if (file.hasDataset(ptyx + "/positions")) {
    const auto positions = file.readReal(ptyx + "/positions");
    if (positions.shape.size() != 2 || positions.shape[1] != 2) {
      file.fail(ptyx + "/positions",
                "expected N x 2 (row, col), found shape " + h5::shapeText(positions.shape));
    }
    for (std::size_t j = 0; j < positions.shape[0]; ++j) {
      result.positions.push_back({positions.values[2 * j], positions.values[2 * j + 1]});
    }
  }
  if (file.hasDataset(ptyx + "/origin_pixel")) {
    const auto origin = file.readReal(ptyx + "/origin_pixel");
    if (origin.values.size() != 2) {
      file.fail(ptyx + "/origin_pixel",
                "expected (row, col), found shape " + h5::shapeText(origin.shape));
    }
    result.originPixel = {origin.values[0], origin.values[1]};
  }
  if (file.hasDataset(kHistory + "/iteration")) {
    const auto iterations = file.readReal(kHistory + "/iteration");
    const std::size_t count = iterations.values.size();
    const auto fourier = readHistoryColumn(file, "fourier_error", count);
    const auto overlap = readHistoryColumn(file, "overlap_error", count);
    const auto object = readHistoryColumn(file, "object_error", count);
    const auto seconds = readHistoryColumn(file, "seconds", count);
    const auto changed = readHistoryColumn(file, "parameters_changed", count);
    for (std::size_t k = 0; k < count; ++k) {
      result.history.push_back({static_cast<int>(iterations.values[k]), fourier[k], overlap[k],
                                object[k], seconds[k], changed[k] != 0.0});
    }
  }
  const std::string process = kProcess;
  readStringIfPresent(file, process + "/parameters", result.parametersJson);
  Provenance& from = result.provenance;
  readStringIfPresent(file, process + "/program", from.program);
  readStringIfPresent(file, process + "/version", from.version);
  readStringIfPresent(file, process + "/date", from.date);
  readStringIfPresent(file, process + "/command_line", from.commandLine);
  readStringIfPresent(file, process + "/input_path", from.inputPath);
  readStringIfPresent(file, process + "/input_hash", from.inputHash);
  return result;
}

Image<cfloat> readProbeFile(const std::string& path) {
  using namespace cxi;
  const h5::InFile file(path);
  const std::array<const char*, 3> candidates = {kResultProbe, kIlluminationPaths[0],
                                                 kIlluminationPaths[1]};
  for (const char* dataset : candidates) {
    if (file.hasDataset(dataset)) {
      return readComplexImage(file, dataset);
    }
  }
  file.fail(kResultProbe, std::string("no probe in this file; looked for ") + candidates[0] + ", " +
                              candidates[1] + ", " + candidates[2]);
}

Image<cfloat> readObjectFile(const std::string& path) {
  using namespace cxi;
  const h5::InFile file(path);
  if (!file.hasDataset(kResultObject)) {
    file.fail(kResultObject, "no object in this file (expected a Ptyx or CXI result)");
  }
  return readComplexImage(file, kResultObject);
}

}  // namespace ptyx
