#pragma once
// The CXI format (DESIGN.md §4), private to engine/io: where things live in the file and the
// three registry entries. Tests include it to reach the reader directly.
#include <array>
#include <string>
#include <vector>

#include "io/Formats.hpp"

namespace ptyx::h5 {
class InFile;
template <class T>
struct Data;
}  // namespace ptyx::h5

namespace ptyx::cxi {

// Frames, in the order a reader looks for them.
inline constexpr std::array<const char*, 2> kFramePaths = {"/entry_1/data_1/data",
                                                           "/entry_1/instrument_1/detector_1/data"};
// Sample translations (N x 3, metres), in the order a reader looks for them.
inline constexpr std::array<const char*, 3> kTranslationPaths = {
    "/entry_1/data_1/translation", "/entry_1/sample_1/geometry_1/translation",
    "/entry_1/instrument_1/detector_1/translation"};
// Initial probe, in the order a reader looks for it.
inline constexpr std::array<const char*, 2> kIlluminationPaths = {
    "/entry_1/instrument_1/source_1/illumination", "/entry_1/instrument_1/source_1/probe"};

inline constexpr const char* kDetector = "/entry_1/instrument_1/detector_1";
inline constexpr const char* kDistance = "/entry_1/instrument_1/detector_1/distance";
inline constexpr const char* kPixelSizeX = "/entry_1/instrument_1/detector_1/x_pixel_size";
inline constexpr const char* kPixelSizeY = "/entry_1/instrument_1/detector_1/y_pixel_size";
inline constexpr const char* kMask = "/entry_1/instrument_1/detector_1/mask";
inline constexpr const char* kEnergy = "/entry_1/instrument_1/source_1/energy";
inline constexpr const char* kWavelength = "/entry_1/instrument_1/source_1/wavelength";
inline constexpr const char* kMonitor = "/entry_1/data_1/monitor";
inline constexpr const char* kTruth = "/entry_1/ground_truth";

// Results.
inline constexpr const char* kResultProbe = "/entry_1/image_1/data";
inline constexpr const char* kResultObject = "/entry_1/image_2/data";
inline constexpr const char* kProcess = "/entry_1/process_1";
inline constexpr const char* kPtyx = "/entry_1/ptyx";

inline constexpr int kVersionWritten = 160;

/// Photon energy (J) <-> wavelength (m): lambda = h c / E (exact SI constants).
inline constexpr double kPlanckTimesLight = 6.62607015e-34 * 299792458.0;

/// A complex 2-D image, or the first mode of a 3-D stack of modes (InputError otherwise).
Image<cfloat> readComplexImage(const h5::InFile& file, const std::string& dataset);

/// Everything of a scan but its frames and positions (geometry, mask, initial probe, ground
/// truth) for frames of frameSize x frameSize: what a reader of a growing file needs before the
/// first frame arrives. InputError naming the file and the field.
Scan readScanHeader(const h5::InFile& file, std::size_t frameSize);

/// Sample translations read from `dataset` (N x 3 or N x 2, metres) as probe positions in object
/// pixels (the convention at the top of CxiScan.cpp). InputError naming the dataset when the
/// shape is wrong or the positions are absurd (wrong units).
std::vector<Position> positionsFromTranslations(const h5::InFile& file, const std::string& dataset,
                                                const h5::Data<double>& translations,
                                                std::size_t frameSize,
                                                const DetectorGeometry& geometry,
                                                const ReadOptions& options);

class ScanReader final : public ptyx::ScanReader {
 public:
  [[nodiscard]] std::string format() const override { return "cxi"; }
  [[nodiscard]] bool canRead(const std::string& path) const override;
  [[nodiscard]] Scan read(const std::string& path, const ReadOptions& options) const override;
};

class ScanWriter final : public ptyx::ScanWriter {
 public:
  [[nodiscard]] std::string format() const override { return "cxi"; }
  void write(const Scan& scan, const std::string& path) const override;
};

class ResultWriter final : public ptyx::ResultWriter {
 public:
  [[nodiscard]] std::string format() const override { return "cxi"; }
  void write(const Reconstruction& result, const std::string& path) const override;
};

}  // namespace ptyx::cxi
