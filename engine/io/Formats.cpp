#include "io/Formats.hpp"

#include <filesystem>

#include "core/Error.hpp"
#include "io/Cxi.hpp"

namespace ptyx {
namespace {

template <class Entry>
std::string formatList(const std::vector<std::unique_ptr<Entry>>& entries) {
  std::string text;
  for (const auto& entry : entries) {
    text += (text.empty() ? "" : ", ") + entry->format();
  }
  return text.empty() ? "none" : text;
}

template <class Entry>
const Entry& byFormat(const std::vector<std::unique_ptr<Entry>>& entries, const std::string& format,
                      const char* kind) {
  for (const auto& entry : entries) {
    if (entry->format() == format) {
      return *entry;
    }
  }
  throw InputError(
      "format '" + format + "'", "",
      std::string("no ") + kind + " for this format (known formats: " + formatList(entries) + ")");
}

}  // namespace

void FormatRegistry::add(std::unique_ptr<ScanReader> reader) {
  readers_.push_back(std::move(reader));
}

void FormatRegistry::add(std::unique_ptr<ScanWriter> writer) {
  scanWriters_.push_back(std::move(writer));
}

void FormatRegistry::add(std::unique_ptr<ResultWriter> writer) {
  resultWriters_.push_back(std::move(writer));
}

const ScanReader& FormatRegistry::readerFor(const std::string& path) const {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(path, "", "no such file");
  }
  for (const auto& reader : readers_) {
    if (reader->canRead(path)) {
      return *reader;
    }
  }
  throw InputError(path, "",
                   "not a scan format Ptyx can read (known formats: " + formatList(readers_) + ")");
}

const ScanWriter& FormatRegistry::scanWriter(const std::string& format) const {
  return byFormat(scanWriters_, format, "scan writer");
}

const ResultWriter& FormatRegistry::resultWriter(const std::string& format) const {
  return byFormat(resultWriters_, format, "result writer");
}

std::vector<std::string> FormatRegistry::readerFormats() const {
  std::vector<std::string> formats;
  for (const auto& reader : readers_) {
    formats.push_back(reader->format());
  }
  return formats;
}

void registerCxi(FormatRegistry& registry) {
  registry.add(std::unique_ptr<ScanReader>(std::make_unique<cxi::ScanReader>()));
  registry.add(std::unique_ptr<ScanWriter>(std::make_unique<cxi::ScanWriter>()));
  registry.add(std::unique_ptr<ResultWriter>(std::make_unique<cxi::ResultWriter>()));
}

const FormatRegistry& builtinFormats() {
  static const FormatRegistry registry = [] {
    FormatRegistry built;
    registerCxi(built);
    return built;
  }();
  return registry;
}

Scan readScan(const std::string& path, const ReadOptions& options) {
  return builtinFormats().readerFor(path).read(path, options);
}

void writeScan(const Scan& scan, const std::string& path) {
  builtinFormats().scanWriter("cxi").write(scan, path);
}

void writeResult(const Reconstruction& result, const std::string& path) {
  builtinFormats().resultWriter("cxi").write(result, path);
}

}  // namespace ptyx
