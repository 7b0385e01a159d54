#pragma once
// Writing files so that a crash or an error never leaves a half-written result: write to a
// temporary name beside the target, fsync, rename. Used by every writer.
#include <string>

namespace ptyx {

class AtomicFile {
 public:
  explicit AtomicFile(std::string target);
  ~AtomicFile();  ///< removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Where to write: a unique name in the target's directory.
  [[nodiscard]] const std::string& tempPath() const { return temp_; }
  /// fsyncs the temporary file and renames it onto the target; throws Error on failure.
  void commit();

 private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

/// Writes `text` to `path` through an AtomicFile; throws Error naming the file on failure.
void writeFileAtomically(const std::string& path, const std::string& text);

}  // namespace ptyx
