#include "io/AtomicFile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/Error.hpp"

namespace ptyx {
namespace {

namespace fs = std::filesystem;

fs::path directoryOf(const std::string& target) {
  const fs::path parent = fs::path(target).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// Opens `path` and fsyncs it; closing happens on every path out.
void syncToDisk(const std::string& path, int flags, const std::string& target) {
  struct Descriptor {
    int fd;
    ~Descriptor() {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  } file{::open(path.c_str(), flags | O_CLOEXEC)};
  if (file.fd < 0) {
    throw Error(target + ": cannot open " + path + " to flush it: " + std::strerror(errno));
  }
  // Some filesystems cannot fsync a directory (EINVAL); the rename is still atomic there.
  if (::fsync(file.fd) != 0 && !((flags & O_DIRECTORY) != 0 && errno == EINVAL)) {
    throw Error(target + ": cannot flush " + path + " to disk: " + std::strerror(errno));
  }
}

}  // namespace

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
  const fs::path targetPath(target_);
  if (targetPath.filename().empty()) {
    throw Error(target_ + ": not a file name");
  }
  const fs::path directory = directoryOf(target_);
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw Error(target_ + ": cannot write: directory " + directory.string() + " does not exist");
  }
  // Hidden, in the same directory (rename is only atomic within one filesystem), and unique per
  // process and per writer so that concurrent writers never share a temporary.
  std::random_device entropy;
  const std::uint64_t token = (std::uint64_t{entropy()} << 32U) ^ entropy();
  std::ostringstream name;
  name << '.' << targetPath.filename().string() << ".tmp." << ::getpid() << '.' << std::hex
       << token;
  temp_ = (directory / name.str()).string();
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);  // may never have been created; nothing to report either way
  }
}

void AtomicFile::commit() {
  if (committed_) {
    throw Error(target_ + ": already committed");
  }
  syncToDisk(temp_, O_RDONLY, target_);
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    throw Error(target_ + ": cannot move " + temp_ + " into place: " + std::strerror(errno));
  }
  committed_ = true;
  // The rename itself lives in the directory; flush it so that it survives a power cut.
  syncToDisk(directoryOf(target_).string(), O_RDONLY | O_DIRECTORY, target_);
}

void writeFileAtomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  {
    std::ofstream out(file.tempPath(), std::ios::binary);
    out << text;
    out.close();
    if (!out) throw Error(path + ": cannot be written");
  }
  file.commit();
}

}  // namespace ptyx
