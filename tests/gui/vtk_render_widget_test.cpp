// The VTK host widget renders VTK's picture, opaque, upright, at the right place: a two-colour
// image with a band along its top on a known background, read back from the widget and grabbed
// from the window. Garbage from reading the wrong framebuffer, an upside-down read-back, or a
// frame whose alpha is left at VTK's 0 (the pitfalls in VtkRenderWidget.hpp) fail here.
#include <QApplication>
#include <QHBoxLayout>
#include <QTest>
#include <QWheelEvent>

#include <vtkCamera.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkNew.h>
#include <vtkRenderer.h>

#include "GuiTestSupport.hpp"
#include "widgets/VtkRenderWidget.hpp"

using ptyx::Rgb;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

constexpr Rgb kLeft{200, 30, 40};
constexpr Rgb kRight{20, 180, 230};
constexpr Rgb kTop{240, 220, 60};
constexpr Rgb kBackground{51, 102, 153};  // 0.2, 0.4, 0.6

/// A renderer showing a 64x32 image, left half kLeft, right half kRight, its top two rows kTop
/// (VTK's rows run upwards: rows 30 and 31 are at the top of the screen), in the middle half of
/// the view (parallel projection, the view is twice the image's extent) on kBackground.
/// The background keeps VTK's default alpha of 0, so an unforced alpha shows as transparent.
struct TwoColourScene {
  vtkNew<vtkImageData> image;
  vtkNew<vtkImageActor> actor;
  vtkNew<vtkRenderer> renderer;

  TwoColourScene(Rgb left, Rgb right) {
    image->SetDimensions(64, 32, 1);
    image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
    auto* p = static_cast<unsigned char*>(image->GetScalarPointer());
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 64; ++x) {
        const Rgb c = y >= 30 ? kTop : x < 32 ? left : right;
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
        p += 3;
      }
    }
    actor->GetMapper()->SetInputData(image);
    actor->GetMapper()->BorderOn();
    actor->GetProperty()->SetInterpolationTypeToNearest();
    renderer->AddViewProp(actor);
    renderer->SetBackground(kBackground.r / 255.0, kBackground.g / 255.0, kBackground.b / 255.0);
    vtkCamera* camera = renderer->GetActiveCamera();
    camera->ParallelProjectionOn();
    camera->SetFocalPoint(31.5, 15.5, 0.0);
    camera->SetPosition(31.5, 15.5, 100.0);
    camera->SetViewUp(0.0, 1.0, 0.0);
    camera->SetParallelScale(32.0);  // view height 64 units: the image fills the middle half
    renderer->ResetCameraClippingRange();
  }
};

void checkPixel(const QImage& img, int x, int y, Rgb expected, const char* what) {
  const QRgb pixel = img.pixel(x, y);
  QVERIFY2(qAlpha(pixel) == 255, qPrintable(QStringLiteral("%1 at (%2, %3) is not opaque: %4")
                                                .arg(what)
                                                .arg(x)
                                                .arg(y)
                                                .arg(describe(pixel))));
  QVERIFY2(colourDistance(pixel, expected) <= 2,
           qPrintable(QStringLiteral("%1 at (%2, %3): expected rgb(%4, %5, %6), got %7")
                          .arg(what)
                          .arg(x)
                          .arg(y)
                          .arg(expected.r)
                          .arg(expected.g)
                          .arg(expected.b)
                          .arg(describe(pixel))));
}

/// In a w x h frame: image halves at the quarter points of the middle half, background in the
/// corners.
void checkScene(const QImage& img, Rgb left, Rgb right) {
  QVERIFY(!img.isNull());
  const int w = img.width();
  const int h = img.height();
  checkPixel(img, w * 3 / 8, h / 2, left, "left half of the image");
  checkPixel(img, w * 5 / 8, h / 2, right, "right half of the image");
  checkPixel(img, w * 3 / 8, h / 4 + 1, kTop, "band along the top of the image");
  checkPixel(img, w * 3 / 8, h * 3 / 4 - 2, left, "bottom of the image");
  checkPixel(img, 3, 3, kBackground, "top-left background");
  checkPixel(img, w - 4, h - 4, kBackground, "bottom-right background");
  checkPixel(img, w / 2, h / 8, kBackground, "background above the image");
}

/// A host widget showing the two-colour scene (kLeft, kRight) at `size`.
struct SceneWidget {
  VtkRenderWidget widget;
  TwoColourScene scene{kLeft, kRight};
  explicit SceneWidget(QSize size) {
    widget.renderWindow()->AddRenderer(scene.renderer);
    widget.resize(size);
  }
};

}  // namespace

class VtkRenderWidgetTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void rendersOpaqueImageAtTheRightPlace() {
    SceneWidget w({320, 160});
    QVERIFY(showAndExpose(w.widget));
    const QImage img = frame(w.widget);
    saveSample(img, QStringLiteral("vtk-render-widget"));
    // Device pixels: sharp on a high-density screen, not a magnified low-resolution frame.
    QCOMPARE(img.devicePixelRatio(), w.widget.devicePixelRatioF());
    QCOMPARE(img.size(), QSize(320, 160) * w.widget.devicePixelRatioF());
    checkScene(img, kLeft, kRight);
  }

  // Two VTK widgets in one window, each with its own context: each must show its own scene in
  // its own place, also in the grab of the whole window (what the screen shows).
  void twoWidgetsInOneWindowKeepTheirOwnPictures() {
    QWidget window;
    auto* layout = new QHBoxLayout(&window);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto* a = new VtkRenderWidget;
    auto* b = new VtkRenderWidget;
    layout->addWidget(a);
    layout->addWidget(b);
    TwoColourScene sceneA(kLeft, kRight);
    TwoColourScene sceneB(kRight, kLeft);
    a->renderWindow()->AddRenderer(sceneA.renderer);
    b->renderWindow()->AddRenderer(sceneB.renderer);
    window.resize(480, 120);
    QVERIFY(showAndExpose(window));

    // Render both several times, interleaved, as repaints during interaction would.
    for (int i = 0; i < 3; ++i) {
      checkScene(frame(*a), kLeft, kRight);
      checkScene(frame(*b), kRight, kLeft);
    }
    a->resize(a->width(), a->height());  // no-op resize must not disturb anything
    QTest::qWait(50);

    const QImage whole = window.grab().toImage().convertToFormat(QImage::Format_ARGB32);
    saveSample(whole, QStringLiteral("vtk-render-widget-pair"));
    const qreal ratio = whole.devicePixelRatio();
    const auto inGrab = [ratio](const QRect& r) {
      return QRect((QPointF(r.topLeft()) * ratio).toPoint(), r.size() * ratio);
    };
    checkScene(whole.copy(inGrab(a->geometry())), kLeft, kRight);
    checkScene(whole.copy(inGrab(b->geometry())), kRight, kLeft);
  }

  // The frame's words are opaque as stored, not only as QImage::pixel() reports them: an RGB32
  // image whose alpha bytes are 0 turns transparent wherever it is reinterpreted as ARGB.
  void frameIsStoredOpaque() {
    SceneWidget w({160, 80});
    QVERIFY(showAndExpose(w.widget));
    QImage asArgb = w.widget.renderedFrame();
    QCOMPARE(asArgb.format(), QImage::Format_RGB32);
    QVERIFY(asArgb.reinterpretAsFormat(QImage::Format_ARGB32));
    checkPixel(asArgb, 2, 2, kBackground, "background, reinterpreted as ARGB");
    checkPixel(asArgb, asArgb.width() * 3 / 8, asArgb.height() / 2, kLeft,
               "image, reinterpreted as ARGB");
  }

  // Interaction ends in a repaint, not in a render outside paintEvent: a wheel step zooms in
  // (the image grows to cover the former background above it).
  void wheelZoomsTheView() {
    SceneWidget w({320, 160});
    QVERIFY(showAndExpose(w.widget));
    vtkCamera* camera = w.scene.renderer->GetActiveCamera();
    const double before = camera->GetParallelScale();
    const QPointF centre(160, 80);
    QWheelEvent wheel(centre, w.widget.mapToGlobal(centre), QPoint(), QPoint(0, 3 * 120),
                      Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(&w.widget, &wheel);
    QVERIFY(camera->GetParallelScale() < before);
    const QImage img = frame(w.widget);
    checkPixel(img, img.width() * 3 / 8, img.height() / 8 + 2, kLeft,
               "zoomed-in image above the old extent");
  }
};

QTEST_MAIN(VtkRenderWidgetTest)
#include "vtk_render_widget_test.moc"
