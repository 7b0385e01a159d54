#pragma once
// Spreads the frames of several VTK views over successive passes of the event loop.
//
// A live snapshot dirties every view at once, and Qt paints all dirty views of a window in one
// repaint: on a software GL driver that one repaint can hold the GUI thread for longer than a
// user tolerates (input, the status bar and timers all wait). Views with a pacer ask it for their
// frames instead of calling update(): it releases the pending views in request order, as many
// at a time as fit a time budget by what each view's last frame cost, and releases the next
// batch only once the previous one has been drawn, with a pass of the event loop in between.
// A single view's repaint (panning, a colour-map change) goes through at once, as before.
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <deque>

namespace ptyx::widgets {

class VtkRenderWidget;

class FramePacer : public QObject {
  Q_OBJECT

 public:
  /// `budgetMs`: the GUI-thread time one batch of frames may take (the window's flush comes on
  /// top).
  explicit FramePacer(double budgetMs, QObject* parent = nullptr);

  /// Routes `view`'s requestRender() through this pacer.
  void add(VtkRenderWidget* view);
  /// Called by a paced view that wants a frame.
  void request(VtkRenderWidget* view);

  [[nodiscard]] double budgetMilliseconds() const { return budgetMs_; }
  /// Batches released so far (each is one repaint of the window).
  [[nodiscard]] long batches() const { return batches_; }

 private:
  void releaseBatch();
  void frameDone(VtkRenderWidget* view);

  double budgetMs_;
  std::deque<QPointer<VtkRenderWidget>> pending_;
  QSet<VtkRenderWidget*> drawing_;
  QTimer next_;      // zero-interval: the next batch, after one pass of the event loop
  QTimer watchdog_;  // a released frame Qt never painted (hidden view) does not stall the rest
  long batches_ = 0;
};

}  // namespace ptyx::widgets
