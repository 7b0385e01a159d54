#pragma once
// Session files (DESIGN.md §6, docs/SESSIONS.md): what a user did in the workbench, as JSON
// lines. Line 1 is a header; then actions (the CommandBus commands with their arguments, input
// file hashes and the parameters they left), effects (the iteration at which an asynchronous
// action really took effect in the run), metric checkpoints, run ends. Lines are appended and
// flushed one at a time, so that a crash loses nothing written before it; the reader merges the
// effects into their actions. No Qt: the workbench records, the CLI and tests replay.
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Reconstruction.hpp"

namespace ptyx::session {

inline constexpr const char* kFormatName = "ptyx-session";
/// The format this build writes and the newest it reads.
inline constexpr int kFormatVersion = 1;

struct Header {
  int version = kFormatVersion;
  std::string program;         ///< "ptyx-gui", "ptyx"
  std::string programVersion;  ///< PTYX_VERSION of the recording program
  std::string host;
  std::string started;  ///< ISO 8601, UTC
  std::string name;     ///< the user's name for the session ("" until named)
  /// toJson(ReconParams) of the form when recording began: where replay starts ("" in files
  /// written before session 9, which replay from the engine's defaults).
  std::string parameters;
};

/// An input file an action read, with its content hash at the time.
struct FileRef {
  std::string argument;  ///< which argument or parameter named it ("path", "probe_file")
  std::string path;
  std::string sha256;
};

/// The object and probe a save wrote: hashes of the arrays, not of the file (which carries a
/// date), with the run and iteration they came from.
struct ResultHashes {
  int run = 0;
  int iteration = 0;
  std::string objectSha256;
  std::string probeSha256;
};

struct Action {
  int seq = 0;                   ///< 1, 2, ...: effect lines refer to it
  std::string time;              ///< wall time, ISO 8601 UTC with milliseconds
  double offset_s = 0.0;         ///< seconds since the session started
  std::string command;           ///< the CommandBus name: "open_scan", "set_parameter", "run", ...
  std::string arguments = "{}";  ///< JSON object text, as the CommandBus took it
  std::vector<FileRef> files;
  std::string parameters;  ///< toJson(ReconParams) after the command ("" when not recorded)
  int iteration = 0;       ///< iterations the workbench had shown when the command was given
  int startsRun = 0;       ///< run number this command started (run, step), 0 when none
  std::optional<ResultHashes> result;  ///< save_result

  /// When the action reached the reconstruction, merged from its effect line: Pending when no
  /// effect line was written (the action needed none, or the session ended first); None when
  /// it never took effect (the run ended before).
  enum class Effect { Pending, At, None };
  Effect effect = Effect::Pending;
  int effectIteration = 0;  ///< iterations complete when it took effect (Effect::At)
  int line = 0;             ///< line number in the file (reader)
};

struct Checkpoint {
  int run = 0;
  int iteration = 0;
  double fourierError = 0.0;
  double overlapError = 0.0;
  double objectError = std::numeric_limits<double>::quiet_NaN();  ///< NaN: not scored
  std::string reason;  ///< "every", "pause", "step", "stop", "finished"
  int line = 0;
};

/// A run that ended by itself (its iterations complete) or failed.
struct RunEnd {
  int run = 0;
  int iteration = 0;
  std::string reason;  ///< "finished", "failed"
  int line = 0;
};

using Entry = std::variant<Action, Checkpoint, RunEnd>;

struct Session {
  std::string path;
  Header header;
  std::vector<Entry> entries;         ///< in file order; effects merged into their actions
  std::vector<std::string> warnings;  ///< e.g. a last line cut short by a crash
};

/// Reads and validates a session file. InputError naming the file and the line ("line 7") on
/// anything malformed, and on a format version newer than kFormatVersion. A last line without
/// its newline (the recorder was killed mid-write) is dropped with a warning, not an error.
Session readSession(const std::string& path);

/// Appends one line per call and flushes it, so that the file is complete up to the last call
/// whatever happens to the process afterwards. Throws Error when the file cannot be written.
class SessionWriter {
 public:
  /// Creates `path` (which must not exist yet) and writes the header.
  SessionWriter(const std::string& path, const Header& header);
  ~SessionWriter();
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  void write(const Action& action);
  /// The action `seq` took effect with `iteration` iterations complete (nullopt: never).
  void writeEffect(int seq, std::optional<int> iteration);
  void write(const Checkpoint& checkpoint);
  void write(const RunEnd& end);
  /// A later name for the session (Session ▸ Name); the reader keeps the last one.
  void writeName(const std::string& name);

 private:
  void writeLine(const std::string& json, bool sync);

  std::string path_;
  std::FILE* file_ = nullptr;
};

/// SHA-256 of an image's values (row-major complex64: float32 real, imaginary, little-endian).
std::string arraySha256(const Image<cfloat>& image);
/// Hashes of a result's object and probe.
ResultHashes resultHashes(const Reconstruction& result, int run);

/// Current UTC time, ISO 8601 with milliseconds.
std::string isoNowMillis();
/// This machine's host name ("" when unknown).
std::string hostName();

}  // namespace ptyx::session
