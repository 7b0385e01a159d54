// PNG files through libpng's simplified API: it reports errors by return value and message
// instead of longjmp, so no C++ object can be skipped over by a jump.
#include <png.h>

#include <cstring>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "render/Render.hpp"

namespace ptyx {
namespace {

static_assert(sizeof(Rgb) == 3, "Rgb must pack as three bytes to be handed to libpng");

/// Owns a png_image's internal state for the duration of a read.
class PngImage {
 public:
  PngImage() {
    std::memset(&image_, 0, sizeof image_);
    image_.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image_); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
  png_image* operator->() { return &image_; }
  png_image* get() { return &image_; }

 private:
  png_image image_{};
};

// Row strides are 32-bit in libpng; far beyond any figure we draw or accept.
constexpr std::size_t kMaxSide = 1U << 20;
constexpr std::size_t kMaxPixels = std::size_t{1} << 28;

}  // namespace

void writePng(const Image<Rgb>& image, const std::string& path) {
  if (image.empty()) throw Error("cannot write PNG " + path + ": the image is empty");
  if (image.cols() > kMaxSide || image.rows() > kMaxSide) {
    throw Error("cannot write PNG " + path + ": the image is too large");
  }
  try {
    AtomicFile file(path);
    PngImage png;
    png->width = static_cast<png_uint_32>(image.cols());
    png->height = static_cast<png_uint_32>(image.rows());
    png->format = PNG_FORMAT_RGB;
    const auto stride = static_cast<png_int_32>(3 * image.cols());
    if (png_image_write_to_file(png.get(), file.tempPath().c_str(), 0, image.data(), stride,
                                nullptr) == 0) {
      throw Error(png->message);
    }
    file.commit();
  } catch (const std::exception& e) {
    // AtomicFile's messages may name only the temporary file; the user needs the target.
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw Error(what);
    throw Error("cannot write PNG " + path + ": " + what);
  }
}

Image<Rgb> readPng(const std::string& path) {
  PngImage png;
  if (png_image_begin_read_from_file(png.get(), path.c_str()) == 0) {
    throw InputError(path, "", std::string("cannot read PNG: ") + png->message);
  }
  const std::size_t cols = png->width;
  const std::size_t rows = png->height;
  if (cols == 0 || rows == 0 || cols > kMaxSide || rows > kMaxSide) {
    throw InputError(path, "",
                     "unsupported PNG size " + std::to_string(cols) + " x " + std::to_string(rows));
  }
  checkedProduct(rows, cols, path, kMaxPixels);
  // Grey and palette images expand to RGB; alpha is composited onto white, as a viewer shows it.
  png->format = PNG_FORMAT_RGB;
  Image<Rgb> image(rows, cols);
  const png_color white{255, 255, 255};
  if (png_image_finish_read(png.get(), &white, image.data(), static_cast<png_int_32>(3 * cols),
                            nullptr) == 0) {
    throw InputError(path, "", std::string("cannot read PNG: ") + png->message);
  }
  return image;
}

}  // namespace ptyx
