// Greyscale images a user gives the simulator as its object: binary PGM parsed here, PNG
// through the render module's reader.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "render/Render.hpp"
#include "sim/ObjectMaps.hpp"

namespace ptyx::sim {

namespace {

constexpr std::size_t kMaxSide = 1U << 15U;  // larger is surely not a test object

std::vector<unsigned char> readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the image file");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path, "", "cannot read the image file");
  return bytes;
}

/// Binary PGM: "P5" width height maxval, whitespace or '#' comments between, one whitespace
/// byte, then rows of 1-byte (maxval < 256) or big-endian 2-byte samples.
Image<double> parsePgm(const std::vector<unsigned char>& bytes, const std::string& path) {
  std::size_t pos = 2;
  const auto headerNumber = [&](const char* what) {
    while (pos < bytes.size()) {
      if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n') ++pos;
      } else if (std::isspace(bytes[pos]) != 0) {
        ++pos;
      } else {
        break;
      }
    }
    std::size_t value = 0;
    std::size_t digits = 0;
    while (pos < bytes.size() && std::isdigit(bytes[pos]) != 0 && digits < 9) {
      value = value * 10 + static_cast<std::size_t>(bytes[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0) throw InputError(path, "PGM header", std::string("bad or missing ") + what);
    return value;
  };
  const std::size_t width = headerNumber("width");
  const std::size_t height = headerNumber("height");
  const std::size_t maxval = headerNumber("maximum value");
  if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide) {
    throw InputError(path, "PGM header",
                     "image size " + std::to_string(width) + " x " + std::to_string(height) +
                         " is out of range");
  }
  if (maxval == 0 || maxval > 65535) {
    throw InputError(path, "PGM header", "maximum value must be 1..65535");
  }
  if (pos >= bytes.size() || std::isspace(bytes[pos]) == 0) {
    throw InputError(path, "PGM header", "no whitespace before the pixel data");
  }
  ++pos;
  const std::size_t sampleBytes = maxval < 256 ? 1 : 2;
  if (bytes.size() - pos < width * height * sampleBytes) {
    throw InputError(path, "pixel data", "the file is truncated");
  }
  Image<double> image(height, width);
  const double scale = 1.0 / static_cast<double>(maxval);
  for (std::size_t i = 0; i < image.size(); ++i) {
    const std::size_t at = pos + i * sampleBytes;
    const std::size_t v =
        sampleBytes == 1 ? bytes[at] : (std::size_t{bytes[at]} << 8U) | bytes[at + 1];
    image.span()[i] = static_cast<double>(v) * scale;
  }
  return image;
}

}  // namespace

Image<double> readGreyImage(const std::string& path) {
  const std::vector<unsigned char> bytes = readBytes(path);
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == '5') return parsePgm(bytes, path);
  constexpr unsigned char kPngSignature[] = {0x89, 'P', 'N', 'G'};
  if (bytes.size() >= 4 &&
      std::equal(std::begin(kPngSignature), std::end(kPngSignature), bytes.begin())) {
    const Image<Rgb> rgb = readPng(path);
    Image<double> image(rgb.rows(), rgb.cols());
    for (std::size_t i = 0; i < image.size(); ++i) {
      const Rgb p = rgb.span()[i];
      // Rec. 709 luma weights: what a person sees as brightness.
      image.span()[i] = (0.2126 * p.r + 0.7152 * p.g + 0.0722 * p.b) / 255.0;
    }
    return image;
  }
  throw InputError(path, "", "is neither a binary PGM (P5) nor a PNG image");
}

}  // namespace ptyx::sim
