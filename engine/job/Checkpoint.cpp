#include "job/Checkpoint.hpp"

#include <zlib.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/Error.hpp"
#include "io/AtomicFile.hpp"
#include "io/Hdf5.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::job {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "ptyx-checkpoint/1";
const std::string kRoot = "/ptyx_checkpoint";
const std::string kHistory = kRoot + "/history";

/// What the file holds, in memory; the checksum runs over it in this order.
struct Payload {
  std::string format = kFormat;
  std::int32_t iteration = 0;
  std::string parameters;
  std::string scanHash;
  std::int32_t ranks = 1;
  std::vector<hsize_t> objectShape;
  std::vector<cfloat> object;
  std::vector<hsize_t> probeShape;
  std::vector<cfloat> probe;
  std::vector<float> illumination;
  std::vector<hsize_t> wavesShape;  ///< N x M x M
  std::vector<cfloat> waves;        ///< empty when only the small state was read
  std::vector<std::int32_t> historyIteration;
  std::vector<double> fourier, overlap, objectError, seconds;
  std::vector<std::uint8_t> changed;
};

class Crc {
 public:
  template <class T>
  void add(std::span<const T> values) {
    const std::uint64_t bytes = values.size_bytes();
    feed(&bytes, sizeof bytes);  // length first, so that field boundaries are part of the sum
    feed(values.data(), values.size_bytes());
  }
  void add(const std::string& text) { add(std::span<const char>(text.data(), text.size())); }
  template <class T>
  void addScalar(T value) {
    add(std::span<const T>(&value, 1));
  }
  [[nodiscard]] std::string text() const {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%08lx", crc_);
    return std::string("crc32:") + buffer;
  }

 private:
  void feed(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const Bytef*>(data);
    constexpr std::size_t kMax = 1U << 30U;  // zlib takes a uInt length
    while (bytes > 0) {
      const std::size_t part = std::min(bytes, kMax);
      crc_ = crc32(crc_, p, static_cast<uInt>(part));
      p += part;
      bytes -= part;
    }
  }
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

std::string checksum(const Payload& p) {
  Crc crc;
  crc.add(p.format);
  crc.addScalar(p.iteration);
  crc.add(p.parameters);
  crc.add(p.scanHash);
  crc.addScalar(p.ranks);
  crc.add(std::span<const cfloat>(p.object));
  crc.add(std::span<const cfloat>(p.probe));
  crc.add(std::span<const float>(p.illumination));
  crc.add(std::span<const cfloat>(p.waves));
  crc.add(std::span<const std::int32_t>(p.historyIteration));
  for (const auto* column : {&p.fourier, &p.overlap, &p.objectError, &p.seconds}) {
    crc.add(std::span<const double>(*column));
  }
  crc.add(std::span<const std::uint8_t>(p.changed));
  return crc.text();
}

Payload payloadOf(const SolverState& s, std::vector<cfloat> waves, std::size_t frames,
                  std::string scanHash, int ranks) {
  Payload p;
  p.iteration = s.iteration;
  p.parameters = toJson(s.params);
  p.scanHash = std::move(scanHash);
  p.ranks = ranks;
  p.objectShape = {s.object.rows(), s.object.cols()};
  p.object.assign(s.object.span().begin(), s.object.span().end());
  p.probeShape = {s.probe.rows(), s.probe.cols()};
  p.probe.assign(s.probe.span().begin(), s.probe.span().end());
  p.illumination = s.illumination;
  p.wavesShape = {frames, s.probe.rows(), s.probe.cols()};
  p.waves = std::move(waves);
  for (const auto& m : s.history) {
    p.historyIteration.push_back(m.iteration);
    p.fourier.push_back(m.fourierError);
    p.overlap.push_back(m.overlapError);
    p.objectError.push_back(m.objectError);
    p.seconds.push_back(m.seconds);
    p.changed.push_back(m.parametersChanged ? 1 : 0);
  }
  return p;
}

void write(const Payload& p, const std::string& path) {
  AtomicFile atomic(path);
  {
    h5::OutFile out(atomic.tempPath(), path);
    out.group(kRoot);
    out.writeString(kRoot + "/format", p.format);
    out.writeScalar(kRoot + "/iteration", p.iteration);
    out.writeString(kRoot + "/parameters", p.parameters);
    out.writeString(kRoot + "/scan_sha256", p.scanHash);
    out.writeScalar(kRoot + "/ranks", p.ranks);
    out.write(kRoot + "/object", std::span<const cfloat>(p.object), p.objectShape);
    out.write(kRoot + "/probe", std::span<const cfloat>(p.probe), p.probeShape);
    out.write(kRoot + "/illumination", std::span<const float>(p.illumination), p.objectShape);
    out.write(kRoot + "/exit_waves", std::span<const cfloat>(p.waves), p.wavesShape);
    out.group(kHistory);
    const std::vector<hsize_t> n = {p.historyIteration.size()};
    out.write(kHistory + "/iteration", std::span<const std::int32_t>(p.historyIteration), n);
    out.write(kHistory + "/fourier_error", std::span<const double>(p.fourier), n);
    out.write(kHistory + "/overlap_error", std::span<const double>(p.overlap), n);
    out.write(kHistory + "/object_error", std::span<const double>(p.objectError), n);
    out.write(kHistory + "/seconds", std::span<const double>(p.seconds), n);
    out.write(kHistory + "/parameters_changed", std::span<const std::uint8_t>(p.changed), n);
    out.writeString(kRoot + "/checksum", checksum(p));
    out.close();
  }
  // Keep the one before: if this one is later found damaged, resuming falls back to it.
  std::error_code ec;
  if (fs::exists(path, ec)) {
    fs::rename(path, path + ".prev", ec);
    if (ec)
      throw Error(path + ": cannot keep the previous checkpoint as " + path +
                  ".prev: " + ec.message());
  }
  atomic.commit();
}

template <class T>
std::vector<T> asVector(h5::Data<T> data) {
  return std::move(data.values);
}

/// Reads everything (waves only when `withWaves`). InputError on any missing or odd dataset.
Payload read(const std::string& path, bool withWaves) {
  const h5::InFile in(path);
  Payload p;
  p.format = in.readString(kRoot + "/format");
  if (p.format != kFormat)
    in.fail(kRoot + "/format", "unknown checkpoint format '" + p.format + "'");
  p.iteration = static_cast<std::int32_t>(in.readScalar(kRoot + "/iteration"));
  p.parameters = in.readString(kRoot + "/parameters");
  p.scanHash = in.readString(kRoot + "/scan_sha256");
  p.ranks = static_cast<std::int32_t>(in.readScalar(kRoot + "/ranks"));
  auto object = in.readComplex(kRoot + "/object");
  p.objectShape = object.shape;
  p.object = std::move(object.values);
  auto probe = in.readComplex(kRoot + "/probe");
  p.probeShape = probe.shape;
  p.probe = std::move(probe.values);
  if (p.objectShape.size() != 2 || p.probeShape.size() != 2) {
    in.fail(kRoot, "object and probe must be 2-D");
  }
  p.illumination.resize(p.object.size());
  if (in.shape(kRoot + "/illumination") != p.objectShape)
    in.fail(kRoot + "/illumination", "does not match the object");
  in.readRealInto(kRoot + "/illumination", p.illumination);
  p.wavesShape = in.shape(kRoot + "/exit_waves");
  if (p.wavesShape.size() != 3 || p.wavesShape[1] != p.probeShape[0] ||
      p.wavesShape[2] != p.probeShape[1]) {
    in.fail(kRoot + "/exit_waves",
            "shape " + h5::shapeText(p.wavesShape) + " does not match the probe");
  }
  if (withWaves) p.waves = in.readComplex(kRoot + "/exit_waves").values;
  const auto iterations = asVector(in.readReal(kHistory + "/iteration"));
  p.historyIteration.assign(iterations.begin(), iterations.end());
  p.fourier = asVector(in.readReal(kHistory + "/fourier_error"));
  p.overlap = asVector(in.readReal(kHistory + "/overlap_error"));
  p.objectError = asVector(in.readReal(kHistory + "/object_error"));
  p.seconds = asVector(in.readReal(kHistory + "/seconds"));
  const auto changed = asVector(in.readReal(kHistory + "/parameters_changed"));
  p.changed.assign(changed.begin(), changed.end());
  const std::size_t n = p.historyIteration.size();
  for (const auto* column : {&p.fourier, &p.overlap, &p.objectError, &p.seconds}) {
    if (column->size() != n) in.fail(kHistory, "history columns differ in length");
  }
  if (p.changed.size() != n) in.fail(kHistory, "history columns differ in length");
  if (withWaves) {
    const std::string stored = in.readString(kRoot + "/checksum");
    const std::string computed = checksum(p);
    if (stored != computed) {
      in.fail(kRoot + "/checksum", "checksum mismatch (stored " + stored + ", data gives " +
                                       computed + "): the file is damaged");
    }
  }
  return p;
}

/// This rank's frames of the exit waves, read as a hyperslab so that no rank holds them all.
void readWaves(const std::string& path, const Payload& p, FrameRange mine, std::span<cfloat> out) {
  h5::silenceErrorPrinting();
  const std::string dataset = kRoot + "/exit_waves";
  auto fail = [&](const std::string& what) {
    throw InputError(path, dataset, what + " (HDF5: " + h5::takeErrorReason() + ")");
  };
  const h5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (file.get() < 0) fail("cannot open the checkpoint");
  const h5::Dataset ds(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT));
  if (ds.get() < 0) fail("cannot open");
  const h5::Dataspace space(H5Dget_space(ds.get()));
  const hsize_t start[3] = {mine.first, 0, 0};
  const hsize_t count[3] = {mine.count(), p.wavesShape[1], p.wavesShape[2]};
  if (space.get() < 0 ||
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0) {
    fail("cannot select this rank's frames");
  }
  const h5::Dataspace memory(H5Screate_simple(3, count, nullptr));
  const h5::Datatype type(H5Tcreate(H5T_COMPOUND, sizeof(cfloat)));
  if (type.get() < 0 || H5Tinsert(type.get(), "r", 0, H5T_NATIVE_FLOAT) < 0 ||
      H5Tinsert(type.get(), "i", sizeof(float), H5T_NATIVE_FLOAT) < 0) {
    fail("cannot build the complex type");
  }
  if (!out.empty() &&
      H5Dread(ds.get(), type.get(), memory.get(), space.get(), H5P_DEFAULT, out.data()) < 0) {
    fail("cannot read this rank's frames");
  }
}

SolverState stateOf(const Payload& p, const std::string& path) {
  SolverState s;
  s.iteration = p.iteration;
  s.params = paramsFromJson(p.parameters, path + ": parameters");
  s.object = Image<cfloat>(p.objectShape[0], p.objectShape[1]);
  std::copy(p.object.begin(), p.object.end(), s.object.span().begin());
  s.probe = Image<cfloat>(p.probeShape[0], p.probeShape[1]);
  std::copy(p.probe.begin(), p.probe.end(), s.probe.span().begin());
  s.illumination = p.illumination;
  for (std::size_t k = 0; k < p.historyIteration.size(); ++k) {
    s.history.push_back({p.historyIteration[k], p.fourier[k], p.overlap[k], p.objectError[k],
                         p.seconds[k], p.changed[k] != 0});
  }
  return s;
}

std::string why(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return path + ": missing";
  try {
    read(path, true);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

void saveCheckpoint(const Reconstructor& reconstructor, Communicator& comm, const std::string& path,
                    const std::string& scanHash) {
  const SolverState state = reconstructor.state();
  const FrameRange mine = reconstructor.frames();
  const std::size_t frameBytes = state.probe.size() * sizeof(cfloat);
  std::vector<cfloat> local(mine.count() * state.probe.size());
  reconstructor.readExitWaves(local);

  // Every rank knows every block: the partition is a function of the frame count alone.
  std::size_t frames = 0;
  {
    std::array<double, 1> count{static_cast<double>(mine.count())};
    comm.allReduceSum(std::span<double>(count));
    frames = static_cast<std::size_t>(count[0]);
  }
  std::vector<std::size_t> counts(static_cast<std::size_t>(comm.size()));
  for (int r = 0; r < comm.size(); ++r) {
    counts[static_cast<std::size_t>(r)] = frameBlock(frames, r, comm.size()).count() * frameBytes;
  }
  std::vector<cfloat> all(comm.rank() == 0 ? frames * state.probe.size() : 0);
  comm.gather(std::as_bytes(std::span<const cfloat>(local)),
              std::as_writable_bytes(std::span<cfloat>(all)), counts, 0);
  // Rank 0 writes; the others wait, so that a failure to write reaches every rank as one verdict.
  std::string failure;
  if (comm.rank() == 0) {
    try {
      write(payloadOf(state, std::move(all), frames, scanHash, comm.size()), path);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  broadcastString(comm, failure, 0);
  if (!failure.empty()) throw Error("checkpoint not written: " + failure);
}

LoadedCheckpoint loadCheckpoint(const std::string& path, Communicator& comm,
                                const std::string& scanHash, std::size_t frames,
                                std::size_t frameSize, FrameRange mine) {
  LoadedCheckpoint loaded;
  // Rank 0 checks the whole file, checksum included, and tells the others which one to use.
  std::string chosen;
  std::string message;
  if (comm.rank() == 0) {
    const std::string newest = why(path);
    if (newest.empty()) {
      chosen = path;
    } else {
      const std::string previous = why(path + ".prev");
      if (previous.empty()) {
        chosen = path + ".prev";
        message = "checkpoint " + path + " is unusable (" + newest +
                  "); resuming from the previous one, " + chosen;
      } else {
        message = "no usable checkpoint: " + newest + "; and the previous one: " + previous;
      }
    }
  }
  broadcastString(comm, chosen, 0);
  broadcastString(comm, message, 0);
  if (chosen.empty()) throw InputError(path, "", message);

  const Payload p = read(chosen, false);
  if (p.scanHash != scanHash) {
    throw InputError(chosen, "scan_sha256", "the checkpoint was made from a different scan file");
  }
  if (p.wavesShape[0] != frames || p.wavesShape[1] != frameSize) {
    throw InputError(chosen, "exit_waves",
                     "shape " + h5::shapeText(p.wavesShape) + " does not match the scan's " +
                         std::to_string(frames) + " frames of " + std::to_string(frameSize) +
                         " x " + std::to_string(frameSize));
  }
  loaded.path = chosen;
  loaded.warning = message;
  loaded.state = stateOf(p, chosen);
  loaded.exitWaves.resize(mine.count() * frameSize * frameSize);
  readWaves(chosen, p, mine, loaded.exitWaves);
  return loaded;
}

std::string verifyCheckpoint(const std::string& path) {
  return why(path);
}

}  // namespace ptyx::job
