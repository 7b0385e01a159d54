#pragma once
// A Qt 6 widget that hosts VTK rendering (Debian's VTK Qt module is Qt 5 only).
//
// VTK renders into its own framebuffers inside a GL context this widget owns (made current on an
// offscreen surface); the finished frame is read back into an image that paintEvent() draws like
// any other widget's content. We do not use QOpenGLWidget: one of those in a window makes Qt
// compose the whole window through OpenGL on every repaint (upload the backing store, draw each
// GL widget, swap the full window), which with software GL (Xvfb, VNC, X forwarding: the usual
// way to reach a beamline workstation) cost 14 ms per repaint and three quarters of the GUI
// thread during a live run (docs/PERFORMANCE.md). Read-back costs a fraction of a millisecond
// per view.
//
// Pitfalls a pixel test must keep catching (PLATFORM.md, tests/gui/vtk_render_widget_test.cpp):
//  * read VTK's display framebuffer, through VTK's state cache, or the frame is garbage;
//  * GL rows run bottom-up: the image is flipped, or the picture is upside down;
//  * VTK leaves its background's alpha (0 by default): alpha is forced to 1, or a grab converted
//    to ARGB shows a transparent picture.
//
// Mouse and wheel events go to a vtkGenericRenderWindowInteractor; renders the interactor asks
// for become update() calls, so all rendering happens in paintEvent().
#include <QImage>
#include <QWidget>

#include <memory>

#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkNew.h>

class QOffscreenSurface;
class QPainter;
class QOpenGLContext;
class vtkInteractorObserver;
class vtkObject;

namespace ptyx::widgets {

class FramePacer;

class VtkRenderWidget : public QWidget {
  Q_OBJECT

 public:
  explicit VtkRenderWidget(QWidget* parent = nullptr);
  ~VtkRenderWidget() override;
  VtkRenderWidget(const VtkRenderWidget&) = delete;
  VtkRenderWidget& operator=(const VtkRenderWidget&) = delete;

  /// OpenGL 3.2 core, no multisampling: what VTK's OpenGL2 backend needs. Call before the
  /// QApplication is constructed (it sets the default format every context is created with).
  /// Also installs the FreeType workaround for VTK's text (FreeTypeCache.hpp).
  static void setDefaultSurfaceFormat();

  [[nodiscard]] vtkGenericOpenGLRenderWindow* renderWindow() const;
  [[nodiscard]] vtkGenericRenderWindowInteractor* interactor() const;
  /// Replaces the interactor style (default: pan with left/middle drag, zoom with wheel/right).
  void setInteractorStyle(vtkInteractorObserver* style);
  /// Schedules a repaint; VTK renders in the next paintEvent(). Through the pacer, if one is set.
  void requestRender();
  /// Spreads this view's frames with other views' (FramePacer.hpp); null: repaint at once.
  void setPacer(FramePacer* pacer) { pacer_ = pacer; }
  /// GUI-thread time of the last frame: VTK's render, the read-back and drawing it.
  [[nodiscard]] double lastFrameMilliseconds() const { return lastFrameMilliseconds_; }
  /// Renders now and returns the frame, as the widget shows it (device pixels, opaque, with the
  /// overlay drawn). Null if no OpenGL context could be made.
  [[nodiscard]] QImage renderedFrame();

 signals:
  /// After each frame VTK rendered.
  void frameRendered();

 protected:
  /// The widget's size changed (w, h in logical pixels). Subclasses lay out their overlays and
  /// call this.
  virtual void resizeFrame(int w, int h);
  /// Renders VTK's scene into frame_ with the context current. Subclasses bring their scene up to
  /// date first, then call this.
  virtual void renderFrame();
  /// Draws over VTK's frame with Qt, in logical pixels (colour bars: ColourBar.hpp).
  virtual void paintOverlay(QPainter& /*painter*/) {}

  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void enterEvent(QEnterEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  void makeContextCurrent(vtkObject* caller, unsigned long event, void* data);
  void reportIsCurrent(vtkObject* caller, unsigned long event, void* callData);
  void onInteractorRender(vtkObject* caller, unsigned long event, void* data);
  bool ensureGraphics();
  /// Makes the context current and renders into frame_; false without a context.
  bool renderNow();
  void readFrame();
  void releaseGraphics();
  void forwardMouse(QMouseEvent* event, unsigned long vtkEvent, bool repeat = false);
  [[nodiscard]] QPoint devicePixels(QPointF point) const;

  vtkNew<vtkGenericOpenGLRenderWindow> window_;
  vtkNew<vtkGenericRenderWindowInteractor> interactor_;
  std::unique_ptr<QOffscreenSurface> surface_;
  std::unique_ptr<QOpenGLContext> context_;
  QImage frame_;
  bool initialised_ = false;
  bool contextFailed_ = false;
  int wheelAccumulated_ = 0;
  double lastFrameMilliseconds_ = 0.0;
  FramePacer* pacer_ = nullptr;
};

}  // namespace ptyx::widgets
