#include "widgets/VtkRenderWidget.hpp"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QPainter>
#include <QSurfaceFormat>
#include <QWheelEvent>
#include <QtGlobal>

#include <cstdlib>

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkInteractorStyleImage.h>
#include <vtkObjectFactory.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkRenderWindowInteractor.h>

#include "widgets/FramePacer.hpp"
#include "widgets/FreeTypeCache.hpp"

// GL enums used below, spelled out so that no GL header has to be included next to Qt's.
namespace {
constexpr unsigned int kGlReadFramebuffer = 0x8CA8;     // GL_READ_FRAMEBUFFER
constexpr unsigned int kGlPackAlignment = 0x0D05;       // GL_PACK_ALIGNMENT
constexpr unsigned int kGlBgra = 0x80E1;                // GL_BGRA
constexpr unsigned int kGlUnsignedInt8888Rev = 0x8367;  // GL_UNSIGNED_INT_8_8_8_8_REV
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

VtkRenderWidget::VtkRenderWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);  // pixel read-outs follow the mouse without a button held
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(64, 64);
  setAttribute(Qt::WA_OpaquePaintEvent);  // every pixel is painted: nothing to clear beneath

  // The context is ours: VTK must neither create nor swap one, and must not render before
  // renderFrame() has made it current.
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
  // Renders requested by interaction (pan, zoom) become repaints: rendering only in paintEvent().
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
  if (context_ != nullptr && context_->isValid()) context_->makeCurrent(surface_.get());
}

void VtkRenderWidget::onInteractorRender(vtkObject* /*caller*/, unsigned long /*event*/,
                                         void* /*data*/) {
  update();
}

void VtkRenderWidget::reportIsCurrent(vtkObject* /*caller*/, unsigned long /*event*/,
                                      void* callData) {
  auto* current = static_cast<bool*>(callData);
  *current = context_ != nullptr && QOpenGLContext::currentContext() == context_.get();
}

bool VtkRenderWidget::ensureGraphics() {
  if (initialised_) return true;
  if (contextFailed_) return false;
  // One context per view: VTK caches GL state per render window, so two windows must not share
  // a context. The surface is never drawn to (VTK renders into framebuffer objects), it only
  // lets the context be made current.
  surface_ = std::make_unique<QOffscreenSurface>();
  surface_->setFormat(QSurfaceFormat::defaultFormat());
  surface_->create();
  context_ = std::make_unique<QOpenGLContext>();
  context_->setFormat(QSurfaceFormat::defaultFormat());
  if (!surface_->isValid() || !context_->create() || !context_->makeCurrent(surface_.get())) {
    contextFailed_ = true;
    qWarning("ptyx: no OpenGL %d.%d context for a VTK view; it stays blank",
             QSurfaceFormat::defaultFormat().majorVersion(),
             QSurfaceFormat::defaultFormat().minorVersion());
    return false;
  }
  window_->SetMapped(true);
  window_->OpenGLInitContext();
  initialised_ = true;
  return true;
}

void VtkRenderWidget::resizeFrame(int w, int h) {
  const qreal ratio = devicePixelRatioF();
  const int width = qRound(w * ratio);
  const int height = qRound(h * ratio);
  // Text sizes are in points at the window's DPI: scaled with the pixel ratio, labels keep their
  // size on a high-density screen instead of shrinking to half.
  window_->SetDPI(qRound(72.0 * ratio));
  window_->SetSize(width, height);
  interactor_->UpdateSize(width, height);
}

void VtkRenderWidget::resizeEvent(QResizeEvent* /*event*/) {
  resizeFrame(width(), height());
}

void VtkRenderWidget::renderFrame() {
  window_->SetReadyForRendering(true);
  window_->Render();  // into VTK's own framebuffers (NoBlit)
  window_->SetReadyForRendering(false);
  readFrame();
}

void VtkRenderWidget::readFrame() {
  const int* size = window_->GetSize();
  const int w = size[0];
  const int h = size[1];
  vtkOpenGLFramebufferObject* display = window_->GetDisplayFramebuffer();
  if (w <= 0 || h <= 0 || display == nullptr) return;
  if (frame_.size() != QSize(w, h)) frame_ = QImage(w, h, QImage::Format_RGB32);

  // Through VTK's state cache, which would otherwise keep believing its own binding is current.
  vtkOpenGLState* state = window_->GetState();
  state->PushReadFramebufferBinding();
  display->Bind(kGlReadFramebuffer);
  display->ActivateReadBuffer(0);
  state->vtkglPixelStorei(kGlPackAlignment, 4);
  // BGRA as 8-8-8-8-reversed words is 0xAARRGGBB per pixel: QImage's 32-bit layout as it is.
  context_->functions()->glReadPixels(0, 0, w, h, kGlBgra, kGlUnsignedInt8888Rev, frame_.bits());
  state->PopReadFramebufferBinding();

  // Alpha to 1: Format_RGB32 promises it, and converting to ARGB32 keeps the stored byte.
  auto* pixel = reinterpret_cast<quint32*>(frame_.bits());
  const auto count = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  for (std::size_t i = 0; i < count; ++i) pixel[i] |= 0xFF000000U;
  frame_.mirror();  // GL's rows run bottom-up
  frame_.setDevicePixelRatio(devicePixelRatioF());
}

void VtkRenderWidget::paintEvent(QPaintEvent* /*event*/) {
  QElapsedTimer clock;
  clock.start();
  renderNow();
  QPainter painter(this);
  if (frame_.isNull()) {
    painter.fillRect(rect(), palette().window());
    if (contextFailed_) {
      painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                       tr("No OpenGL %1.%2 context: this view cannot draw.")
                           .arg(QSurfaceFormat::defaultFormat().majorVersion())
                           .arg(QSurfaceFormat::defaultFormat().minorVersion()));
    }
  } else {
    painter.drawImage(QPoint(0, 0), frame_);
    paintOverlay(painter);
  }
  lastFrameMilliseconds_ = static_cast<double>(clock.nsecsElapsed()) * 1e-6;
  emit frameRendered();
}

bool VtkRenderWidget::renderNow() {
  if (!ensureGraphics()) return false;
  // The device size follows the pixel ratio, which a move to another screen changes without a
  // resize event, and which a widget resized before it had a window may not have known yet.
  const qreal ratio = devicePixelRatioF();
  const int* size = window_->GetSize();
  if (size[0] != qRound(width() * ratio) || size[1] != qRound(height() * ratio)) {
    resizeFrame(width(), height());
  }
  context_->makeCurrent(surface_.get());
  renderFrame();
  return true;
}

QImage VtkRenderWidget::renderedFrame() {
  if (!renderNow()) return {};
  QImage shown = frame_.copy();
  shown.setDevicePixelRatio(frame_.devicePixelRatio());
  QPainter painter(&shown);
  paintOverlay(painter);
  return shown;
}

void VtkRenderWidget::releaseGraphics() {
  if (!initialised_) return;
  initialised_ = false;
  // Finalize asks for the context through makeContextCurrent.
  window_->Finalize();
  window_->SetMapped(false);
  context_->doneCurrent();
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
  QWidget::enterEvent(event);
}

void VtkRenderWidget::leaveEvent(QEvent* event) {
  interactor_->InvokeEvent(vtkCommand::LeaveEvent, event);
  QWidget::leaveEvent(event);
}

}  // namespace ptyx::widgets
