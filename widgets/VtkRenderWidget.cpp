#include "widgets/VtkRenderWidget.hpp"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <cstdlib>

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkInteractorStyleImage.h>
#include <vtkObjectFactory.h>
#include <vtkOpenGLState.h>
#include <vtkRenderWindowInteractor.h>

#include "widgets/FramePacer.hpp"
#include "widgets/FreeTypeCache.hpp"

// GL enums used below, spelled out so that no GL header has to be included next to Qt's.
namespace {
constexpr unsigned int kGlDrawFramebuffer = 0x8CA9;  // GL_DRAW_FRAMEBUFFER
constexpr unsigned int kGlColorBufferBit = 0x4000;   // GL_COLOR_BUFFER_BIT
constexpr unsigned int kGlScissorTest = 0x0C11;      // GL_SCISSOR_TEST
constexpr unsigned int kGlLequal = 0x0203;           // GL_LEQUAL
}  // namespace

namespace ptyx::widgets {
namespace {

/// Image interaction: left or middle drag pans, wheel or right drag zooms. (VTK's image style
/// puts window/level on the left button, which our views do not use: colours come from the
/// view's range settings.)
class PanZoomImageStyle : public vtkInteractorStyleImage {
 public:
  static PanZoomImageStyle* New();
  vtkTypeMacro(PanZoomImageStyle, vtkInteractorStyleImage)

      void OnLeftButtonDown() override {
    const int* pos = this->Interactor->GetEventPosition();
    this->FindPokedRenderer(pos[0], pos[1]);
    if (this->CurrentRenderer == nullptr) return;
    this->GrabFocus(this->EventCallbackCommand);
    this->StartPan();
  }
  void OnLeftButtonUp() override {
    if (this->State == VTKIS_PAN) {
      this->EndPan();
      if (this->Interactor != nullptr) this->ReleaseFocus();
    }
  }
  // No keyboard shortcuts: VTK's defaults include quitting and wireframe toggles.
  void OnChar() override {}
  void OnKeyPress() override {}
};
vtkStandardNewMacro(PanZoomImageStyle);

}  // namespace

VtkRenderWidget::VtkRenderWidget(QWidget* parent) : QOpenGLWidget(parent) {
  setMouseTracking(true);  // pixel read-outs follow the mouse without a button held
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(64, 64);

  // The context is Qt's: VTK must neither create nor swap one, and must not render before
  // paintGL() has prepared it.
  window_->SetOwnContext(false);
  window_->SetReadyForRendering(false);
  window_->SetFrameBlitModeToNoBlit();
  window_->SetMultiSamples(0);
  window_->SetIsDirect(true);
  window_->SetSupportsOpenGL(true);
  window_->SetForceMaximumHardwareLineWidth(1);
  window_->AddObserver(vtkCommand::WindowMakeCurrentEvent, this,
                       &VtkRenderWidget::makeContextCurrent);
  window_->AddObserver(vtkCommand::WindowIsCurrentEvent, this, &VtkRenderWidget::reportIsCurrent);

  interactor_->SetRenderWindow(window_);
  // Renders requested by interaction (pan, zoom) become repaints: rendering only in paintGL().
  interactor_->EnableRenderOff();
  interactor_->AddObserver(vtkCommand::RenderEvent, this, &VtkRenderWidget::onInteractorRender);
  vtkNew<PanZoomImageStyle> style;
  interactor_->SetInteractorStyle(style);
  interactor_->Initialize();
}

void VtkRenderWidget::requestRender() {
  if (pacer_ != nullptr) {
    pacer_->request(this);
  } else {
    update();
  }
}

VtkRenderWidget::~VtkRenderWidget() {
  releaseGraphics();
  window_->RemoveAllObservers();
  interactor_->RemoveAllObservers();
}

void VtkRenderWidget::setDefaultSurfaceFormat() {
  useZeroedFreeTypeAllocations();  // before VTK makes any text: FreeTypeCache.hpp
  QSurfaceFormat format;
  format.setRenderableType(QSurfaceFormat::OpenGL);
  format.setVersion(3, 2);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  format.setRedBufferSize(8);
  format.setGreenBufferSize(8);
  format.setBlueBufferSize(8);
  format.setAlphaBufferSize(8);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  format.setSamples(0);
  QSurfaceFormat::setDefaultFormat(format);
}

vtkGenericOpenGLRenderWindow* VtkRenderWidget::renderWindow() const {
  return window_;
}
vtkGenericRenderWindowInteractor* VtkRenderWidget::interactor() const {
  return interactor_;
}

void VtkRenderWidget::setInteractorStyle(vtkInteractorObserver* style) {
  interactor_->SetInteractorStyle(style);
}

void VtkRenderWidget::makeContextCurrent(vtkObject* /*caller*/, unsigned long /*event*/,
                                         void* /*data*/) {
  // Pitfall 1: not QOpenGLWidget::makeCurrent(), which also binds Qt's framebuffer and so
  // invalidates the framebuffer bindings VTK has cached in its vtkOpenGLState.
  QOpenGLContext* ctx = context();
  if (ctx != nullptr && ctx->isValid() && ctx->surface() != nullptr) {
    ctx->makeCurrent(ctx->surface());
  }
}

void VtkRenderWidget::onInteractorRender(vtkObject* /*caller*/, unsigned long /*event*/,
                                         void* /*data*/) {
  update();
}

void VtkRenderWidget::reportIsCurrent(vtkObject* /*caller*/, unsigned long /*event*/,
                                      void* callData) {
  auto* current = static_cast<bool*>(callData);
  *current = context() != nullptr && QOpenGLContext::currentContext() == context();
}

void VtkRenderWidget::initializeGL() {
  // Called again when the widget moves to another top-level window (new context): let go of
  // everything VTK made in the old one first.
  releaseGraphics();
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &VtkRenderWidget::releaseGraphics,
          Qt::UniqueConnection);
  window_->SetMapped(true);
  window_->OpenGLInitContext();
  initialised_ = true;
}

void VtkRenderWidget::resizeGL(int w, int h) {
  const qreal ratio = devicePixelRatioF();
  const int width = qRound(w * ratio);
  const int height = qRound(h * ratio);
  window_->SetSize(width, height);
  interactor_->UpdateSize(width, height);
}

void VtkRenderWidget::paintGL() {
  if (!initialised_) return;
  QElapsedTimer clock;
  clock.start();
  // paintGL() runs with Qt's framebuffer bound; VTK's state cache must learn that, and whatever
  // VTK changes is put back for Qt afterwards.
  vtkOpenGLState* state = window_->GetState();
  state->Reset();
  state->Push();
  state->vtkglDepthFunc(kGlLequal);  // Qt leaves GL_LESS; VTK expects GL_LEQUAL

  window_->SetReadyForRendering(true);
  window_->Render();  // into VTK's own framebuffers (NoBlit)
  window_->SetReadyForRendering(false);

  // Copy VTK's picture into the widget's framebuffer.
  state->vtkglBindFramebuffer(kGlDrawFramebuffer, defaultFramebufferObject());
  window_->BlitDisplayFramebuffer();

  // Pitfall 2: force alpha to 1 (VTK leaves its background's alpha, 0 by default), or grab()
  // and the window compositor see a transparent picture.
  state->vtkglDisable(kGlScissorTest);
  state->vtkglColorMask(0, 0, 0, 1);
  state->vtkglClearColor(0.0F, 0.0F, 0.0F, 1.0F);
  state->vtkglClear(kGlColorBufferBit);

  state->Pop();
  lastFrameMilliseconds_ = static_cast<double>(clock.nsecsElapsed()) * 1e-6;
  emit frameRendered();
}

void VtkRenderWidget::releaseGraphics() {
  if (!initialised_) return;
  initialised_ = false;
  // Finalize asks for the context through makeContextCurrent.
  window_->Finalize();
  window_->SetMapped(false);
}

QPoint VtkRenderWidget::devicePixels(QPointF point) const {
  const qreal ratio = devicePixelRatioF();
  return {qRound(point.x() * ratio), qRound(point.y() * ratio)};
}

void VtkRenderWidget::forwardMouse(QMouseEvent* event, unsigned long vtkEvent, bool repeat) {
  const QPoint p = devicePixels(event->position());
  const Qt::KeyboardModifiers mods = event->modifiers();
  interactor_->SetEventInformationFlipY(p.x(), p.y(), mods.testFlag(Qt::ControlModifier) ? 1 : 0,
                                        mods.testFlag(Qt::ShiftModifier) ? 1 : 0, 0,
                                        repeat ? 1 : 0);
  interactor_->SetAltKey(mods.testFlag(Qt::AltModifier) ? 1 : 0);
  interactor_->InvokeEvent(vtkEvent, event);
}

namespace {
unsigned long pressEvent(Qt::MouseButton button) {
  switch (button) {
    case Qt::LeftButton:
      return vtkCommand::LeftButtonPressEvent;
    case Qt::MiddleButton:
      return vtkCommand::MiddleButtonPressEvent;
    case Qt::RightButton:
      return vtkCommand::RightButtonPressEvent;
    default:
      return vtkCommand::NoEvent;
  }
}
unsigned long releaseEvent(Qt::MouseButton button) {
  switch (button) {
    case Qt::LeftButton:
      return vtkCommand::LeftButtonReleaseEvent;
    case Qt::MiddleButton:
      return vtkCommand::MiddleButtonReleaseEvent;
    case Qt::RightButton:
      return vtkCommand::RightButtonReleaseEvent;
    default:
      return vtkCommand::NoEvent;
  }
}
}  // namespace

void VtkRenderWidget::mousePressEvent(QMouseEvent* event) {
  const unsigned long e = pressEvent(event->button());
  if (e != vtkCommand::NoEvent) forwardMouse(event, e);
  event->accept();
}

void VtkRenderWidget::mouseReleaseEvent(QMouseEvent* event) {
  const unsigned long e = releaseEvent(event->button());
  if (e != vtkCommand::NoEvent) forwardMouse(event, e);
  event->accept();
}

void VtkRenderWidget::mouseDoubleClickEvent(QMouseEvent* event) {
  const unsigned long e = pressEvent(event->button());
  if (e != vtkCommand::NoEvent) forwardMouse(event, e, true);
  event->accept();
}

void VtkRenderWidget::mouseMoveEvent(QMouseEvent* event) {
  forwardMouse(event, vtkCommand::MouseMoveEvent);
  event->accept();
}

void VtkRenderWidget::wheelEvent(QWheelEvent* event) {
  const int delta = event->angleDelta().y();
  if (delta != 0) {
    const QPoint p = devicePixels(event->position());
    const Qt::KeyboardModifiers mods = event->modifiers();
    interactor_->SetEventInformationFlipY(p.x(), p.y(), mods.testFlag(Qt::ControlModifier) ? 1 : 0,
                                          mods.testFlag(Qt::ShiftModifier) ? 1 : 0);
    // One VTK zoom step per notch (120 units); high-resolution wheels and touchpads send
    // smaller deltas, which accumulate.
    wheelAccumulated_ += delta;
    while (std::abs(wheelAccumulated_) >= 120) {
      const bool forward = wheelAccumulated_ > 0;
      wheelAccumulated_ += forward ? -120 : 120;
      interactor_->InvokeEvent(
          forward ? vtkCommand::MouseWheelForwardEvent : vtkCommand::MouseWheelBackwardEvent,
          event);
    }
  }
  event->accept();
}

void VtkRenderWidget::enterEvent(QEnterEvent* event) {
  interactor_->InvokeEvent(vtkCommand::EnterEvent, event);
  QOpenGLWidget::enterEvent(event);
}

void VtkRenderWidget::leaveEvent(QEvent* event) {
  interactor_->InvokeEvent(vtkCommand::LeaveEvent, event);
  QOpenGLWidget::leaveEvent(event);
}

}  // namespace ptyx::widgets
