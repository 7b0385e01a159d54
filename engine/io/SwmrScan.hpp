#pragma once
// A scan file that grows while it is acquired (docs/STREAMING.md): a CXI file written with HDF5
// SWMR (single writer, multiple readers). Everything that is not per frame (geometry, mask,
// energy, initial probe, ground truth, and the planned positions of the whole scan) is written
// before SWMR starts; then frames, their translations and arrival times grow together, and a
// frames-complete counter written after each batch says how many frames a reader may use. A
// scan-complete marker ends the scan; the finished file is an ordinary CXI scan.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/Scan.hpp"
#include "io/Formats.hpp"

namespace ptyx {

namespace swmr {
// The streaming bookkeeping, next to the standard CXI layout.
inline constexpr const char* kGroup = "/entry_1/ptyx_stream";
inline constexpr const char* kPlannedTranslation = "/entry_1/ptyx_stream/planned_translation";
inline constexpr const char* kFramesPlanned = "/entry_1/ptyx_stream/frames_planned";
inline constexpr const char* kFramesComplete = "/entry_1/ptyx_stream/frames_complete";
inline constexpr const char* kScanComplete = "/entry_1/ptyx_stream/scan_complete";
inline constexpr const char* kFrameTime = "/entry_1/ptyx_stream/frame_written_unix_s";
inline constexpr const char* kRate = "/entry_1/ptyx_stream/rate_frames_per_s";
}  // namespace swmr

/// Writes a growing scan. Construction writes the header and starts SWMR; append() adds frames;
/// finish() sets the scan-complete marker and closes. A writer destroyed without finish() leaves
/// a file whose marker says "incomplete" (the acquisition was interrupted).
class SwmrScanWriter {
 public:
  /// `header`: geometry, mask, probe, truth and the planned positions of the whole scan (its
  /// magnitudes are not used). An existing file at `path` is replaced. Error naming the file.
  SwmrScanWriter(const std::string& path, const Scan& header, double rateFramesPerSecond);
  ~SwmrScanWriter();
  SwmrScanWriter(const SwmrScanWriter&) = delete;
  SwmrScanWriter& operator=(const SwmrScanWriter&) = delete;

  /// Appends frames (magnitudes, k x M x M; stored as intensities) at the given positions and
  /// publishes them: stage() then publish().
  void append(std::span<const float> magnitudes, std::span<const Position> positions);
  /// First half of append(): the frames and translations are written and flushed, but the
  /// frames-complete counter is not yet raised, so readers do not use them.
  void stage(std::span<const float> magnitudes, std::span<const Position> positions);
  /// Second half: records the arrival time of the staged frames and raises the counter.
  void publish();
  /// Sets the scan-complete marker, flushes and closes.
  void finish();

  [[nodiscard]] std::size_t framesWritten() const;  ///< published frames

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Reads a growing scan as it is written (SWMR read). Frames become visible only once the
/// writer has published them; a frame is never seen half written.
class SwmrScanReader {
 public:
  /// Opens `path` and reads the header. InputError naming the file and the field when it is not
  /// a growing scan or a field is missing or wrong.
  explicit SwmrScanReader(const std::string& path, const ReadOptions& options = {});
  ~SwmrScanReader();
  SwmrScanReader(const SwmrScanReader&) = delete;
  SwmrScanReader& operator=(const SwmrScanReader&) = delete;

  /// Geometry, mask, probe, truth, source path and hash-free provenance; positions are the
  /// planned positions of the whole scan; no frames.
  [[nodiscard]] const Scan& header() const;
  [[nodiscard]] std::size_t framesPlanned() const;
  [[nodiscard]] std::size_t frameSize() const;  ///< M of the M x M frames
  /// Refreshes from the file; returns the number of published frames (never decreasing).
  std::size_t poll();
  [[nodiscard]] std::size_t framesAvailable() const;
  /// The writer set the scan-complete marker and every published frame is visible (last poll).
  [[nodiscard]] bool complete() const;

  /// Published frames [first, first + count): magnitudes (sqrt of the intensities), checked
  /// finite and non-negative (InputError naming the frame otherwise).
  [[nodiscard]] Stack<float> readMagnitudes(std::size_t first, std::size_t count);
  /// Their positions as recorded with the frames (object pixels, the CXI convention).
  [[nodiscard]] std::vector<Position> readPositions(std::size_t first, std::size_t count);
  /// When the writer published each of them (seconds since the Unix epoch).
  [[nodiscard]] std::vector<double> readArrivalTimes(std::size_t first, std::size_t count);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The file has the streaming group of a growing scan (finished or not). False for anything
/// unreadable.
bool isGrowingScan(const std::string& path);

}  // namespace ptyx
