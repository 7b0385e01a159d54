#pragma once
// Reconstruction while a scan is acquired (docs/STREAMING.md): the ScanFollower watches a growing
// scan file (SWMR), decides when enough frames have arrived to start, and between iterations
// hands the frames that arrived since to the Reconstructor. The CLI (`ptyx recon --follow`), the
// workbench and the latency benchmark share it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/Scan.hpp"
#include "io/Formats.hpp"

namespace ptyx {

class Reconstructor;
class SwmrScanReader;

/// When to start, and how long to wait.
struct FollowOptions {
  /// Start rule: at least this many frames have arrived, and their probe footprints cover at
  /// least minCoverage of the planned scan's footprint; or the scan is complete.
  std::size_t minFrames = 1;
  double minCoverage = 0.5;
  /// Give up after this long without the file appearing or a new frame arriving.
  double timeout_s = 60.0;
  /// Pause between looks at the file while waiting to start.
  double poll_s = 0.01;
};

/// The fraction of the planned scan's footprint covered by frames at `arrived`. A frame's
/// footprint is the disc of diameter M/2 about its centre (the well-lit part of a probe that
/// oversamples by 2 or more); the planned footprint is the union over all planned frames.
class Coverage {
 public:
  Coverage(std::span<const Position> planned, std::size_t frameSize,
           const std::string& source = "planned scan");
  void add(std::span<const Position> arrived);
  [[nodiscard]] double fraction() const;

 private:
  template <class Fn>
  void forEachPixel(const Position& p, Fn&& fn) const;  ///< the pixels of p's footprint
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  double originRow_ = 0.0;
  double originCol_ = 0.0;
  double radius_ = 0.0;
  std::vector<std::uint8_t> planned_;
  std::vector<std::uint8_t> covered_;
  std::size_t plannedCount_ = 0;
  std::size_t coveredCount_ = 0;
};

class ScanFollower {
 public:
  ScanFollower(std::string path, const ReadOptions& orientation, const FollowOptions& options);
  ~ScanFollower();
  ScanFollower(const ScanFollower&) = delete;
  ScanFollower& operator=(const ScanFollower&) = delete;

  /// Waits for the file and for the start rule. Returns the scan so far (header, the frames that
  /// have arrived, their positions); it must outlive the Reconstructor built on it. Error when the
  /// timeout passes without the file or a new frame, or `cancelled` returns true; InputError
  /// when the file is not a growing scan or a field is wrong.
  Scan& waitForStart(const std::function<bool()>& cancelled = {});

  /// Looks at the file and adds every frame that arrived since to `reconstructor` (built on the
  /// scan waitForStart returned). Returns how many were added.
  std::size_t addArrived(Reconstructor& reconstructor);
  /// Call just before an iteration starts: frames added since the last call are "used" now, and
  /// their latency from arrival (written and published) is recorded.
  void iterationStarting();

  /// The header with every frame received so far and its position, read again from the file
  /// (for showing the scan; the reconstruction keeps its own copy).
  [[nodiscard]] Scan scanSoFar();
  [[nodiscard]] const std::string& path() const { return path_; }

  /// The writer marked the scan complete and every frame is in the reconstruction.
  [[nodiscard]] bool complete() const;
  /// Not complete, and no new frame for longer than the timeout.
  [[nodiscard]] bool stalled() const;
  [[nodiscard]] std::size_t framesReceived() const { return received_; }
  [[nodiscard]] std::size_t framesPlanned() const;
  [[nodiscard]] const std::vector<Position>& plannedPositions() const;
  [[nodiscard]] double coverage() const;
  /// Seconds from each frame's arrival to the start of the first iteration that used it (frames
  /// that were there before the reconstruction started are not counted).
  [[nodiscard]] const std::vector<double>& latencies() const { return latencies_; }

 private:
  std::string path_;
  ReadOptions orientation_;
  FollowOptions options_;
  std::unique_ptr<SwmrScanReader> reader_;
  std::unique_ptr<Coverage> coverage_;
  Scan scan_;
  std::size_t received_ = 0;
  std::vector<double> pendingArrivals_;
  std::vector<double> latencies_;
  std::chrono::steady_clock::time_point lastArrival_;
};

/// Median, 95th percentile and maximum of `values` (zeros when empty).
struct LatencySummary {
  std::size_t count = 0;
  double median = 0.0;
  double p95 = 0.0;
  double max = 0.0;
};
LatencySummary summarise(std::vector<double> values);

}  // namespace ptyx
