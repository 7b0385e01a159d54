#include "ViewSnapshot.hpp"

namespace ptyx::app {

std::shared_ptr<const ViewSnapshot> ViewSnapshot::prepare(const Snapshot& snapshot) {
  auto view = std::make_shared<ViewSnapshot>();
  view->object = widgets::ComplexPlanes::of(snapshot.object);
  view->probe = widgets::ComplexPlanes::of(snapshot.probe);
  auto state = std::make_shared<Snapshot>();
  state->iteration = snapshot.iteration;
  state->metrics = snapshot.metrics;
  state->frameErrors = snapshot.frameErrors;
  view->state = std::move(state);
  return view;
}

}  // namespace ptyx::app
