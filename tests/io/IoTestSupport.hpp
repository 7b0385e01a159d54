#pragma once
// Shared by the engine/io tests: tiny scans built by hand, and a writer of "third-party" CXI
// layouts that uses the raw HDF5 C API (not Ptyx's wrappers), as other tools would.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Scan.hpp"

namespace ptyx::test {

// Geometry of the hand-made scans: lambda = 0.1 nm, z = 1 m, 75 um pixels, M = 8, so an
// object pixel is 1e-10 / (8 * 75e-6) = 1.6667e-7 m.
inline constexpr double kWavelength = 1e-10;
inline constexpr double kEnergy = 6.62607015e-34 * 299792458.0 / kWavelength;
inline constexpr double kDistance = 1.0;
inline constexpr double kPixel = 75e-6;
inline constexpr std::size_t kFrames = 5;
inline constexpr std::size_t kSize = 8;
inline constexpr double kObjectPixel = kWavelength * kDistance / (kSize * kPixel);

inline Image<cfloat> complexImage(std::size_t rows, std::size_t cols, float seed) {
  Image<cfloat> image(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      image(r, c) = {seed + 0.25F * static_cast<float>(r) - 0.125F * static_cast<float>(c),
                     std::sin(seed * static_cast<float>(r * cols + c))};
    }
  }
  return image;
}

/// 5 frames of 8 x 8 with a mask, an initial probe and a ground truth.
inline Scan makeScan() {
  Scan scan;
  scan.magnitudes = Stack<float>(kFrames, kSize, kSize);
  for (std::size_t i = 0; i < scan.magnitudes.size(); ++i) {
    scan.magnitudes.span()[i] = 0.5F + 0.37F * static_cast<float>((i * 7919) % 101);
  }
  for (std::size_t j = 0; j < kFrames; ++j) {
    const auto step = static_cast<double>(j);
    scan.positions.push_back({1.5 * step + 0.25, 3.0 - 2.75 * step});
  }
  scan.mask = Image<std::uint8_t>(kSize, kSize);
  scan.mask(0, 3) = 1;
  scan.mask(7, 7) = 1;
  scan.geometry = {kDistance, kPixel, kPixel, kWavelength};
  scan.probe = complexImage(kSize, kSize, 0.75F);
  scan.truth = GroundTruth{complexImage(20, 24, 1.5F), complexImage(kSize, kSize, 0.5F),
                           kObjectPixel, Position{10.0, 12.5}};
  return scan;
}

/// Calls `action`, which must throw an InputError naming `file` and `dataset` whose message
/// contains every one of `phrases`; returns the message.
inline std::string expectInputError(const std::function<void()>& action, const std::string& file,
                                    const std::string& dataset,
                                    const std::vector<std::string>& phrases = {}) {
  try {
    action();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.where(), file) << message;
    EXPECT_EQ(e.field(), dataset) << message;
    EXPECT_NE(message.find(file), std::string::npos) << message;
    EXPECT_NE(message.find(dataset), std::string::npos) << message;
    for (const auto& phrase : phrases) {
      EXPECT_NE(message.find(phrase), std::string::npos) << "'" << phrase << "' in: " << message;
    }
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected an InputError naming " << file << " and " << dataset;
  return {};
}

/// Names in a directory (to check that a failed write left nothing behind).
inline std::set<std::string> filesIn(const std::filesystem::path& directory) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

/// A new directory of its own under the test's scratch directory.
inline std::filesystem::path freshDirectory(const std::string& name) {
  std::filesystem::remove_all(name);
  std::filesystem::create_directories(name);
  return name;
}

/// An HDF5 file written with the plain C API, the way another tool would.
class RawH5 {
 public:
  explicit RawH5(const std::string& path)
      : file_(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)),
        linkCreate_(H5Pcreate(H5P_LINK_CREATE)) {
    EXPECT_GE(file_, 0);
    H5Pset_create_intermediate_group(linkCreate_, 1);
  }
  ~RawH5() {
    H5Pclose(linkCreate_);
    H5Fclose(file_);
  }
  RawH5(const RawH5&) = delete;
  RawH5& operator=(const RawH5&) = delete;

  /// `values` converted by HDF5 to `fileType` (float, double or any integer type).
  void real(const std::string& path, const std::vector<hsize_t>& shape,
            const std::vector<double>& values, hid_t fileType = H5T_IEEE_F64LE,
            bool chunked = false) {
    write(path, shape, H5T_NATIVE_DOUBLE, fileType, values.empty() ? nullptr : values.data(),
          chunked);
  }
  void scalar(const std::string& path, double value) { real(path, {}, {value}); }
  /// The h5py layouts: complex64 {r, i: float32} or complex128 {r, i: float64}.
  void complex(const std::string& path, const std::vector<hsize_t>& shape,
               const std::vector<cfloat>& values, bool doublePrecision = false) {
    const hid_t part = doublePrecision ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    const std::size_t partSize = doublePrecision ? 8 : 4;
    const hid_t fileType = H5Tcreate(H5T_COMPOUND, 2 * partSize);
    H5Tinsert(fileType, "r", 0, part);
    H5Tinsert(fileType, "i", partSize, part);
    const hid_t memType = H5Tcreate(H5T_COMPOUND, sizeof(cfloat));
    H5Tinsert(memType, "r", 0, H5T_NATIVE_FLOAT);
    H5Tinsert(memType, "i", sizeof(float), H5T_NATIVE_FLOAT);
    write(path, shape, memType, fileType, values.data(), false);
    H5Tclose(memType);
    H5Tclose(fileType);
  }
  void softLink(const std::string& target, const std::string& path) {
    EXPECT_GE(H5Lcreate_soft(target.c_str(), file_, path.c_str(), linkCreate_, H5P_DEFAULT), 0)
        << path;
  }
  void group(const std::string& path) {
    const hid_t g = H5Gcreate2(file_, path.c_str(), linkCreate_, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(g, 0) << path;
    H5Gclose(g);
  }

 private:
  void write(const std::string& path, const std::vector<hsize_t>& shape, hid_t memType,
             hid_t fileType, const void* data, bool chunked) {
    const hid_t space =
        shape.empty() ? H5Screate(H5S_SCALAR)
                      : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
      std::vector<hsize_t> chunk(shape.size(), 1);
      chunk.back() = std::min<hsize_t>(shape.back(), 64);
      H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data());
    }
    const hid_t ds =
        H5Dcreate2(file_, path.c_str(), fileType, space, linkCreate_, create, H5P_DEFAULT);
    EXPECT_GE(ds, 0) << path;
    if (data != nullptr) {
      EXPECT_GE(H5Dwrite(ds, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0) << path;
    }
    H5Dclose(ds);
    H5Pclose(create);
    H5Sclose(space);
  }

  hid_t file_;
  hid_t linkCreate_;
};

/// A CXI scan as a third-party tool might lay it out. Defaults give a valid file; tests move
/// things around or break one field at a time.
struct RawScan {
  std::vector<hsize_t> frameShape = {kFrames, kSize, kSize};
  std::vector<double> intensities;  ///< empty: filled from frameShape with a ramp
  hid_t frameType = H5T_IEEE_F32LE;
  std::string framesAt = "/entry_1/instrument_1/detector_1/data";
  std::string framesLinkAt = "/entry_1/data_1/data";  ///< "" for no link
  bool hugeFramesWithoutData = false;  ///< chunked, never written: nothing is allocated

  std::vector<hsize_t> translationShape = {kFrames, 3};
  std::vector<double> translations;  ///< empty: small valid metres, 0.2 um steps
  std::string translationsAt = "/entry_1/sample_1/geometry_1/translation";

  std::optional<double> distance = kDistance;
  std::optional<double> pixelX = kPixel;
  std::optional<double> pixelY = kPixel;
  std::optional<double> energy = kEnergy;
  std::optional<double> wavelength;
  std::optional<std::vector<double>> monitor;
  std::vector<hsize_t> maskShape;  ///< empty: no mask
  std::vector<double> mask;
  std::string probeAt;  ///< "" for no probe
  std::vector<hsize_t> probeShape;
  std::vector<cfloat> probe;
  bool probeDouble = false;

  [[nodiscard]] std::vector<double> frameValues() const {
    if (!intensities.empty()) {
      return intensities;
    }
    std::size_t count = 1;
    for (const hsize_t d : frameShape) {
      count *= d;
    }
    std::vector<double> values(count);
    for (std::size_t i = 0; i < count; ++i) {
      values[i] = static_cast<double>((i * 37) % 251);
    }
    return values;
  }
  [[nodiscard]] std::vector<double> translationValues() const {
    if (!translations.empty()) {
      return translations;
    }
    std::vector<double> values(translationShape[0] * translationShape[1]);
    for (std::size_t j = 0; j < translationShape[0]; ++j) {
      values[j * translationShape[1]] = 2e-7 * static_cast<double>(j);       // x
      values[j * translationShape[1] + 1] = -1e-7 * static_cast<double>(j);  // y
    }
    return values;
  }

  void write(const std::string& path) const {
    RawH5 file(path);
    file.scalar("/cxi_version", 130);
    if (hugeFramesWithoutData) {
      file.real(framesAt, frameShape, {}, frameType, true);
    } else {
      file.real(framesAt, frameShape, frameValues(), frameType);
    }
    if (!framesLinkAt.empty()) {
      file.softLink(framesAt, framesLinkAt);
    }
    if (!translationsAt.empty()) {
      file.real(translationsAt, translationShape, translationValues());
    }
    const std::string detector = "/entry_1/instrument_1/detector_1/";
    const std::string source = "/entry_1/instrument_1/source_1/";
    if (distance) {
      file.scalar(detector + "distance", *distance);
    }
    if (pixelX) {
      file.scalar(detector + "x_pixel_size", *pixelX);
    }
    if (pixelY) {
      file.scalar(detector + "y_pixel_size", *pixelY);
    }
    if (energy) {
      file.scalar(source + "energy", *energy);
    }
    if (wavelength) {
      file.scalar(source + "wavelength", *wavelength);
    }
    if (monitor) {
      file.real("/entry_1/data_1/monitor", {monitor->size()}, *monitor);
    }
    if (!maskShape.empty()) {
      file.real(detector + "mask", maskShape, mask, H5T_STD_U32LE);
    }
    if (!probeAt.empty()) {
      file.complex(probeAt, probeShape, probe, probeDouble);
    }
  }
};

}  // namespace ptyx::test
