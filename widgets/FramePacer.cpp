#include "widgets/FramePacer.hpp"

#include <algorithm>

#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::widgets {

namespace {
constexpr int kWatchdogMs = 250;
}

FramePacer::FramePacer(double budgetMs, QObject* parent) : QObject(parent), budgetMs_(budgetMs) {
  next_.setSingleShot(true);
  next_.setInterval(0);
  connect(&next_, &QTimer::timeout, this, &FramePacer::releaseBatch);
  watchdog_.setSingleShot(true);
  watchdog_.setInterval(kWatchdogMs);
  connect(&watchdog_, &QTimer::timeout, this, [this] {
    drawing_.clear();
    if (!pending_.empty()) next_.start();
  });
}

void FramePacer::add(VtkRenderWidget* view) {
  view->setPacer(this);
  connect(view, &VtkRenderWidget::frameRendered, this, [this, view] { frameDone(view); });
  connect(view, &QObject::destroyed, this, [this, view] { drawing_.remove(view); });
}

void FramePacer::request(VtkRenderWidget* view) {
  const bool queued = std::any_of(pending_.begin(), pending_.end(),
                                  [view](const QPointer<VtkRenderWidget>& p) { return p == view; });
  if (!queued) pending_.emplace_back(view);
  // Requests made in this pass of the event loop are collected into one batch.
  if (drawing_.isEmpty() && !next_.isActive()) next_.start();
}

void FramePacer::releaseBatch() {
  double planned = 0.0;
  while (!pending_.empty()) {
    VtkRenderWidget* view = pending_.front();
    if (view == nullptr) {
      pending_.pop_front();
      continue;
    }
    const double cost = view->lastFrameMilliseconds();
    if (!drawing_.isEmpty() && planned + cost > budgetMs_) break;  // the rest: next batch
    pending_.pop_front();
    planned += cost;
    // A view that is not on screen gets no paint event: nothing to wait for. That includes a
    // view that is shown but wholly covered, such as one in a dock behind another dock's tab.
    if (view->isVisible() && !view->visibleRegion().isEmpty()) drawing_.insert(view);
    view->update();
  }
  ++batches_;
  if (drawing_.isEmpty()) {
    if (!pending_.empty()) next_.start();
  } else {
    watchdog_.start();
  }
}

void FramePacer::frameDone(VtkRenderWidget* view) {
  if (!drawing_.remove(view) || !drawing_.isEmpty()) return;
  watchdog_.stop();
  if (!pending_.empty()) next_.start();
}

}  // namespace ptyx::widgets
