#pragma once
// A snapshot as the views draw it: the amplitude and phase of the engine's object and probe, and
// the rest of its Snapshot (iteration, metrics, per-frame errors; not the complex arrays, which
// the planes replace). Preparing one costs an atan2 per pixel (tens of milliseconds for a large
// object on one core), so it is done on the thread that produced the snapshot (the run worker,
// with the engine's threads, or the reader of a remote job's snapshot file), never on the GUI
// thread.
#include <memory>

#include "recon/Reconstructor.hpp"
#include "widgets/ComplexImageView.hpp"

namespace ptyx::app {

struct ViewSnapshot {
  std::shared_ptr<const Snapshot> state;  ///< object and probe left empty
  widgets::ComplexPlanes object;
  widgets::ComplexPlanes probe;

  [[nodiscard]] static std::shared_ptr<const ViewSnapshot> prepare(const Snapshot& snapshot);
};

}  // namespace ptyx::app
