#include "ViewSnapshot.hpp"

namespace ptyx::app {

std::shared_ptr<const ViewSnapshot> ViewSnapshot::prepare(std::shared_ptr<const Snapshot> state) {
  auto view = std::make_shared<ViewSnapshot>();
  view->object = widgets::ComplexPlanes::of(state->object);
  view->probe = widgets::ComplexPlanes::of(state->probe);
  view->state = std::move(state);
  return view;
}

}  // namespace ptyx::app
