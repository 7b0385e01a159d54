// DiffractionView shows what a user reads off a diffraction pattern: intensity on a log scale
// (the brightest pixel in the top colour, one count in the bottom one), bad pixels in the mask
// colour (and not setting the colour range), the centre crosshair, a slider that steps through
// frames, and the counts of the pixel under the mouse.
#include <QCheckBox>
#include <QSignalSpy>
#include <QSlider>
#include <QTest>

#include <cmath>

#include "GuiTestSupport.hpp"
#include "core/Error.hpp"
#include "widgets/DiffractionView.hpp"

using ptyx::Colormap;
using ptyx::Image;
using ptyx::Rgb;
using ptyx::Stack;
using ptyx::widgets::ColourBar;
using ptyx::widgets::DiffractionView;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

constexpr int kSize = 32;
constexpr int kCentre = kSize / 2;

/// Three 32 x 32 frames (magnitudes). Frame 0: one count everywhere, 10^4 counts in the centre
/// pixel. Frame 1: one count everywhere, 100 counts at (8, 24). Frame 2: dark. A masked hot
/// pixel of 10^8 counts at (20, 5) in every frame must not set the colour range.
Stack<float> frames() {
  Stack<float> s(3, kSize, kSize, 1.0F);
  for (std::size_t j = 0; j < 3; ++j) {
    auto f = s.frame(j);
    if (j == 2) std::fill(f.begin(), f.end(), 0.0F);
    f[20 * kSize + 5] = 1e4F;
  }
  s.frame(0)[kCentre * kSize + kCentre] = 100.0F;
  s.frame(1)[8 * kSize + 24] = 10.0F;
  return s;
}

/// Bad: the top-right 4 x 4 corner and the hot pixel.
Image<std::uint8_t> mask() {
  Image<std::uint8_t> m(kSize, kSize, 0);
  for (int r = 0; r < 4; ++r) {
    for (int c = kSize - 4; c < kSize; ++c) m(r, c) = 1;
  }
  m(20, 5) = 1;
  return m;
}

Rgb mapColour(double t) {
  return ptyx::colour(Colormap::Sequential, t);
}

/// A realistic sample for the screenshot: the Airy pattern of a round aperture with a little
/// background, a vertical detector gap and a few hot pixels masked.
void realisticScan(Stack<float>& magnitudes, Image<std::uint8_t>& bad) {
  constexpr int m = 128;
  magnitudes = Stack<float>(4, m, m);
  bad = Image<std::uint8_t>(m, m, 0);
  for (std::size_t j = 0; j < magnitudes.count(); ++j) {
    auto f = magnitudes.frame(j);
    const double scale = 0.22 + 0.02 * static_cast<double>(j);
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < m; ++c) {
        const double q = scale * std::hypot(r - m / 2, c - m / 2) + 1e-9;
        const double airy = 2.0 * std::cyl_bessel_j(1.0, q) / q;
        const double counts =
            2e6 * airy * airy + 0.3 + 0.2 * std::sin(0.7 * r * c + static_cast<double>(j));
        f[static_cast<std::size_t>(r) * m + c] = static_cast<float>(std::sqrt(counts));
      }
    }
  }
  for (int r = 0; r < m; ++r) {
    for (int c = 86; c < 89; ++c) bad(r, c) = 1;
  }
  bad(30, 40) = bad(101, 17) = bad(70, 110) = 1;
}

}  // namespace

class DiffractionViewTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void showsLogIntensityMaskAndCentre() {
    DiffractionView view;
    view.resize(480, 440);
    view.setFrames(frames(), mask());
    QCOMPARE(view.frameCount(), 3);
    QCOMPARE(view.frame(), 0);
    // One count to the brightest good pixel; the masked hot pixel does not count.
    QCOMPARE(view.countRange().low, 1.0);
    QCOMPARE(view.countRange().high, 1e4);
    QVERIFY(showAndExpose(view));
    const QImage img = frame(*view.canvas());
    saveSample(img, QStringLiteral("diffraction-view-frame0"));

    expectColour(img, view.canvasPosition(kCentre, kCentre), mapColour(1.0), 4,
                 "brightest pixel at the centre");
    expectColour(img, view.canvasPosition(4, 8), mapColour(0.0), 4, "one count");
    expectColour(img, view.canvasPosition(1, kSize - 2), DiffractionView::maskColour(), 0,
                 "masked corner");
    expectColour(img, view.canvasPosition(20, 5), DiffractionView::maskColour(), 0,
                 "masked hot pixel");
    // Row 0 is at the top.
    QVERIFY(view.canvasPosition(0, 0).y() < view.canvasPosition(kSize - 1, 0).y());
    // The crosshair: light lines left and below the centre, clear of the centre pixel.
    QVERIFY2(colourNear(img, view.canvasPosition(kCentre, kCentre - 3), {242, 242, 242}, 1, 30),
             "no crosshair left of the centre");
    QVERIFY2(colourNear(img, view.canvasPosition(kCentre + 3, kCentre), {242, 242, 242}, 1, 30),
             "no crosshair below the centre");

    // The colour bar in counts: a gradient right of the image, labelled at whole decades.
    const ColourBar& bar = view.colourBar();
    QVERIFY(bar.visible());
    const std::vector<ColourBar::Label> labels = bar.labels();
    QCOMPARE(labels.size(), std::size_t{5});
    QCOMPARE(labels.front().value, 1.0);
    QCOMPARE(labels.front().text, QStringLiteral("1"));
    QCOMPARE(labels.back().value, 1e4);
    QCOMPARE(labels.back().text, QStringLiteral("10000"));
    const QPointF rightEdge = view.canvasPosition(kCentre, kSize - 0.5);
    const QRect strip(QPoint(static_cast<int>(rightEdge.x()) + 4, 20),
                      QPoint(logicalSize(img).width() - 1, logicalSize(img).height() - 20));
    QVERIFY2(distinctColours(img, strip) > 40, "no colour bar right of the image");

    // Mask off (the check box does the same): the corner shows its one count, the hot pixel is
    // above the range and takes the top colour.
    view.findChild<QCheckBox*>()->setChecked(false);
    QVERIFY(!view.maskVisible());
    const QImage unmasked = frame(*view.canvas());
    expectColour(unmasked, view.canvasPosition(1, kSize - 2), mapColour(0.0), 4, "unmasked corner");
    expectColour(unmasked, view.canvasPosition(20, 5), mapColour(1.0), 4, "unmasked hot pixel");

    view.setCentreMarkerVisible(false);
    const QImage noCross = frame(*view.canvas());
    expectColour(noCross, view.canvasPosition(kCentre, kCentre - 3), mapColour(0.0), 4,
                 "crosshair hidden");
  }

  void sliderStepsThroughFrames() {
    DiffractionView view;
    view.resize(480, 440);
    view.setFrames(frames(), mask());
    QVERIFY(showAndExpose(view));
    const QImage first = frame(*view.canvas());
    QSignalSpy changed(&view, &DiffractionView::frameChanged);

    view.frameSlider()->setValue(1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.takeFirst().at(0).toInt(), 1);
    QCOMPARE(view.frame(), 1);
    const QImage second = frame(*view.canvas());
    saveSample(second, QStringLiteral("diffraction-view-frame1"));
    QVERIFY(second != first);
    // 100 counts is halfway up a 1 .. 10^4 log scale; the centre is back to one count.
    expectColour(second, view.canvasPosition(8, 24), mapColour(0.5), 4, "100 counts");
    expectColour(second, view.canvasPosition(kCentre, kCentre), mapColour(0.0), 4,
                 "centre of frame 1");

    view.setFrame(2);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(view.frameSlider()->value(), 2);
    view.setFrame(99);  // clamped to the last frame: no change
    QCOMPARE(view.frame(), 2);
    QCOMPARE(changed.count(), 1);
    // A dark frame shows the bottom colour (zero is below the floor), mask still drawn.
    const QImage dark = frame(*view.canvas());
    expectColour(dark, view.canvasPosition(8, 24), mapColour(0.0), 4, "dark frame");
    expectColour(dark, view.canvasPosition(1, kSize - 2), DiffractionView::maskColour(), 0,
                 "mask on a dark frame");
  }

  void readOutReportsCounts() {
    DiffractionView view;
    view.resize(480, 440);
    view.setFrames(frames(), mask());
    QVERIFY(showAndExpose(view));
    frame(*view.canvas());
    QSignalSpy hovered(&view, &DiffractionView::pixelHovered);
    QSignalSpy left(&view, &DiffractionView::hoverLeft);

    QTest::mouseMove(view.canvas(), view.canvasPosition(kCentre, kCentre).toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    QList<QVariant> args = hovered.takeFirst();
    QCOMPARE(args.at(0).toInt(), kCentre);
    QCOMPARE(args.at(1).toInt(), kCentre);
    QCOMPARE(args.at(2).toDouble(), 1e4);
    QCOMPARE(args.at(3).toBool(), false);

    QTest::mouseMove(view.canvas(), view.canvasPosition(8, 24).toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    QCOMPARE(hovered.takeFirst().at(2).toDouble(), 1.0);
    // Stepping to frame 1 with the mouse at rest reads out the new value of the same pixel.
    view.setFrame(1);
    QCOMPARE(hovered.count(), 1);
    args = hovered.takeFirst();
    QCOMPARE(args.at(0).toInt(), 8);
    QCOMPARE(args.at(1).toInt(), 24);
    QCOMPARE(args.at(2).toDouble(), 100.0);

    QTest::mouseMove(view.canvas(), view.canvasPosition(20, 5).toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    args = hovered.takeFirst();
    QCOMPARE(args.at(2).toDouble(), 1e8);
    QCOMPARE(args.at(3).toBool(), true);

    // Over the colour bar: off the frame.
    QTest::mouseMove(view.canvas(), QPoint(view.canvas()->width() - 20, 100));
    QTRY_COMPARE(left.count(), 1);
  }

  void rejectsAMaskOfAnotherShape() {
    DiffractionView view;
    QVERIFY_THROWS_EXCEPTION(ptyx::InputError,
                             view.setFrames(frames(), Image<std::uint8_t>(kSize, kSize + 1)));
    view.setFrames(frames());  // no mask at all is fine
    QCOMPARE(view.frameCount(), 3);
    QVERIFY(!view.masked(20, 5));
    // Without the mask the hot pixel sets the top of the range.
    QCOMPARE(view.countRange().high, 1e8);
  }

  void realisticSample() {
    Stack<float> magnitudes;
    Image<std::uint8_t> bad;
    realisticScan(magnitudes, bad);
    DiffractionView view;
    view.resize(520, 500);
    view.setFrames(magnitudes, bad);
    view.setFrame(1);
    QVERIFY(showAndExpose(view));
    frame(*view.canvas());
    QTest::mouseMove(view.canvas(), view.canvasPosition(70, 60).toPoint());
    QTest::qWait(50);
    saveSample(view.grab().toImage(), QStringLiteral("diffraction-view-airy"));
    QVERIFY(view.countRange().high > 1e6);
  }
};

QTEST_MAIN(DiffractionViewTest)
#include "diffraction_view_test.moc"
