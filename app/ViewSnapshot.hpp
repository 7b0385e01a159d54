#pragma once
// A snapshot as the views draw it: the engine's Snapshot together with the amplitude and phase of
// its object and probe. Preparing one costs an atan2 per pixel (tens of milliseconds for a large
// object), so it is done on the thread that produced the snapshot (the run worker, or the
// reader of a remote job's snapshot file), never on the GUI thread.
#include <memory>

#include "recon/Reconstructor.hpp"
#include "widgets/ComplexImageView.hpp"

namespace ptyx::app {

struct ViewSnapshot {
  std::shared_ptr<const Snapshot> state;
  widgets::ComplexPlanes object;
  widgets::ComplexPlanes probe;

  [[nodiscard]] static std::shared_ptr<const ViewSnapshot> prepare(
      std::shared_ptr<const Snapshot> state);
};

}  // namespace ptyx::app
