#include "widgets/ErrorPlotView.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <vtkAxis.h>
#include <vtkChartLegend.h>
#include <vtkChartXY.h>
#include <vtkContextActor.h>
#include <vtkContextInteractorStyle.h>
#include <vtkContextScene.h>
#include <vtkDoubleArray.h>
#include <vtkPen.h>
#include <vtkPlot.h>
#include <vtkPlotPoints.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>

namespace ptyx::widgets {
namespace {

/// A log axis cannot show zero or negative values; they are left out rather than clamped.
double loggable(double v) {
  return std::isfinite(v) && v > 0.0 ? v : std::numeric_limits<double>::quiet_NaN();
}

// Logical pixels; the chart draws in device pixels, so these are scaled by the pixel ratio.
constexpr float kLineWidth = 2.0F;
constexpr float kMarkerSize = 12.0F;

void styleLine(vtkPlot* plot, unsigned char r, unsigned char g, unsigned char b) {
  plot->SetColor(r, g, b, 255);
  plot->SetWidth(kLineWidth);
}

}  // namespace

ErrorPlotView::ErrorPlotView(QWidget* parent) : VtkRenderWidget(parent) {
  iteration_->SetName("iteration");
  fourier_->SetName("Fourier error");
  overlap_->SetName("overlap error");
  object_->SetName("object error");
  errors_->AddColumn(iteration_);
  errors_->AddColumn(fourier_);
  errors_->AddColumn(overlap_);
  objectIteration_->SetName("iteration");
  objectErrors_->AddColumn(objectIteration_);
  objectErrors_->AddColumn(object_);
  changeIteration_->SetName("iteration");
  changeError_->SetName("parameters changed");
  changes_->AddColumn(changeIteration_);
  changes_->AddColumn(changeError_);

  vtkPlot* fourier = chart_->AddPlot(vtkChart::LINE);
  fourier->SetInputData(errors_, 0, 1);
  styleLine(fourier, 31, 119, 180);
  vtkPlot* overlap = chart_->AddPlot(vtkChart::LINE);
  overlap->SetInputData(errors_, 0, 2);
  styleLine(overlap, 255, 127, 14);
  linePlots_ = {fourier, overlap};
  vtkPlot* changes = chart_->AddPlot(vtkChart::POINTS);
  changes->SetInputData(changes_, 0, 1);
  changes->SetColor(214, 39, 40, 255);
  changesPlot_ = vtkPlotPoints::SafeDownCast(changes);
  if (changesPlot_ != nullptr) {
    changesPlot_->SetMarkerStyle(vtkPlotPoints::DIAMOND);
    changesPlot_->SetMarkerSize(kMarkerSize);
  }

  vtkAxis* y = chart_->GetAxis(vtkAxis::LEFT);
  // The chart makes a log axis active only while its range is positive, and switching during a
  // paint leaves the plots' cached points on the linear scale for that frame (a blank plot).
  // Starting positive keeps the axis logarithmic from the first frame on.
  y->SetUnscaledRange(1e-3, 1.0);
  y->SetLogScale(true);
  y->SetTitle("error");
  vtkAxis* x = chart_->GetAxis(vtkAxis::BOTTOM);
  x->SetTitle("iteration");
  for (vtkAxis* axis : {x, y}) {
    axis->GetTitleProperties()->SetFontSize(13);
    axis->GetLabelProperties()->SetFontSize(11);
  }
  chart_->SetShowLegend(true);
  chart_->GetLegend()->SetHorizontalAlignment(vtkChartLegend::RIGHT);
  chart_->GetLegend()->SetVerticalAlignment(vtkChartLegend::TOP);
  chart_->SetIgnoreNanInBounds(true);
  chart_->SetRenderEmpty(true);

  actor_->GetScene()->AddItem(chart_);
  renderer_->SetBackground(1.0, 1.0, 1.0);
  renderer_->AddActor(actor_);
  renderWindow()->AddRenderer(renderer_);
  // The chart's own interaction: drag to pan, wheel to zoom, right-drag to zoom a box.
  style_->SetScene(actor_->GetScene());
  setInteractorStyle(style_);
  dataChanged();
}

ErrorPlotView::~ErrorPlotView() = default;

void ErrorPlotView::append(const IterationMetrics& metrics) {
  const auto iteration = static_cast<double>(metrics.iteration);
  iteration_->InsertNextValue(iteration);
  fourier_->InsertNextValue(loggable(metrics.fourierError));
  overlap_->InsertNextValue(loggable(metrics.overlapError));
  const double objectError = loggable(metrics.objectError);
  if (std::isfinite(objectError)) {
    objectIteration_->InsertNextValue(iteration);
    object_->InsertNextValue(objectError);
    objectIteration_->Modified();
    object_->Modified();
    objectErrors_->Modified();
    if (objectPlot_ == nullptr) {
      objectPlot_ = chart_->AddPlot(vtkChart::LINE);
      objectPlot_->SetInputData(objectErrors_, 0, 1);
      styleLine(objectPlot_, 44, 160, 44);
      linePlots_.push_back(objectPlot_);
      applyPixelRatio();
    }
  }
  if (metrics.parametersChanged) {
    changeIteration_->InsertNextValue(iteration);
    changeError_->InsertNextValue(loggable(metrics.fourierError));
    changeIteration_->Modified();
    changeError_->Modified();
    changes_->Modified();
  }
  iteration_->Modified();
  fourier_->Modified();
  overlap_->Modified();
  errors_->Modified();
  dataChanged();
}

void ErrorPlotView::setHistory(const std::vector<IterationMetrics>& history) {
  clear();
  for (const IterationMetrics& m : history) append(m);
}

void ErrorPlotView::clear() {
  for (vtkDoubleArray* a :
       {iteration_.Get(), fourier_.Get(), overlap_.Get(), objectIteration_.Get(), object_.Get(),
        changeIteration_.Get(), changeError_.Get()}) {
    a->Reset();
    a->Modified();
  }
  errors_->Modified();
  objectErrors_->Modified();
  changes_->Modified();
  if (objectPlot_ != nullptr) {
    linePlots_.pop_back();
    chart_->RemovePlotInstance(objectPlot_);
    objectPlot_ = nullptr;
  }
  dataChanged();
}

void ErrorPlotView::dataChanged() {
  // VTK's line plot reports an error for every frame it is asked to draw fewer than two points.
  const bool drawable = errors_->GetNumberOfRows() >= 2;
  for (vtkPlot* plot : linePlots_) {
    plot->SetVisible(plot == objectPlot_ ? objectErrors_->GetNumberOfRows() >= 2 : drawable);
  }
  // Cheap: marks the bounds stale; the chart recomputes them once, in the next paint.
  chart_->RecalculateBounds();
  requestRender();
}

int ErrorPlotView::pointCount() const {
  return static_cast<int>(errors_->GetNumberOfRows());
}
int ErrorPlotView::markerCount() const {
  return static_cast<int>(changes_->GetNumberOfRows());
}
vtkChartXY* ErrorPlotView::chart() const {
  return chart_;
}
vtkTable* ErrorPlotView::errors() const {
  return errors_;
}

void ErrorPlotView::resizeFrame(int w, int h) {
  VtkRenderWidget::resizeFrame(w, h);
  applyPixelRatio();
}

void ErrorPlotView::applyPixelRatio() {
  const auto ratio = static_cast<float>(devicePixelRatioF());
  for (vtkPlot* plot : linePlots_) plot->SetWidth(kLineWidth * ratio);
  if (changesPlot_ != nullptr) changesPlot_->SetMarkerSize(kMarkerSize * ratio);
}

}  // namespace ptyx::widgets
