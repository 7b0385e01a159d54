#pragma once
// The iteration loop (DESIGN.md §1). The Reconstructor owns object and probe, runs the
// projections through a Backend and sums across ranks through a Communicator. step(n) returns
// control after n iterations; parameter changes, pause and stop requested from another thread
// are applied between iterations. Observers receive metrics every iteration and, at a throttled
// rate, snapshots of object and probe.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backend/Backend.hpp"
#include "comm/Communicator.hpp"
#include "core/Reconstruction.hpp"
#include "core/Scan.hpp"
#include "params/Parameters.hpp"
#include "recon/Layout.hpp"
#include "recon/ObjectError.hpp"

namespace ptyx {

struct Snapshot {
  int iteration = 0;
  Image<cfloat> object;
  Image<cfloat> probe;
  IterationMetrics metrics;
  std::vector<double> frameErrors;  ///< this rank's frames' Fourier errors (all frames when serial)
};

/// The frames [first, last) of the scan that one rank holds.
struct FrameRange {
  std::size_t first = 0;
  std::size_t last = 0;
  [[nodiscard]] std::size_t count() const { return last - first; }
};

/// Rank `rank` of `ranks` holds a contiguous block of frames; blocks differ by at most one frame.
FrameRange frameBlock(std::size_t frames, int rank, int ranks);

/// Everything later iterations depend on besides the exit waves (which stay in the backend):
/// with the waves, what a checkpoint holds. Random choices happen only at initialisation, from
/// params.seed, so there is no generator state to keep.
struct SolverState {
  int iteration = 0;
  ReconParams params;
  Image<cfloat> object;
  Image<cfloat> probe;
  std::vector<float> illumination;  ///< object denominator of the last overlap projection
  std::vector<IterationMetrics> history;
};

class ReconstructionObserver {
 public:
  virtual ~ReconstructionObserver() = default;
  virtual void onIteration(const IterationMetrics& /*metrics*/) {}
  virtual void onSnapshot(const Snapshot& /*snapshot*/) {}
};

class Reconstructor {
 public:
  /// Lays out the object, hands this rank's share of the frames to `backend`, and initialises
  /// probe and object from `params`. Throws InputError on inconsistent input. The scan must
  /// outlive the Reconstructor, but its frames are copied: the caller may release them.
  Reconstructor(const Scan& scan, const ReconParams& params, Backend& backend,
                Communicator& communicator);

  /// Starts on the frames that have arrived of a scan still being acquired (one rank only;
  /// docs/STREAMING.md): the object is laid out for `planned`, the positions of the whole scan,
  /// and `arrived` holds the frames so far with their positions. addFrames() adds the rest.
  /// InputError when a frame lies outside the planned scan; Error when run on several ranks.
  Reconstructor(const Scan& arrived, std::span<const Position> planned, const ReconParams& params,
                Backend& backend, Communicator& communicator);

  void addObserver(ReconstructionObserver* observer);  ///< not owned; must outlive the runs

  /// Adds frames that arrived since (magnitudes k x M x M, centred, and their positions) to a
  /// reconstruction that follows a growing scan. Their exit waves start from the current object
  /// and probe; the next iteration uses them. Between iterations only, on the loop's thread.
  void addFrames(std::span<const float> magnitudes, std::span<const Position> positions);
  /// This reconstruction follows a growing scan (its metrics carry framesReceived).
  [[nodiscard]] bool following() const { return following_; }
  /// Sets the run length without marking a parameter change (the follower does, once the scan
  /// is complete). On the loop's thread.
  void setIterationTarget(int iterations);

  /// Runs up to n iterations; returns how many ran (fewer when paused or stopped).
  int step(int n);
  /// Runs until params.iterations iterations are complete, or a stop.
  int run();

  // Thread-safe requests, applied between iterations.
  void requestParameters(const ReconParams& params);
  void requestPause(bool paused);
  void requestStop();
  [[nodiscard]] bool paused() const { return paused_.load(); }
  [[nodiscard]] bool stopped() const { return stopped_.load(); }

  [[nodiscard]] int iteration() const { return iteration_; }
  [[nodiscard]] const ReconParams& parameters() const { return params_; }
  [[nodiscard]] const Image<cfloat>& object() const { return object_; }
  [[nodiscard]] const Image<cfloat>& probe() const { return probe_; }
  [[nodiscard]] const ObjectLayout& layout() const { return layout_; }
  [[nodiscard]] const std::vector<IterationMetrics>& history() const { return history_; }
  /// The Fourier error of each of this rank's frames in the last iteration (frames
  /// frameBlock(...) of the scan; all frames when serial): where the data disagree.
  [[nodiscard]] std::vector<double> frameFourierErrors() const;
  /// The frames this rank holds.
  [[nodiscard]] FrameRange frames() const { return frames_; }

  /// The complete solver state but the exit waves (checkpoints).
  [[nodiscard]] SolverState state() const;
  /// This rank's exit waves, frames().count() x M x M.
  void readExitWaves(std::span<cfloat> out) const;
  /// Continues from a saved state and this rank's exit waves, as if the iterations that made
  /// them had run here. Pending requests are dropped. InputError when shapes do not match.
  void restore(const SolverState& state, std::span<const cfloat> exitWaves);
  /// Object and probe with the global phase removed (object mean phase zero where well lit),
  /// positions, history and parameters; provenance is the caller's to fill.
  [[nodiscard]] Reconstruction result() const;
  /// Pixels lit at least kWellIlluminated of the maximum in the last overlap projection.
  [[nodiscard]] Image<std::uint8_t> wellIlluminated() const;

 private:
  void start(std::span<const FrameWindow> windows);
  [[nodiscard]] std::vector<FrameWindow> checkedWindows(std::span<const Position> positions,
                                                        std::size_t firstFrame) const;
  void iterate();
  void overlapProjection(Waves waves, bool updateProbe);
  void notify(const IterationMetrics& metrics);

  const Scan& scan_;
  ReconParams params_;
  Backend& backend_;
  Communicator& comm_;
  ObjectLayout layout_;
  FrameRange frames_;
  std::vector<Position> positions_;  // of the frames in use (the scan's, or those arrived)
  bool following_ = false;
  Image<cfloat> object_;
  Image<cfloat> probe_;
  Image<cfloat> phiObject_;  // the general difference map's pi_o(psi), kept between iterations
  Image<cfloat> phiProbe_;
  std::vector<float> sums_;  // [num_O (complex), den_O, num_P (complex), den_P]: one all-reduce
  std::vector<float> illumination_;
  std::vector<IterationMetrics> history_;
  std::vector<ReconstructionObserver*> observers_;
  int iteration_ = 0;
  std::chrono::steady_clock::time_point lastSnapshot_{};
  std::unique_ptr<ObjectScorer> scorer_;  // made at the first score, kept while the grid holds

  std::mutex requestMutex_;
  std::optional<ReconParams> pending_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace ptyx
