#pragma once
// A QOpenGLWidget that hosts VTK rendering (Qt 6; Debian's VTK Qt module is Qt 5 only).
//
// VTK renders into its own framebuffers inside the widget's GL context; paintGL() copies VTK's
// display framebuffer into the widget's framebuffer. Two details decide whether this shows the
// picture or garbage (PLATFORM.md):
//  * when VTK asks for the context we make it current on the widget's surface and nothing more:
//    QOpenGLWidget::makeCurrent() would also rebind Qt's framebuffer behind the back of VTK's
//    cached GL state;
//  * after the copy, alpha is forced to 1, or grab() and the compositor see a transparent picture.
//
// Mouse and wheel events go to a vtkGenericRenderWindowInteractor; renders the interactor asks
// for become update() calls, so all rendering happens in paintGL() with the context Qt prepared.
#include <QOpenGLWidget>

#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkNew.h>

class vtkInteractorObserver;
class vtkObject;

namespace ptyx::widgets {

class FramePacer;

class VtkRenderWidget : public QOpenGLWidget {
  Q_OBJECT

 public:
  explicit VtkRenderWidget(QWidget* parent = nullptr);
  ~VtkRenderWidget() override;
  VtkRenderWidget(const VtkRenderWidget&) = delete;
  VtkRenderWidget& operator=(const VtkRenderWidget&) = delete;

  /// OpenGL 3.2 core, no multisampling: what VTK's OpenGL2 backend needs. Call before the
  /// QApplication is constructed (it sets the default format every context is created with).
  static void setDefaultSurfaceFormat();

  [[nodiscard]] vtkGenericOpenGLRenderWindow* renderWindow() const;
  [[nodiscard]] vtkGenericRenderWindowInteractor* interactor() const;
  /// Replaces the interactor style (default: pan with left/middle drag, zoom with wheel/right).
  void setInteractorStyle(vtkInteractorObserver* style);
  /// Schedules a repaint; VTK renders in the next paintGL(). Through the pacer, if one is set.
  void requestRender();
  /// Spreads this view's frames with other views' (FramePacer.hpp); null: repaint at once.
  void setPacer(FramePacer* pacer) { pacer_ = pacer; }
  /// GUI-thread time of the last paintGL(): VTK's render and the copy into Qt's framebuffer.
  [[nodiscard]] double lastFrameMilliseconds() const { return lastFrameMilliseconds_; }

 signals:
  /// After each frame VTK rendered (in paintGL).
  void frameRendered();

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;

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
  void releaseGraphics();
  void forwardMouse(QMouseEvent* event, unsigned long vtkEvent, bool repeat = false);
  [[nodiscard]] QPoint devicePixels(QPointF point) const;

  vtkNew<vtkGenericOpenGLRenderWindow> window_;
  vtkNew<vtkGenericRenderWindowInteractor> interactor_;
  bool initialised_ = false;
  int wheelAccumulated_ = 0;
  double lastFrameMilliseconds_ = 0.0;
  FramePacer* pacer_ = nullptr;
};

}  // namespace ptyx::widgets
