#include "init/FileInit.hpp"

#include "core/Error.hpp"
#include "io/Formats.hpp"

namespace ptyx {

namespace {
std::string shapeText(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}
}  // namespace

Image<cfloat> probeFromFile(const std::string& path, const Scan& scan) {
  const std::size_t m = scan.frameSize();
  if (path.empty()) {
    // A scan file often carries the probe of an earlier reconstruction or of the beamline.
    if (!scan.probe || scan.probe->empty()) {
      throw InputError("parameters", "probe_file",
                       "no probe file given and the scan carries no probe");
    }
    if (scan.probe->rows() != m || scan.probe->cols() != m) {
      throw InputError(scan.sourcePath.empty() ? "scan" : scan.sourcePath, "probe",
                       "is " + shapeText(scan.probe->rows(), scan.probe->cols()) +
                           " but the frames are " + shapeText(m, m));
    }
    return *scan.probe;
  }
  Image<cfloat> probe = readProbeFile(path);
  if (probe.rows() != m || probe.cols() != m) {
    throw InputError(
        path, "probe",
        "is " + shapeText(probe.rows(), probe.cols()) + " but the frames are " + shapeText(m, m));
  }
  return probe;
}

Image<cfloat> objectFromFile(const std::string& path, std::size_t rows, std::size_t cols) {
  if (path.empty()) throw InputError("parameters", "object_file", "no object file given");
  Image<cfloat> object = readObjectFile(path);
  if (object.rows() != rows || object.cols() != cols) {
    throw InputError(path, "object",
                     "is " + shapeText(object.rows(), object.cols()) + " but this scan needs " +
                         shapeText(rows, cols));
  }
  return object;
}

}  // namespace ptyx
