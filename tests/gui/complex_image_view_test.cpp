// ComplexImageView shows what a user reads off it: phase colours from the cyclic map, amplitude
// under its colour bar, a pixel read-out under the mouse, and the complex (hue) colouring.
#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numbers>

#include <vtkLookupTable.h>
#include <vtkRenderer.h>

#include "GuiTestSupport.hpp"
#include "widgets/ComplexImageView.hpp"

using ptyx::cfloat;
using ptyx::Colormap;
using ptyx::Image;
using ptyx::Rgb;
using ptyx::widgets::ColourBar;
using ptyx::widgets::ComplexDisplay;
using ptyx::widgets::ComplexImageView;
using ptyx::widgets::Panel;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

constexpr double kPi = std::numbers::pi;

cfloat polar(double amplitude, double phase) {
  return {static_cast<float>(amplitude * std::cos(phase)),
          static_cast<float>(amplitude * std::sin(phase))};
}

/// 32 x 48: amplitude 1; phase -pi/2 in the left half, +pi/2 in the right half, except the top
/// eight rows, where the phase is 0 and the amplitude 0.25.
Image<cfloat> quadrants() {
  Image<cfloat> image(32, 48);
  for (std::size_t r = 0; r < image.rows(); ++r) {
    for (std::size_t c = 0; c < image.cols(); ++c) {
      image(r, c) = r < 8 ? polar(0.25, 0.0) : polar(1.0, c < 24 ? -kPi / 2 : kPi / 2);
    }
  }
  return image;
}

Rgb phaseColour(double phase) {
  return ptyx::colour(Colormap::Cyclic, (phase + kPi) / (2 * kPi));
}

}  // namespace

class ComplexImageViewTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  // The planes' phase is atan2's, in every quadrant, on the axes and at zero; their amplitude
  // is the modulus.
  void planesHoldAmplitudeAndPhase() {
    const int n = 41;
    Image<cfloat> image(n, n);
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < n; ++c) {
        image(r, c) =
            cfloat{0.37F * static_cast<float>(c - n / 2), -1.9F * static_cast<float>(r - n / 2)};
      }
    }
    image(0, 0) = cfloat{-2.0F, 0.0F};     // on the negative real axis: pi
    image(0, 1) = cfloat{1e-10F, 3e-11F};  // small
    const auto planes = ptyx::widgets::ComplexPlanes::of(image);
    double worst = 0.0;
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < n; ++c) {
        const cfloat z = image(r, c);
        const std::size_t k = static_cast<std::size_t>(n - 1 - r) * n + c;  // rows flipped
        worst = std::max(worst, std::abs(static_cast<double>(planes.phase[k]) -
                                         std::atan2(static_cast<double>(z.im), z.re)));
        QVERIFY(std::abs(planes.amplitude[k] - std::hypot(z.re, z.im)) <=
                1e-6F * std::hypot(z.re, z.im));
      }
    }
    QVERIFY2(worst < 1e-6, qPrintable(QStringLiteral("phase off by %1 rad").arg(worst)));
    QCOMPARE(planes.phaseExtent.high, static_cast<double>(std::numbers::pi_v<float>));
  }

  void phaseModeShowsCyclicColoursAndAColourBar() {
    ComplexImageView view;
    view.resize(420, 300);
    view.setImage(quadrants());
    view.setDisplay(ComplexDisplay::Phase);
    QVERIFY(showAndExpose(view));
    const QImage img = frame(view);
    saveSample(img, QStringLiteral("complex-image-view-phase"));

    // Pixel centres well inside each region, mapped through the view's own geometry.
    expectColour(img, view.widgetPosition(Panel::Phase, 10, 20), phaseColour(-kPi / 2), 4,
                 "phase -pi/2");
    expectColour(img, view.widgetPosition(Panel::Phase, 37, 20), phaseColour(kPi / 2), 4,
                 "phase +pi/2");
    expectColour(img, view.widgetPosition(Panel::Phase, 24, 3), phaseColour(0.0), 4, "phase 0");
    // Row 0 is drawn at the top.
    QVERIFY(view.widgetPosition(Panel::Phase, 0, 0).y() <
            view.widgetPosition(Panel::Phase, 0, 31).y());

    const ColourBar& bar = view.colourBar(Panel::Phase);
    QVERIFY(bar.visible());
    QCOMPARE(bar.title(), QStringLiteral("phase"));
    QCOMPARE(bar.low(), -kPi);
    QCOMPARE(bar.high(), kPi);
    const std::vector<ColourBar::Label> labels = bar.labels();
    QCOMPARE(labels.size(), std::size_t{5});
    QCOMPARE(labels.front().text, QStringLiteral("-3.14"));
    QCOMPARE(labels[2].text, QStringLiteral("0.00"));
    QCOMPARE(labels.back().text, QStringLiteral("3.14"));
    // Right of the image, the bar draws a gradient of many colours.
    const QPointF rightEdge = view.widgetPosition(Panel::Phase, 47.5, 16);
    const QRect strip(QPoint(static_cast<int>(rightEdge.x()) + 4, 20),
                      QPoint(logicalSize(img).width() - 1, logicalSize(img).height() - 20));
    QVERIFY2(distinctColours(img, strip) > 40, "no colour bar right of the image");
    // Its labels keep their size on a high-density screen (the *_hidpi run): text is sized in
    // points at the window's DPI, which follows the pixel ratio.
    const double labelHeight = tallestRun(img, strip, {230, 230, 230}, 40);
    qInfo("colour bar label height: %.1f widget pixels", labelHeight);
    QVERIFY2(labelHeight >= 5.0, "colour bar labels are too small to read");
  }

  void amplitudeRangeIsAutomaticOrFixed() {
    ComplexImageView view;
    view.resize(420, 300);
    view.setImage(quadrants());
    QCOMPARE(view.display(), ComplexDisplay::Amplitude);
    QVERIFY(view.autoRange(Panel::Amplitude));
    QCOMPARE(view.range(Panel::Amplitude).low, 0.25);
    QCOMPARE(view.range(Panel::Amplitude).high, 1.0);
    QVERIFY(showAndExpose(view));
    QImage img = frame(view);
    saveSample(img, QStringLiteral("complex-image-view-amplitude"));
    const ptyx::Rgb low = ptyx::colour(Colormap::Sequential, 0.0);
    const ptyx::Rgb high = ptyx::colour(Colormap::Sequential, 1.0);
    expectColour(img, view.widgetPosition(Panel::Amplitude, 24, 3), low, 4, "amplitude minimum");
    expectColour(img, view.widgetPosition(Panel::Amplitude, 24, 20), high, 4, "amplitude maximum");

    view.setFixedRange(Panel::Amplitude, {0.0, 2.0});
    QVERIFY(!view.autoRange(Panel::Amplitude));
    img = frame(view);
    expectColour(img, view.widgetPosition(Panel::Amplitude, 24, 20),
                 ptyx::colour(Colormap::Sequential, 0.5), 4, "amplitude 1 of 0..2");

    view.setColormap(Panel::Amplitude, Colormap::Gray);
    img = frame(view);
    expectColour(img, view.widgetPosition(Panel::Amplitude, 24, 20), {128, 128, 128}, 4,
                 "grey amplitude 1 of 0..2");
  }

  void mouseOverAPixelReadsItOut() {
    ComplexImageView view;
    view.resize(420, 300);
    view.setImage(quadrants());
    view.setDisplay(ComplexDisplay::AmplitudeAndPhase);
    QVERIFY(showAndExpose(view));
    const QImage img = frame(view);
    saveSample(img, QStringLiteral("complex-image-view-both"));
    QSignalSpy hovered(&view, &ComplexImageView::pixelHovered);
    QSignalSpy left(&view, &ComplexImageView::hoverLeft);

    // Over the right (phase) panel, pixel (column 40, row 12).
    QTest::mouseMove(&view, view.widgetPosition(Panel::Phase, 40, 12).toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    QList<QVariant> args = hovered.takeFirst();
    QCOMPARE(args.at(0).toInt(), 40);
    QCOMPARE(args.at(1).toInt(), 12);
    QVERIFY(std::abs(args.at(2).toDouble() - 1.0) < 1e-6);
    QVERIFY(std::abs(args.at(3).toDouble() - kPi / 2) < 1e-6);

    // Over the left (amplitude) panel, top rows.
    QTest::mouseMove(&view, view.widgetPosition(Panel::Amplitude, 5, 2).toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    args = hovered.takeFirst();
    QCOMPARE(args.at(0).toInt(), 5);
    QCOMPARE(args.at(1).toInt(), 2);
    QVERIFY(std::abs(args.at(2).toDouble() - 0.25) < 1e-6);

    // Off the image (the colour bar area of the left panel).
    QTest::mouseMove(&view, view.widgetPosition(Panel::Amplitude, 50, 2).toPoint());
    QTRY_COMPARE(left.count(), 1);
  }

  void complexModeColoursHueByPhaseAndBrightnessByAmplitude() {
    ComplexImageView view;
    view.resize(420, 300);
    view.setImage(quadrants());
    view.setDisplay(ComplexDisplay::Complex);
    QVERIFY(showAndExpose(view));
    const QImage img = frame(view);
    saveSample(img, QStringLiteral("complex-image-view-complex"));
    // Phase 0 is red (HSV hue 0), +pi/2 hue 90 degrees, -pi/2 hue 270 degrees; full value.
    expectColour(img, view.widgetPosition(Panel::Complex, 37, 20), {128, 255, 0}, 3,
                 "hue of +pi/2");
    expectColour(img, view.widgetPosition(Panel::Complex, 10, 20), {128, 0, 255}, 3,
                 "hue of -pi/2");
    // Amplitude at the bottom of the automatic range: black.
    expectColour(img, view.widgetPosition(Panel::Complex, 24, 3), {0, 0, 0}, 3, "zero brightness");
    // Its bar is the hue circle of the phase, whatever the amplitude's range.
    QCOMPARE(view.colourBar(Panel::Complex).low(), -kPi);
    QCOMPARE(view.colourBar(Panel::Complex).high(), kPi);
    const QPointF rightEdge = view.widgetPosition(Panel::Complex, 47.5, 16);
    const QRect strip(QPoint(static_cast<int>(rightEdge.x()) + 4, 20),
                      QPoint(logicalSize(img).width() - 1, logicalSize(img).height() - 20));
    QVERIFY2(distinctColours(img, strip) > 40, "no colour bar right of the complex image");
  }
};

QTEST_MAIN(ComplexImageViewTest)
#include "complex_image_view_test.moc"
