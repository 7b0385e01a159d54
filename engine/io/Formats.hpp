#pragma once
// Readers and writers, kept in a registry keyed by format name so that facility formats can be
// added (registerX(FormatRegistry&)) without touching the callers.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/Reconstruction.hpp"
#include "core/Scan.hpp"

namespace ptyx {

/// How translations in the file map onto object pixels. Tools disagree on sign and axis order,
/// so this is an explicit setting rather than a guess.
struct ReadOptions {
  bool flipX = false;   ///< negate the x translation
  bool flipY = false;   ///< negate the y translation
  bool swapXY = false;  ///< exchange x and y before anything else
};

class ScanReader {
 public:
  virtual ~ScanReader() = default;
  [[nodiscard]] virtual std::string format() const = 0;
  /// Cheap check (signature, layout) whether this reader understands `path`.
  [[nodiscard]] virtual bool canRead(const std::string& path) const = 0;
  /// Reads and validates; throws InputError naming the file and the field on bad input.
  [[nodiscard]] virtual Scan read(const std::string& path, const ReadOptions& options) const = 0;
};

class ScanWriter {
 public:
  virtual ~ScanWriter() = default;
  [[nodiscard]] virtual std::string format() const = 0;
  /// Atomic: either the complete file appears at `path` or nothing does.
  virtual void write(const Scan& scan, const std::string& path) const = 0;
};

class ResultWriter {
 public:
  virtual ~ResultWriter() = default;
  [[nodiscard]] virtual std::string format() const = 0;
  /// Atomic: either the complete file appears at `path` or nothing does.
  virtual void write(const Reconstruction& result, const std::string& path) const = 0;
};

class FormatRegistry {
 public:
  void add(std::unique_ptr<ScanReader> reader);
  void add(std::unique_ptr<ScanWriter> writer);
  void add(std::unique_ptr<ResultWriter> writer);

  /// The first reader whose canRead() accepts the file; InputError naming the file otherwise
  /// (including when it does not exist or cannot be opened).
  [[nodiscard]] const ScanReader& readerFor(const std::string& path) const;
  [[nodiscard]] const ScanWriter& scanWriter(const std::string& format) const;
  [[nodiscard]] const ResultWriter& resultWriter(const std::string& format) const;
  [[nodiscard]] std::vector<std::string> readerFormats() const;

 private:
  std::vector<std::unique_ptr<ScanReader>> readers_;
  std::vector<std::unique_ptr<ScanWriter>> scanWriters_;
  std::vector<std::unique_ptr<ResultWriter>> resultWriters_;
};

/// CXI (DESIGN.md §4): scan reader with the usual fallbacks, scan writer, result writer.
void registerCxi(FormatRegistry& registry);

/// A registry with every built-in format registered.
const FormatRegistry& builtinFormats();

// Conveniences over builtinFormats().
Scan readScan(const std::string& path, const ReadOptions& options = {});
void writeScan(const Scan& scan, const std::string& path);                ///< CXI
void writeResult(const Reconstruction& result, const std::string& path);  ///< CXI

/// A probe for initialisation: a result's /entry_1/image_1/data (first mode), else a scan's
/// source_1/illumination or source_1/probe. InputError naming the file when none is there.
Image<cfloat> readProbeFile(const std::string& path);
/// An object for initialisation: a result's /entry_1/image_2/data.
Image<cfloat> readObjectFile(const std::string& path);
/// The object, probe and metric history of a result file (round trips writeResult).
Reconstruction readResult(const std::string& path);

/// SHA-256 of the file's bytes, lower-case hex.
std::string fileSha256(const std::string& path);
/// SHA-256 of bytes in memory, lower-case hex (result arrays in session files).
std::string sha256Hex(std::span<const unsigned char> bytes);

}  // namespace ptyx
