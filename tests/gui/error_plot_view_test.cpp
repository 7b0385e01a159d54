// ErrorPlotView: N appended iterations are N points in the chart's data, drawn on a log axis,
// with markers where the parameters changed, and the curves are visible on screen.
#include <QTest>

#include <cmath>
#include <limits>

#include <vtkAxis.h>
#include <vtkChartXY.h>
#include <vtkPlot.h>
#include <vtkTable.h>
#include <vtkVariant.h>

#include "GuiTestSupport.hpp"
#include "widgets/ErrorPlotView.hpp"

using ptyx::IterationMetrics;
using ptyx::widgets::ErrorPlotView;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

IterationMetrics metricsAt(int i, bool changed = false) {
  IterationMetrics m;
  m.iteration = i;
  m.fourierError = 0.5 * std::exp(-0.05 * i);
  m.overlapError = 0.1 * std::exp(-0.03 * i);
  m.parametersChanged = changed;
  return m;
}

/// Pixels close to a colour (the curves are anti-aliased).
int pixelsNear(const QImage& img, ptyx::Rgb colour) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      if (colourDistance(img.pixel(x, y), colour) <= 40) ++n;
    }
  }
  return n;
}

}  // namespace

class ErrorPlotViewTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void appendedIterationsAreShown() {
    ErrorPlotView view;
    view.resize(480, 320);
    QVERIFY(showAndExpose(view));
    const QImage empty = frame(view);
    QVERIFY(view.chart()->GetAxis(vtkAxis::LEFT)->GetLogScaleActive());

    constexpr int kIterations = 60;
    for (int i = 1; i <= kIterations; ++i) view.append(metricsAt(i, i == 20 || i == 45));
    QCOMPARE(view.pointCount(), kIterations);
    QCOMPARE(view.markerCount(), 2);
    // The chart's own data: the Fourier and overlap plots read N rows.
    vtkChartXY* chart = view.chart();
    QVERIFY(chart->GetNumberOfPlots() >= 3);
    QCOMPARE(chart->GetPlot(0)->GetInput()->GetNumberOfRows(), vtkIdType{kIterations});
    QCOMPARE(chart->GetPlot(1)->GetInput()->GetNumberOfRows(), vtkIdType{kIterations});
    QCOMPARE(chart->GetPlot(2)->GetInput()->GetNumberOfRows(), vtkIdType{2});
    QCOMPARE(view.errors()->GetValue(kIterations - 1, 0).ToDouble(), double{kIterations});

    const QImage img = frame(view);
    saveSample(img, QStringLiteral("error-plot-view"));
    QVERIFY(chart->GetAxis(vtkAxis::LEFT)->GetLogScaleActive());
    for (int y = 0; y < img.height(); y += 37) QCOMPARE(qAlpha(img.pixel(img.width() / 2, y)), 255);
    // Curves in their colours, and more drawn than on the empty chart.
    QVERIFY2(pixelsNear(img, {31, 119, 180}) > 100, "Fourier curve not drawn");
    QVERIFY2(pixelsNear(img, {255, 127, 14}) > 100, "overlap curve not drawn");
    QVERIFY2(pixelsNear(img, {214, 39, 40}) > 20, "parameter-change markers not drawn");
    QVERIFY(img != empty);
  }

  void objectErrorAppearsWhenKnownAndClearEmpties() {
    ErrorPlotView view;
    const int plots = static_cast<int>(view.chart()->GetNumberOfPlots());
    view.append(metricsAt(1));
    QCOMPARE(static_cast<int>(view.chart()->GetNumberOfPlots()), plots);
    IterationMetrics m = metricsAt(2);
    m.objectError = 0.3;
    view.append(m);
    QCOMPARE(static_cast<int>(view.chart()->GetNumberOfPlots()), plots + 1);
    view.clear();
    QCOMPARE(view.pointCount(), 0);
    QCOMPARE(static_cast<int>(view.chart()->GetNumberOfPlots()), plots);
    view.setHistory({metricsAt(1), metricsAt(2), metricsAt(3)});
    QCOMPARE(view.pointCount(), 3);
    // Scored only now and then (NaN between): the object line keeps just the scored points.
    view.clear();
    for (int i = 1; i <= 30; ++i) {
      IterationMetrics s = metricsAt(i);
      s.objectError = i % 10 == 0 ? 0.1 / i : std::numeric_limits<double>::quiet_NaN();
      view.append(s);
    }
    QCOMPARE(view.pointCount(), 30);
    vtkPlot* object = view.chart()->GetPlot(view.chart()->GetNumberOfPlots() - 1);
    QVERIFY(object->GetInput() != view.errors());
    QCOMPARE(static_cast<int>(object->GetInput()->GetNumberOfRows()), 3);
    QVERIFY(object->GetVisible());
  }

  // Appending is cheap: many points between two frames cost one repaint, not one each.
  void manyAppendsCostOneRepaint() {
    ErrorPlotView view;
    view.resize(480, 320);
    QVERIFY(showAndExpose(view));
    frame(view);
    int frames = 0;
    connect(&view, &VtkRenderWidget::frameRendered, this, [&frames] { ++frames; });
    for (int i = 1; i <= 2000; ++i) view.append(metricsAt(i));
    QTRY_VERIFY(frames >= 1);
    QTest::qWait(100);
    QVERIFY2(frames <= 2, qPrintable(QStringLiteral("%1 frames for one burst").arg(frames)));
    QCOMPARE(view.pointCount(), 2000);
  }
};

QTEST_MAIN(ErrorPlotViewTest)
#include "error_plot_view_test.moc"
