// ScanPositionPlot shows what a user reads off a scan: every position as a point coloured by
// its frame (or by a per-frame value), rows growing downwards as in the object images, one scale
// on both axes, the probe footprint round the selected frame, and a click that picks a frame.
#include <QApplication>
#include <QHelpEvent>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>
#include <QWheelEvent>

#include <cmath>
#include <numbers>
#include <vector>

#include <vtkChartXY.h>
#include <vtkLookupTable.h>
#include <vtkPlot.h>
#include <vtkTable.h>
#include <vtkVariant.h>

#include "GuiTestSupport.hpp"
#include "core/Error.hpp"
#include "widgets/ScanPositionPlot.hpp"

using ptyx::Colormap;
using ptyx::Position;
using ptyx::Rgb;
using ptyx::widgets::ColourBar;
using ptyx::widgets::ScanPositionPlot;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

constexpr int kRows = 5;
constexpr int kCols = 6;
constexpr int kFrames = kRows * kCols;
constexpr double kStep = 10.0;

/// A 5 x 6 raster, 10 pixels apart, starting at row 20, column 30 (frame j = row-major).
std::vector<Position> raster() {
  std::vector<Position> p;
  for (int r = 0; r < kRows; ++r) {
    for (int c = 0; c < kCols; ++c) p.push_back({20.0 + kStep * r, 30.0 + kStep * c});
  }
  return p;
}

/// The colour a point of frame j should have when coloured by index.
Rgb indexColour(int j) {
  return ptyx::colour(Colormap::Sequential, static_cast<double>(j) / (kFrames - 1));
}

int nonWhite(const QImage& img, QRect box) {
  int n = 0;
  for (int y = box.top(); y <= box.bottom(); ++y) {
    for (int x = box.left(); x <= box.right(); ++x) {
      if (colourDistance(img.pixel(x, y), {255, 255, 255}) > 30) ++n;
    }
  }
  return n;
}

const Rgb kRed{214, 39, 40};

}  // namespace

class ScanPositionPlotTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void showsEveryPositionColouredByFrame() {
    ScanPositionPlot plot;
    plot.resize(560, 420);
    const std::vector<Position> positions = raster();
    plot.setPositions(positions);
    QCOMPARE(plot.pointCount(), kFrames);
    QVERIFY(plot.colouredByFrameIndex());
    // The chart's own data: the scatter plot reads one row per frame, x = column, y = row.
    QCOMPARE(plot.points()->GetNumberOfRows(), vtkIdType{kFrames});
    bool found = false;
    for (vtkIdType i = 0; i < plot.chart()->GetNumberOfPlots(); ++i) {
      vtkTable* input = plot.chart()->GetPlot(i)->GetInput();
      if (input == plot.points()) found = true;
    }
    QVERIFY(found);
    QCOMPARE(plot.points()->GetValue(7, 0).ToDouble(), positions[7].col);
    QCOMPARE(plot.points()->GetValue(7, 1).ToDouble(), positions[7].row);

    QVERIFY(showAndExpose(plot));
    frame(plot);
    const QImage img = frame(plot);
    saveSample(img, QStringLiteral("scan-position-plot-index"));

    // Rows grow downwards, columns to the right, one scale on both axes.
    const QPointF a = plot.widgetPosition(20, 30);
    const QPointF below = plot.widgetPosition(30, 30);
    const QPointF right = plot.widgetPosition(20, 40);
    QVERIFY2(below.y() > a.y() + 5, "row axis does not point down");
    QVERIFY(right.x() > a.x() + 5);
    QVERIFY(std::abs((below.y() - a.y()) - (right.x() - a.x())) < 0.5);

    // Every point drawn in its frame's colour.
    for (int j = 0; j < kFrames; ++j) {
      const QPointF at = plot.widgetPosition(positions[j].row, positions[j].col);
      QVERIFY2(colourNear(img, at, indexColour(j), 1, 12),
               qPrintable(QStringLiteral("frame %1 at (%2, %3): got %4")
                              .arg(j)
                              .arg(at.x())
                              .arg(at.y())
                              .arg(describe(img.pixel(at.toPoint())))));
    }
    // A marker keeps its size on a high-density screen (the *_hidpi run): about 8 widget
    // pixels across, not 8 device pixels.
    const QPointF last =
        plot.widgetPosition(positions[kFrames - 1].row, positions[kFrames - 1].col);
    const double area = colourArea(img, last, 6.0, indexColour(kFrames - 1), 12);
    qInfo("marker area: %.1f square widget pixels", area);
    QVERIFY2(area >= 25.0, "scan position markers are too small to see");
    // Marks in the raster's region, nothing but the white background between the points.
    const QPointF topLeft = plot.widgetPosition(20, 30);
    const QPointF bottomRight = plot.widgetPosition(60, 80);
    QVERIFY(nonWhite(img, QRectF(topLeft, bottomRight).toRect().adjusted(-4, -4, 4, 4)) >
            kFrames * 20);
    const QPointF between = plot.widgetPosition(25, 35);
    QCOMPARE(colourDistance(img.pixel(between.toPoint()), {255, 255, 255}) <= 30, true);

    // The colour bar spans the frame indices.
    QCOMPARE(plot.colourBar().low(), 0.0);
    QCOMPARE(plot.colourBar().high(), double{kFrames - 1});
    QCOMPARE(plot.colourBar().labels().front().text, QStringLiteral("0"));
  }

  void clickingAPointSelectsItsFrame() {
    ScanPositionPlot plot;
    plot.resize(560, 420);
    plot.setPositions(raster());
    QVERIFY(showAndExpose(plot));
    frame(plot);
    QSignalSpy selected(&plot, &ScanPositionPlot::frameSelected);

    // Near frame 9 (row 1, column 3), a couple of pixels off its centre.
    const QPointF at = plot.widgetPosition(30, 60) + QPointF(2, -1);
    QTest::mouseClick(&plot, Qt::LeftButton, Qt::NoModifier, at.toPoint());
    QTRY_COMPARE(selected.count(), 1);
    QCOMPARE(selected.takeFirst().at(0).toInt(), 9);
    QCOMPARE(plot.selectedFrame(), 9);

    // Between the points: nothing.
    QTest::mouseClick(&plot, Qt::LeftButton, Qt::NoModifier, plot.widgetPosition(25, 35).toPoint());
    QTest::qWait(20);
    QCOMPARE(selected.count(), 0);
    QCOMPARE(plot.selectedFrame(), 9);

    // Hovering a point names its frame and position.
    QHelpEvent help(QEvent::ToolTip, at.toPoint(), plot.mapToGlobal(at.toPoint()));
    QApplication::sendEvent(&plot, &help);
    QTRY_VERIFY(QToolTip::isVisible());
    QVERIFY2(QToolTip::text().startsWith(QStringLiteral("frame 9\nrow 30, column 60")),
             qPrintable(QToolTip::text()));

    // setSelectedFrame highlights without a signal (the signal is for the user's clicks).
    plot.setSelectedFrame(3);
    QCOMPARE(plot.selectedFrame(), 3);
    QCOMPARE(selected.count(), 0);
  }

  // Wheel zoom, drag pan and resizing keep one scale on both axes; a drag selects nothing.
  void panAndZoomKeepOneScale() {
    ScanPositionPlot plot;
    plot.resize(560, 420);
    plot.setPositions(raster());
    QVERIFY(showAndExpose(plot));
    frame(plot);
    QSignalSpy selected(&plot, &ScanPositionPlot::frameSelected);
    const auto step = [&plot] {
      const QPointF a = plot.widgetPosition(20, 30);
      const QPointF b = plot.widgetPosition(30, 40);
      return QPointF(b.x() - a.x(), b.y() - a.y());
    };
    const QPointF fitted = step();

    const QPointF centre(plot.width() / 2.0, plot.height() / 2.0);
    QWheelEvent wheel(centre, plot.mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(&plot, &wheel);
    frame(plot);
    const QPointF zoomed = step();
    QVERIFY2(zoomed.x() > 1.05 * fitted.x(), "the wheel did not zoom in");
    QVERIFY(std::abs(zoomed.y() - zoomed.x()) < 0.5);

    const QPointF start = plot.widgetPosition(30, 60);
    const QPointF before = plot.widgetPosition(20, 30);
    QTest::mousePress(&plot, Qt::LeftButton, Qt::NoModifier, start.toPoint());
    QTest::mouseMove(&plot, (start + QPointF(20, 10)).toPoint());
    QTest::mouseMove(&plot, (start + QPointF(40, 25)).toPoint());
    QTest::mouseRelease(&plot, Qt::LeftButton, Qt::NoModifier, (start + QPointF(40, 25)).toPoint());
    frame(plot);
    QCOMPARE(selected.count(), 0);
    const QPointF after = plot.widgetPosition(20, 30);
    QVERIFY2(std::abs(after.x() - before.x() - 40) < 2 && std::abs(after.y() - before.y() - 25) < 2,
             qPrintable(QStringLiteral("pan moved the points by (%1, %2)")
                            .arg(after.x() - before.x())
                            .arg(after.y() - before.y())));

    plot.resize(700, 460);
    QTRY_COMPARE(plot.size(), QSize(700, 460));
    frame(plot);
    const QPointF resized = step();
    QVERIFY(std::abs(resized.x() - zoomed.x()) < 0.5);
    QVERIFY(std::abs(resized.y() - zoomed.y()) < 0.5);

    plot.resetView();
    frame(plot);
    const QPointF refitted = step();
    QVERIFY(std::abs(refitted.y() - refitted.x()) < 0.5);
    QVERIFY(plot.widgetPosition(20, 30).x() > 0);
    QVERIFY(plot.widgetPosition(60, 80).y() < plot.height());
  }

  void footprintIsDrawnRoundTheSelectedFrame() {
    ScanPositionPlot plot;
    plot.resize(560, 420);
    const std::vector<Position> positions = raster();
    plot.setPositions(positions);
    plot.setProbeDiameter(16.0);
    QVERIFY(showAndExpose(plot));
    const QImage none = frame(plot);
    constexpr int kSelected = 14;  // row 2, column 2: inside the raster
    plot.setSelectedFrame(kSelected);
    frame(plot);
    const QImage img = frame(plot);
    saveSample(img, QStringLiteral("scan-position-plot-footprint"));

    const Position centre = positions[kSelected];
    for (int k = 0; k < 8; ++k) {
      const double t = (2 * k + 1) * std::numbers::pi / 8;  // between the raster's axes
      const QPointF at =
          plot.widgetPosition(centre.row + 8.0 * std::sin(t), centre.col + 8.0 * std::cos(t));
      QVERIFY2(colourNear(img, at, kRed, 2, 40),
               qPrintable(QStringLiteral("no footprint at %1 degrees").arg(t * 180 / 3.14159)));
      QVERIFY(!colourNear(none, at, kRed, 2, 40));
    }
    // The selected point is ringed in the highlight colour, its own colour inside.
    const QPointF point = plot.widgetPosition(centre.row, centre.col);
    QVERIFY(colourNear(img, point + QPointF(6.5, 0), kRed, 1, 40));
    QVERIFY(colourNear(img, point, indexColour(kSelected), 1, 12));

    plot.setSelectedFrame(-1);
    const QImage cleared = frame(plot);
    const QPointF onCircle =
        plot.widgetPosition(centre.row + 8.0 * std::sin(0.4), centre.col + 8.0 * std::cos(0.4));
    QVERIFY(!colourNear(cleared, onCircle, kRed, 2, 40));
  }

  void coloursByAPerFrameValue() {
    ScanPositionPlot plot;
    plot.resize(560, 420);
    const std::vector<Position> positions = raster();
    plot.setPositions(positions);
    std::vector<double> error(kFrames);
    for (int j = 0; j < kFrames; ++j) error[j] = 0.02 + 0.01 * ((j * 7) % kFrames);
    plot.setFrameValues(error, QStringLiteral("Fourier error"));
    QVERIFY(!plot.colouredByFrameIndex());
    QCOMPARE(plot.colourBar().title(), QStringLiteral("Fourier error"));
    QCOMPARE(plot.colourBar().low(), 0.02);
    QCOMPARE(plot.colourBar().high(), 0.02 + 0.01 * (kFrames - 1));
    QCOMPARE(plot.colourBar().labels().front().text, QStringLiteral("0.0200"));
    plot.setSelectedFrame(20);
    plot.setProbeDiameter(24.0);
    QVERIFY(showAndExpose(plot));
    frame(plot);
    const QImage img = frame(plot);
    saveSample(img, QStringLiteral("scan-position-plot-error"));
    for (int j : {0, 5, 11, 29}) {
      const ColourBar& bar = plot.colourBar();
      const double t = (error[j] - bar.low()) / (bar.high() - bar.low());
      QVERIFY(colourNear(img, plot.widgetPosition(positions[j].row, positions[j].col),
                         ptyx::colour(Colormap::Sequential, t), 1, 12));
    }
    QVERIFY_THROWS_EXCEPTION(ptyx::InputError,
                             plot.setFrameValues(std::vector<double>(3), QStringLiteral("x")));
    plot.colourByFrameIndex();
    QVERIFY(plot.colouredByFrameIndex());
  }
};

QTEST_MAIN(ScanPositionPlotTest)
#include "scan_position_plot_test.moc"
