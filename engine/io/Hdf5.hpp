#pragma once
// Thin RAII over the HDF5 C API (private to engine/io). The C API rather than the C++ one
// because the latter is not safe across threads even in the thread-safe build (PLATFORM.md).
// Every return code is checked; a failure becomes an exception naming the file, the dataset and
// HDF5's own innermost reason, and HDF5's automatic error-stack dump is silenced so that users
// see that message and nothing else.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/Complex.hpp"

namespace ptyx::h5 {

/// Owns one HDF5 identifier; `Close` is the matching H5?close.
template <herr_t (*Close)(hid_t)>
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id() {
    if (id_ >= 0) {
      Close(id_);  // nothing sensible to do with a failure while unwinding
    }
  }
  Id(Id&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Id& operator=(Id&& other) noexcept {
    if (this != &other) {
      Id dropped(std::exchange(id_, std::exchange(other.id_, H5I_INVALID_HID)));
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;

  [[nodiscard]] hid_t get() const { return id_; }
  /// Closes now and returns HDF5's status (closing a file flushes it, which can fail).
  herr_t close() {
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    return id >= 0 ? Close(id) : 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Id<H5Fclose>;
using Group = Id<H5Gclose>;
using Dataset = Id<H5Dclose>;
using Dataspace = Id<H5Sclose>;
using Datatype = Id<H5Tclose>;
using PropertyList = Id<H5Pclose>;
using Attribute = Id<H5Aclose>;
using Object = Id<H5Oclose>;

/// Turns off HDF5's printing of its error stack for the calling thread (the stack is per thread
/// in the thread-safe build). Cheap after the first call; every entry point calls it.
void silenceErrorPrinting();

/// HDF5's innermost error description for the last failed call on this thread (empty when
/// there is none); clears the stack.
std::string takeErrorReason();

/// Elements in a dataset of this shape, or InputError(file, dataset) when the product overflows
/// or exceeds `kMaxElements`, so that an absurd shape is refused before anything is allocated.
inline constexpr std::size_t kMaxElements = std::size_t{1} << 34;
std::size_t elementCount(std::span<const hsize_t> shape, const std::string& file,
                         const std::string& dataset);

/// "8 x 6 x 6" for messages.
std::string shapeText(std::span<const hsize_t> shape);

template <class T>
struct Data {
  std::vector<hsize_t> shape;
  std::vector<T> values;  ///< row-major
};

/// How a file is opened for reading: plainly, or as a reader of a file that another process may
/// still be writing in SWMR mode (single writer, multiple readers; docs/STREAMING.md).
enum class ReadAccess { Plain, Swmr };

/// An HDF5 file opened read-only. Failures are InputErrors naming the file and the dataset.
class InFile {
 public:
  explicit InFile(std::string path, ReadAccess access = ReadAccess::Plain);

  [[nodiscard]] const std::string& path() const { return path_; }
  /// The object at `name` exists and resolves (a dangling soft link does not count).
  [[nodiscard]] bool has(const std::string& name) const;
  [[nodiscard]] bool hasDataset(const std::string& name) const;
  [[nodiscard]] bool hasGroup(const std::string& name) const;

  /// Shape of a dataset (rank 0 for a scalar), after the element-count sanity check.
  [[nodiscard]] std::vector<hsize_t> shape(const std::string& dataset) const;
  /// Any integer or floating-point dataset converted to double.
  [[nodiscard]] Data<double> readReal(const std::string& dataset) const;
  /// Any integer or floating-point dataset converted to float into `out`, whose size must
  /// equal the dataset's element count (the caller allocated it after checking the shape).
  void readRealInto(const std::string& dataset, std::span<float> out) const;
  /// A single number: rank 0, or every dimension 1.
  [[nodiscard]] double readScalar(const std::string& dataset) const;
  /// Complex compound {r, i} of float or double (the h5py layout), or real numbers (im = 0).
  [[nodiscard]] Data<cfloat> readComplex(const std::string& dataset) const;
  /// A fixed- or variable-length string, scalar or of shape (1).
  [[nodiscard]] std::string readString(const std::string& dataset) const;

  [[noreturn]] void fail(const std::string& dataset, const std::string& what) const;
  /// The open file, for readers that need more than the calls above (SWMR refreshes).
  [[nodiscard]] hid_t handle() const { return file_.get(); }

 private:
  [[nodiscard]] Dataset open(const std::string& dataset) const;
  void check(herr_t status, const std::string& dataset, const std::string& what) const;

  std::string path_;
  File file_;
};

/// A new HDF5 file being written (at a temporary path; messages name the final one). Failures
/// are Errors naming the file and the dataset.
class OutFile {
 public:
  OutFile(const std::string& createPath, std::string displayPath);
  /// `latestFormat`: library bounds LATEST, as SWMR writing needs (readers need HDF5 >= 1.10).
  OutFile(const std::string& createPath, std::string displayPath, bool latestFormat);

  /// A group with a NeXus class attribute (empty: none).
  void group(const std::string& name, const std::string& nxClass = "");
  /// `shape` must hold exactly values.size() elements; chunked one leading index per chunk
  /// when `chunkFrames` (for frame stacks, so that a reader can fetch one frame cheaply).
  void write(const std::string& name, std::span<const float> values,
             const std::vector<hsize_t>& shape, bool chunkFrames = false);
  void write(const std::string& name, std::span<const double> values,
             const std::vector<hsize_t>& shape);
  void write(const std::string& name, std::span<const std::int32_t> values,
             const std::vector<hsize_t>& shape);
  void write(const std::string& name, std::span<const std::uint8_t> values,
             const std::vector<hsize_t>& shape);
  void write(const std::string& name, std::span<const std::uint32_t> values,
             const std::vector<hsize_t>& shape);
  /// Stored as the h5py complex64 compound {r: float32, i: float32}.
  void write(const std::string& name, std::span<const cfloat> values,
             const std::vector<hsize_t>& shape);
  void writeScalar(const std::string& name, double value);
  void writeScalar(const std::string& name, std::int32_t value);
  void writeString(const std::string& name, const std::string& value);
  void attribute(const std::string& object, const std::string& name, const std::string& value);
  void softLink(const std::string& target, const std::string& name);
  /// Flushes and closes; throws when that fails. Must be called before the file is used.
  void close();

  [[noreturn]] void fail(const std::string& dataset, const std::string& what) const;
  /// The open file, for writers that need more than the calls above (extensible datasets).
  [[nodiscard]] hid_t handle() const { return file_.get(); }

 private:
  void writeRaw(const std::string& name, hid_t memType, hid_t fileType, const void* data,
                std::size_t count, const std::vector<hsize_t>& shape, bool chunkFrames);
  void check(herr_t status, const std::string& dataset, const std::string& what) const;
  void checkId(hid_t id, const std::string& dataset, const std::string& what) const;

  std::string path_;
  File file_;
};

}  // namespace ptyx::h5
