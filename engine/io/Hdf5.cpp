#include "io/Hdf5.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/Array.hpp"
#include "core/Error.hpp"

namespace ptyx::h5 {
namespace {

herr_t keepInnermost(unsigned /*depth*/, const H5E_error2_t* entry, void* reason) {
  if (entry != nullptr && entry->desc != nullptr && entry->desc[0] != '\0') {
    *static_cast<std::string*>(reason) = entry->desc;
  }
  return 0;
}

std::string withReason(const std::string& what) {
  const std::string reason = takeErrorReason();
  return reason.empty() ? what : what + " (HDF5: " + reason + ")";
}

const char* className(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "floating point";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable length";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unsupported";
  }
}

/// The h5py complex layout: two floats named r and i.
Datatype complexType(hid_t part, const char* re, const char* im) {
  const auto partSize = H5Tget_size(part);
  Datatype type(H5Tcreate(H5T_COMPOUND, 2 * partSize));
  if (type.get() < 0 || H5Tinsert(type.get(), re, 0, part) < 0 ||
      H5Tinsert(type.get(), im, partSize, part) < 0) {
    throw Error(withReason("cannot build the HDF5 complex type"));
  }
  return type;
}

Datatype stringType(std::size_t length) {
  Datatype type(H5Tcopy(H5T_C_S1));
  if (type.get() < 0 || H5Tset_size(type.get(), std::max<std::size_t>(length, 1)) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0) {
    throw Error(withReason("cannot build an HDF5 string type"));
  }
  return type;
}

Dataspace makeSpace(const std::vector<hsize_t>& shape) {
  return Dataspace(shape.empty()
                       ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
}

}  // namespace

void silenceErrorPrinting() {
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
}

std::string takeErrorReason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keepInnermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

std::string shapeText(std::span<const hsize_t> shape) {
  if (shape.empty()) {
    return "scalar";
  }
  std::string text;
  for (const hsize_t d : shape) {
    text += (text.empty() ? "" : " x ") + std::to_string(d);
  }
  return text;
}

std::size_t elementCount(std::span<const hsize_t> shape, const std::string& file,
                         const std::string& dataset) {
  std::size_t count = 1;
  try {
    for (const hsize_t d : shape) {
      count = checkedProduct(count, static_cast<std::size_t>(d), dataset, kMaxElements);
    }
  } catch (const InputError&) {
    throw InputError(file, dataset,
                     "shape " + shapeText(shape) + " is too large (more than 2^34 elements)");
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// InFile

InFile::InFile(std::string path, ReadAccess access) : path_(std::move(path)) {
  silenceErrorPrinting();
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  if (!std::filesystem::exists(status)) {
    throw InputError(path_, "", "no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw InputError(path_, "", "is a directory, not a file");
  }
  if (!std::ifstream(path_, std::ios::binary)) {
    throw InputError(path_, "", std::string("cannot be read: ") + std::strerror(errno));
  }
  if (H5Fis_hdf5(path_.c_str()) <= 0) {
    takeErrorReason();
    throw InputError(path_, "", "not an HDF5 file");
  }
  const unsigned flags =
      access == ReadAccess::Swmr ? H5F_ACC_RDONLY | H5F_ACC_SWMR_READ : H5F_ACC_RDONLY;
  file_ = File(H5Fopen(path_.c_str(), flags, H5P_DEFAULT));
  if (file_.get() < 0) {
    throw InputError(path_, "",
                     withReason("cannot open the HDF5 file; it may be truncated or damaged"));
  }
}

void InFile::fail(const std::string& dataset, const std::string& what) const {
  throw InputError(path_, dataset, what);
}

void InFile::check(herr_t status, const std::string& dataset, const std::string& what) const {
  if (status < 0) {
    fail(dataset, withReason(what));
  }
}

bool InFile::has(const std::string& name) const {
  // H5Lexists fails (rather than saying no) when a parent is missing, and says yes for a
  // dangling soft link, so walk the path and resolve each step.
  std::size_t end = 0;
  do {
    end = name.find('/', end + 1);
    const std::string prefix = name.substr(0, end);
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0 ||
        H5Oexists_by_name(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      takeErrorReason();
      return false;
    }
  } while (end != std::string::npos);
  return true;
}

bool InFile::hasDataset(const std::string& name) const {
  if (!has(name)) {
    return false;
  }
  const Object object(H5Oopen(file_.get(), name.c_str(), H5P_DEFAULT));
  return object.get() >= 0 && H5Iget_type(object.get()) == H5I_DATASET;
}

bool InFile::hasGroup(const std::string& name) const {
  if (!has(name)) {
    return false;
  }
  const Object object(H5Oopen(file_.get(), name.c_str(), H5P_DEFAULT));
  return object.get() >= 0 && H5Iget_type(object.get()) == H5I_GROUP;
}

Dataset InFile::open(const std::string& dataset) const {
  if (!has(dataset)) {
    fail(dataset, "missing");
  }
  Dataset ds(H5Dopen2(file_.get(), dataset.c_str(), H5P_DEFAULT));
  if (ds.get() < 0) {
    fail(dataset, withReason("cannot be opened as a dataset"));
  }
  return ds;
}

namespace {

std::vector<hsize_t> datasetShape(const InFile& file, hid_t ds, const std::string& dataset) {
  const Dataspace space(H5Dget_space(ds));
  if (space.get() < 0) {
    file.fail(dataset, withReason("cannot read the shape"));
  }
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) {
    file.fail(dataset, "holds no data (null dataspace)");
  }
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) {
    file.fail(dataset, withReason("cannot read the shape"));
  }
  std::vector<hsize_t> shape(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), shape.data(), nullptr) < 0) {
    file.fail(dataset, withReason("cannot read the shape"));
  }
  elementCount(shape, file.path(), dataset);
  return shape;
}

H5T_class_t datasetClass(const InFile& file, hid_t ds, const std::string& dataset) {
  const Datatype type(H5Dget_type(ds));
  const H5T_class_t cls = type.get() < 0 ? H5T_NO_CLASS : H5Tget_class(type.get());
  if (cls == H5T_NO_CLASS) {
    file.fail(dataset, withReason("cannot read the element type"));
  }
  return cls;
}

void requireReal(const InFile& file, H5T_class_t cls, const std::string& dataset) {
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    file.fail(dataset, std::string("expected numbers, found ") + className(cls) + " data");
  }
}

}  // namespace

std::vector<hsize_t> InFile::shape(const std::string& dataset) const {
  const Dataset ds = open(dataset);
  return datasetShape(*this, ds.get(), dataset);
}

Data<double> InFile::readReal(const std::string& dataset) const {
  const Dataset ds = open(dataset);
  Data<double> data;
  data.shape = datasetShape(*this, ds.get(), dataset);
  requireReal(*this, datasetClass(*this, ds.get(), dataset), dataset);
  data.values.resize(elementCount(data.shape, path_, dataset));
  if (!data.values.empty()) {
    check(H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.values.data()),
          dataset, "cannot be read");
  }
  return data;
}

void InFile::readRealInto(const std::string& dataset, std::span<float> out) const {
  const Dataset ds = open(dataset);
  const auto shape = datasetShape(*this, ds.get(), dataset);
  requireReal(*this, datasetClass(*this, ds.get(), dataset), dataset);
  if (elementCount(shape, path_, dataset) != out.size()) {
    throw Error(path_ + ": " + dataset + ": internal error: buffer does not match the shape");
  }
  if (!out.empty()) {
    check(H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), dataset,
          "cannot be read");
  }
}

double InFile::readScalar(const std::string& dataset) const {
  const Data<double> data = readReal(dataset);
  if (data.values.size() != 1) {
    fail(dataset, "expected a single number, found shape " + shapeText(data.shape));
  }
  return data.values.front();
}

Data<cfloat> InFile::readComplex(const std::string& dataset) const {
  const Dataset ds = open(dataset);
  Data<cfloat> data;
  data.shape = datasetShape(*this, ds.get(), dataset);
  const std::size_t count = elementCount(data.shape, path_, dataset);
  const H5T_class_t cls = datasetClass(*this, ds.get(), dataset);
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    std::vector<float> real(count);
    readRealInto(dataset, real);
    data.values.resize(count);
    std::transform(real.begin(), real.end(), data.values.begin(), [](float re) {
      return cfloat{re, 0.0F};
    });
    return data;
  }
  if (cls != H5T_COMPOUND) {
    fail(dataset, std::string("expected complex numbers (compound {r, i}), found ") +
                      className(cls) + " data");
  }
  const Datatype fileType(H5Dget_type(ds.get()));
  // h5py names the parts r and i; some writers spell them out.
  const char* re = "r";
  const char* im = "i";
  if (H5Tget_member_index(fileType.get(), re) < 0) {
    re = "real";
    im = "imag";
  }
  const int reIndex = H5Tget_member_index(fileType.get(), re);
  const int imIndex = H5Tget_member_index(fileType.get(), im);
  takeErrorReason();
  if (reIndex < 0 || imIndex < 0 || H5Tget_nmembers(fileType.get()) != 2 ||
      H5Tget_member_class(fileType.get(), static_cast<unsigned>(reIndex)) != H5T_FLOAT ||
      H5Tget_member_class(fileType.get(), static_cast<unsigned>(imIndex)) != H5T_FLOAT) {
    fail(dataset, "expected complex numbers: a compound of two floats named r and i");
  }
  const Datatype memType = complexType(H5T_NATIVE_FLOAT, re, im);
  data.values.resize(count);
  if (count > 0) {
    check(H5Dread(ds.get(), memType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.values.data()),
          dataset, "cannot be read");
  }
  return data;
}

std::string InFile::readString(const std::string& dataset) const {
  const Dataset ds = open(dataset);
  const auto shape = datasetShape(*this, ds.get(), dataset);
  const H5T_class_t cls = datasetClass(*this, ds.get(), dataset);
  if (cls != H5T_STRING) {
    fail(dataset, std::string("expected a string, found ") + className(cls) + " data");
  }
  if (elementCount(shape, path_, dataset) != 1) {
    fail(dataset, "expected a single string, found shape " + shapeText(shape));
  }
  const Datatype fileType(H5Dget_type(ds.get()));
  const htri_t variable = H5Tis_variable_str(fileType.get());
  check(variable, dataset, "cannot read the string type");
  if (variable > 0) {
    const Datatype memType(H5Tcopy(H5T_C_S1));
    check(H5Tset_size(memType.get(), H5T_VARIABLE), dataset, "cannot read the string");
    check(H5Tset_cset(memType.get(), H5Tget_cset(fileType.get())), dataset,
          "cannot read the string");
    char* text = nullptr;
    check(H5Dread(ds.get(), memType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), dataset,
          "cannot be read");
    std::string value = text != nullptr ? text : "";
    const Dataspace space(H5Dget_space(ds.get()));
    H5Dvlen_reclaim(memType.get(), space.get(), H5P_DEFAULT, &text);
    return value;
  }
  const std::size_t size = H5Tget_size(fileType.get());
  std::vector<char> buffer(size + 1, '\0');
  check(H5Dread(ds.get(), fileType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), dataset,
        "cannot be read");
  std::string value(buffer.data());  // stops at the first NUL: null-terminated or null-padded
  if (H5Tget_strpad(fileType.get()) == H5T_STR_SPACEPAD) {
    value.erase(value.find_last_not_of(' ') + 1);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// OutFile

OutFile::OutFile(const std::string& createPath, std::string displayPath)
    : OutFile(createPath, std::move(displayPath), false) {}

OutFile::OutFile(const std::string& createPath, std::string displayPath, bool latestFormat)
    : path_(std::move(displayPath)) {
  silenceErrorPrinting();
  // Close every object with the file, so that close() really flushes everything to disk.
  const PropertyList access(H5Pcreate(H5P_FILE_ACCESS));
  if (access.get() < 0 || H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG) < 0) {
    throw Error(path_ + ": " + withReason("cannot set up HDF5 file access"));
  }
  if (latestFormat &&
      H5Pset_libver_bounds(access.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
    throw Error(path_ + ": " + withReason("cannot set up HDF5 file access"));
  }
  file_ = File(H5Fcreate(createPath.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, access.get()));
  if (file_.get() < 0) {
    throw Error(path_ + ": " + withReason("cannot create the file"));
  }
}

void OutFile::fail(const std::string& dataset, const std::string& what) const {
  throw Error(path_ + (dataset.empty() ? "" : ": " + dataset) + ": " + what);
}

void OutFile::check(herr_t status, const std::string& dataset, const std::string& what) const {
  if (status < 0) {
    fail(dataset, withReason(what));
  }
}

void OutFile::checkId(hid_t id, const std::string& dataset, const std::string& what) const {
  if (id < 0) {
    fail(dataset, withReason(what));
  }
}

void OutFile::group(const std::string& name, const std::string& nxClass) {
  const Group g(H5Gcreate2(file_.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  checkId(g.get(), name, "cannot create the group");
  if (!nxClass.empty()) {
    attribute(name, "NX_class", nxClass);
  }
}

void OutFile::writeRaw(const std::string& name, hid_t memType, hid_t fileType, const void* data,
                       std::size_t count, const std::vector<hsize_t>& shape, bool chunkFrames) {
  if (elementCount(shape, path_, name) != count) {
    fail(name,
         "internal error: " + std::to_string(count) + " values for shape " + shapeText(shape));
  }
  const Dataspace space = makeSpace(shape);
  checkId(space.get(), name, "cannot create the dataspace");
  const PropertyList create(H5Pcreate(H5P_DATASET_CREATE));
  checkId(create.get(), name, "cannot create the property list");
  if (chunkFrames && count > 0) {
    std::vector<hsize_t> chunk = shape;
    chunk.front() = 1;
    check(H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()), name,
          "cannot set the chunk shape");
  }
  const Dataset ds(H5Dcreate2(file_.get(), name.c_str(), fileType, space.get(), H5P_DEFAULT,
                              create.get(), H5P_DEFAULT));
  checkId(ds.get(), name, "cannot create the dataset");
  if (count > 0) {
    check(H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name,
          "cannot be written");
  }
}

void OutFile::write(const std::string& name, std::span<const float> values,
                    const std::vector<hsize_t>& shape, bool chunkFrames) {
  writeRaw(name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, values.data(), values.size(), shape,
           chunkFrames);
}

void OutFile::write(const std::string& name, std::span<const double> values,
                    const std::vector<hsize_t>& shape) {
  writeRaw(name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, values.data(), values.size(), shape, false);
}

void OutFile::write(const std::string& name, std::span<const std::int32_t> values,
                    const std::vector<hsize_t>& shape) {
  writeRaw(name, H5T_NATIVE_INT32, H5T_STD_I32LE, values.data(), values.size(), shape, false);
}

void OutFile::write(const std::string& name, std::span<const std::uint8_t> values,
                    const std::vector<hsize_t>& shape) {
  writeRaw(name, H5T_NATIVE_UINT8, H5T_STD_U8LE, values.data(), values.size(), shape, false);
}

void OutFile::write(const std::string& name, std::span<const std::uint32_t> values,
                    const std::vector<hsize_t>& shape) {
  writeRaw(name, H5T_NATIVE_UINT32, H5T_STD_U32LE, values.data(), values.size(), shape, false);
}

void OutFile::write(const std::string& name, std::span<const cfloat> values,
                    const std::vector<hsize_t>& shape) {
  const Datatype memType = complexType(H5T_NATIVE_FLOAT, "r", "i");
  const Datatype fileType = complexType(H5T_IEEE_F32LE, "r", "i");
  writeRaw(name, memType.get(), fileType.get(), values.data(), values.size(), shape, false);
}

void OutFile::writeScalar(const std::string& name, double value) {
  write(name, std::span<const double>(&value, 1), {});
}

void OutFile::writeScalar(const std::string& name, std::int32_t value) {
  write(name, std::span<const std::int32_t>(&value, 1), {});
}

void OutFile::writeString(const std::string& name, const std::string& value) {
  const Datatype type = stringType(value.size());
  std::string padded = value;
  padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
  writeRaw(name, type.get(), type.get(), padded.data(), 1, {}, false);
}

void OutFile::attribute(const std::string& object, const std::string& name,
                        const std::string& value) {
  const Object target(H5Oopen(file_.get(), object.c_str(), H5P_DEFAULT));
  checkId(target.get(), object, "cannot be opened");
  const Datatype type = stringType(value.size());
  const Dataspace space = makeSpace({});
  const Attribute attr(
      H5Acreate2(target.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  checkId(attr.get(), object, "cannot create attribute " + name);
  std::string padded = value;
  padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
  check(H5Awrite(attr.get(), type.get(), padded.data()), object, "cannot write attribute " + name);
}

void OutFile::softLink(const std::string& target, const std::string& name) {
  check(H5Lcreate_soft(target.c_str(), file_.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), name,
        "cannot create the link to " + target);
}

void OutFile::close() {
  check(file_.close(), "", "cannot be closed (flushing to disk failed)");
}

}  // namespace ptyx::h5
