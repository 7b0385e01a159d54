#pragma once
// Owning dense arrays in row-major order: Image (2-D) and Stack (a stack of equal 2-D frames).
// Accessors hand out spans; the storage itself is never exposed for resizing.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/Error.hpp"

namespace ptyx {

/// a·b, or an InputError naming `what` when the product overflows `limit` elements. Readers use
/// it on sizes from files so that an absurd shape becomes a message, not a crash.
inline std::size_t checkedProduct(std::size_t a, std::size_t b, const std::string& what,
                                  std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  if (a != 0 && b > limit / a) {
    throw InputError(what, "",
                     "size " + std::to_string(a) + " x " + std::to_string(b) + " is too large");
  }
  return a * b;
}

template <class T>
class Image {
 public:
  Image() = default;
  Image(std::size_t rows, std::size_t cols, T fill = T{})
      : rows_(rows), cols_(cols), data_(checkedProduct(rows, cols, "image"), fill) {}

  [[nodiscard]] std::size_t rows() const { return rows_; }
  [[nodiscard]] std::size_t cols() const { return cols_; }
  [[nodiscard]] std::size_t size() const { return data_.size(); }
  [[nodiscard]] bool empty() const { return data_.empty(); }

  T& operator()(std::size_t r, std::size_t c) { return data_[r * cols_ + c]; }
  const T& operator()(std::size_t r, std::size_t c) const { return data_[r * cols_ + c]; }
  T* data() { return data_.data(); }
  [[nodiscard]] const T* data() const { return data_.data(); }
  std::span<T> span() { return data_; }
  [[nodiscard]] std::span<const T> span() const { return data_; }

  bool operator==(const Image& other) const = default;

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<T> data_;
};

template <class T>
class Stack {
 public:
  Stack() = default;
  Stack(std::size_t count, std::size_t rows, std::size_t cols, T fill = T{})
      : count_(count),
        rows_(rows),
        cols_(cols),
        data_(checkedProduct(count, checkedProduct(rows, cols, "frame"), "stack"), fill) {}

  [[nodiscard]] std::size_t count() const { return count_; }
  [[nodiscard]] std::size_t rows() const { return rows_; }
  [[nodiscard]] std::size_t cols() const { return cols_; }
  [[nodiscard]] std::size_t frameSize() const { return rows_ * cols_; }
  [[nodiscard]] std::size_t size() const { return data_.size(); }

  std::span<T> frame(std::size_t j) { return {data_.data() + j * frameSize(), frameSize()}; }
  [[nodiscard]] std::span<const T> frame(std::size_t j) const {
    return {data_.data() + j * frameSize(), frameSize()};
  }
  T* data() { return data_.data(); }
  [[nodiscard]] const T* data() const { return data_.data(); }
  std::span<T> span() { return data_; }
  [[nodiscard]] std::span<const T> span() const { return data_; }

  bool operator==(const Stack& other) const = default;

 private:
  std::size_t count_ = 0;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<T> data_;
};

}  // namespace ptyx
