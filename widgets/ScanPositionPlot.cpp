#include "widgets/ScanPositionPlot.hpp"
#include "widgets/ColourTables.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include <vtkAxis.h>
#include <vtkChartXY.h>
#include <vtkContextActor.h>
#include <vtkContextInteractorStyle.h>
#include <vtkContextMouseEvent.h>
#include <vtkContextScene.h>
#include <vtkContextTransform.h>
#include <vtkDoubleArray.h>
#include <vtkLookupTable.h>
#include <vtkPen.h>
#include <vtkPlot.h>
#include <vtkPlotPoints.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>
#include <vtkTransform2D.h>

#include "core/Error.hpp"
#include "render/Render.hpp"

namespace ptyx::widgets {
namespace {

constexpr int kPointColours = 256;   // points need fewer shades than images
constexpr double kBarPixels = 96.0;  // room for the colour bar at the right (logical pixels)
// Room round the plot area for tick labels and axis titles, and the sizes of what is drawn, in
// logical pixels: times the pixel ratio in the chart's scene, whose units are device pixels.
constexpr float kLeftBorder = 66.0F;
constexpr float kBottomBorder = 50.0F;
constexpr float kRightBorder = 12.0F;
constexpr float kTopBorder = 14.0F;
constexpr float kRingPixels = 17.0F;
constexpr float kPointPixels = 8.0F;
constexpr float kFootprintLine = 2.0F;
constexpr int kCircleSegments = 96;
constexpr int kClickSlop = 4;  // a press and release closer than this is a click, not a drag
const Rgb kHighlight{214, 39, 40};

void styleText(vtkTextProperty* text, int size) {
  text->SetColor(0.15, 0.15, 0.15);
  text->SetFontSize(size);
  text->BoldOff();
  text->ItalicOff();
  text->ShadowOff();
}

}  // namespace

ScanPositionPlot::ScanPositionPlot(QWidget* parent) : VtkRenderWidget(parent) {
  x_->SetName("column");
  y_->SetName("row");
  frame_->SetName("frame");
  value_->SetName("colour value");
  for (vtkDoubleArray* a : {x_.Get(), y_.Get(), frame_.Get(), value_.Get()}) points_->AddColumn(a);
  selectionX_->SetName("column");
  selectionY_->SetName("selected frame");
  selection_->AddColumn(selectionX_);
  selection_->AddColumn(selectionY_);
  footprintX_->SetName("column");
  footprintY_->SetName("probe footprint");
  footprint_->AddColumn(footprintX_);
  footprint_->AddColumn(footprintY_);

  fillLookupTable(table_, Colormap::Sequential, kPointColours);
  table_->SetNanColor(0.6, 0.6, 0.6, 1.0);
  table_->Build();

  // Drawn in this order: the ring under the selected point, all points, the footprint on top.
  ring_ = vtkPlotPoints::SafeDownCast(chart_->AddPlot(vtkChart::POINTS));
  ring_->SetInputData(selection_, 0, 1);
  ring_->SetColor(kHighlight.r, kHighlight.g, kHighlight.b, 255);
  ring_->SetMarkerStyle(vtkPlotPoints::CIRCLE);
  ring_->SetMarkerSize(kRingPixels);
  ring_->SetSelectable(false);

  scatter_ = vtkPlotPoints::SafeDownCast(chart_->AddPlot(vtkChart::POINTS));
  scatter_->SetInputData(points_, 0, 1);
  scatter_->SetMarkerStyle(vtkPlotPoints::CIRCLE);
  scatter_->SetMarkerSize(kPointPixels);
  scatter_->SetLookupTable(table_);
  scatter_->SelectColorArray("colour value");
  scatter_->ScalarVisibilityOn();

  circle_ = chart_->AddPlot(vtkChart::LINE);
  circle_->SetInputData(footprint_, 0, 1);
  circle_->SetColor(kHighlight.r, kHighlight.g, kHighlight.b, 255);
  circle_->SetWidth(kFootprintLine);
  circle_->SetSelectable(false);

  vtkAxis* x = chart_->GetAxis(vtkAxis::BOTTOM);
  vtkAxis* y = chart_->GetAxis(vtkAxis::LEFT);
  x->SetTitle("column (object pixels)");
  y->SetTitle("row (object pixels)");
  for (vtkAxis* axis : {x, y}) {
    axis->SetBehavior(vtkAxis::FIXED);  // ranges are set here, one scale on both axes
    styleText(axis->GetTitleProperties(), 13);
    styleText(axis->GetLabelProperties(), 11);
  }
  chart_->SetShowLegend(false);
  chart_->SetIgnoreNanInBounds(true);
  chart_->SetRenderEmpty(true);
  chart_->SetLayoutStrategy(vtkChart::AXES_TO_RECT);
  // Drag pans and the wheel zooms both axes alike; the box zoom and rubber-band selection would
  // stretch one axis against the other or colour points as selected, so they are off.
  chart_->SetActionToButton(vtkChart::PAN, vtkContextMouseEvent::LEFT_BUTTON);
  chart_->SetActionToButton(vtkChart::ZOOM, -1);
  chart_->SetActionToButton(vtkChart::SELECT, -1);
  chart_->SetClickActionToButton(vtkChart::SELECT, -1);

  actor_->GetScene()->AddItem(chart_);
  renderer_->SetBackground(1.0, 1.0, 1.0);
  renderer_->AddActor(actor_);
  renderWindow()->AddRenderer(renderer_);

  bar_.setColours(table_);
  bar_.setTextColour(QColor(38, 38, 38));

  style_->SetScene(actor_->GetScene());
  setInteractorStyle(style_);
  updateLayout();
  clear();
}

ScanPositionPlot::~ScanPositionPlot() = default;

void ScanPositionPlot::setPositions(std::span<const Position> positions) {
  positions_.assign(positions.begin(), positions.end());
  const auto n = static_cast<vtkIdType>(positions_.size());
  for (vtkDoubleArray* a : {x_.Get(), y_.Get(), frame_.Get(), value_.Get()}) {
    a->SetNumberOfTuples(n);
  }
  for (vtkIdType j = 0; j < n; ++j) {
    x_->SetValue(j, positions_[static_cast<std::size_t>(j)].col);
    y_->SetValue(j, positions_[static_cast<std::size_t>(j)].row);
    frame_->SetValue(j, static_cast<double>(j));
  }
  for (vtkDoubleArray* a : {x_.Get(), y_.Get(), frame_.Get()}) a->Modified();
  points_->Modified();
  scatter_->SetVisible(n > 0);
  if (selected_ >= static_cast<int>(n)) selected_ = -1;
  colourByFrameIndex();
  updateSelection();
  fitPending_ = true;
  requestRender();
}

void ScanPositionPlot::clear() {
  setPositions({});
}

int ScanPositionPlot::pointCount() const {
  return static_cast<int>(positions_.size());
}

void ScanPositionPlot::setFrameValues(std::span<const double> values, const QString& name) {
  if (values.size() != positions_.size()) {
    throw InputError("scan position plot", "frame values",
                     std::to_string(values.size()) + " values for " +
                         std::to_string(positions_.size()) + " positions");
  }
  values_.assign(values.begin(), values.end());
  valueName_ = name;
  byIndex_ = false;
  updateColours();
}

void ScanPositionPlot::colourByFrameIndex() {
  byIndex_ = true;
  values_.clear();
  valueName_ = tr("frame");
  updateColours();
}

void ScanPositionPlot::updateColours() {
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (std::size_t j = 0; j < positions_.size(); ++j) {
    const double v = byIndex_ ? static_cast<double>(j) : values_[j];
    value_->SetValue(static_cast<vtkIdType>(j), v);
    if (std::isfinite(v)) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  if (!(low < high)) {  // nothing finite, or a single level
    const double centre = std::isfinite(low) ? low : 0.0;
    const double pad = std::max(std::abs(centre) * 1e-6, 0.5);
    low = centre - pad;
    high = centre + pad;
  }
  value_->Modified();
  points_->Modified();
  table_->SetTableRange(low, high);
  bar_.setRange(low, high);
  bar_.setTitle(valueName_);
  // Frame indices are whole numbers; errors and the like want three significant digits.
  bar_.setLabelFormat(byIndex_ ? "%.0f" : "%#.3g");
  bar_.setVisible(!positions_.empty());
  requestRender();
}

void ScanPositionPlot::setProbeDiameter(double pixels) {
  probeDiameter_ = std::isfinite(pixels) && pixels > 0.0 ? pixels : 0.0;
  updateSelection();
  requestRender();
}

void ScanPositionPlot::setSelectedFrame(int j) {
  selected_ = j >= 0 && j < pointCount() ? j : -1;
  updateSelection();
  requestRender();
}

void ScanPositionPlot::updateSelection() {
  selectionX_->Reset();
  selectionY_->Reset();
  footprintX_->Reset();
  footprintY_->Reset();
  if (selected_ >= 0) {
    const Position& p = positions_[static_cast<std::size_t>(selected_)];
    selectionX_->InsertNextValue(p.col);
    selectionY_->InsertNextValue(p.row);
    if (probeDiameter_ > 0.0) {
      const double radius = 0.5 * probeDiameter_;
      for (int k = 0; k <= kCircleSegments; ++k) {
        const double t = 2.0 * std::numbers::pi * k / kCircleSegments;
        footprintX_->InsertNextValue(p.col + radius * std::cos(t));
        footprintY_->InsertNextValue(p.row + radius * std::sin(t));
      }
    }
  }
  for (vtkDoubleArray* a :
       {selectionX_.Get(), selectionY_.Get(), footprintX_.Get(), footprintY_.Get()}) {
    a->Modified();
  }
  selection_->Modified();
  footprint_->Modified();
  ring_->SetVisible(selection_->GetNumberOfRows() > 0);
  // VTK's line plot complains about every frame it is asked to draw with fewer than two points.
  circle_->SetVisible(footprint_->GetNumberOfRows() >= 2);
}

void ScanPositionPlot::updateLayout() {
  // The chart on the left, the colour bar (drawn by paintOverlay) at the right. The chart's
  // renderer starts at the window's origin, so its scene coordinates are window pixels.
  const int* size = renderWindow()->GetSize();
  const double w = std::max(1, size[0]);
  const double h = std::max(1, size[1]);
  const auto ratio = static_cast<float>(devicePixelRatioF());
  const double split = std::clamp(1.0 - kBarPixels * ratio / w, 0.5, 1.0);
  renderer_->SetViewport(0.0, 0.0, split, 1.0);
  barShare_ = 1.0 - split;
  const float left = kLeftBorder * ratio;
  const float bottom = kBottomBorder * ratio;
  const auto plotWidth = static_cast<float>(std::max(1.0, split * w - left - kRightBorder * ratio));
  const auto plotHeight = static_cast<float>(std::max(1.0, h - bottom - kTopBorder * ratio));
  chart_->SetSize(vtkRectf(left, bottom, plotWidth, plotHeight));
  ring_->SetMarkerSize(kRingPixels * ratio);
  scatter_->SetMarkerSize(kPointPixels * ratio);
  circle_->SetWidth(kFootprintLine * ratio);
}

void ScanPositionPlot::fitAxes() {
  fitPending_ = false;
  double x0 = 0.0;
  double x1 = 1.0;
  double y0 = 0.0;
  double y1 = 1.0;
  if (!positions_.empty()) {
    x0 = y0 = std::numeric_limits<double>::infinity();
    x1 = y1 = -x0;
    for (const Position& p : positions_) {
      x0 = std::min(x0, p.col);
      x1 = std::max(x1, p.col);
      y0 = std::min(y0, p.row);
      y1 = std::max(y1, p.row);
    }
    // Room for the footprint at the edge points, or at least a little air.
    const double extent = std::max(x1 - x0, y1 - y0);
    const double pad = std::max({0.5 * probeDiameter_, 0.08 * extent, 2.0});
    x0 -= pad;
    x1 += pad;
    y0 -= pad;
    y1 += pad;
  }
  // One scale on both axes: object pixels are square, and so must the footprint circle be.
  const vtkRectf rect = chart_->GetSize();
  const double perPixel = std::max((x1 - x0) / rect.GetWidth(), (y1 - y0) / rect.GetHeight());
  const double cx = 0.5 * (x0 + x1);
  const double cy = 0.5 * (y0 + y1);
  const double halfW = 0.5 * perPixel * rect.GetWidth();
  const double halfH = 0.5 * perPixel * rect.GetHeight();
  chart_->GetAxis(vtkAxis::BOTTOM)->SetRange(cx - halfW, cx + halfW);
  // Rows grow downwards, as in the object images: the axis runs from its maximum at the bottom.
  chart_->GetAxis(vtkAxis::LEFT)->SetRange(cy + halfH, cy - halfH);
  fitted_ = {cx - halfW, cx + halfW, cy + halfH, cy - halfH};
}

void ScanPositionPlot::resetView() {
  fitPending_ = true;
  requestRender();
}

bool ScanPositionPlot::mapToScene(const double point[2], double scene[2]) const {
  const std::vector<vtkContextTransform*>& transforms = chart_->GetTransforms();
  if (transforms.empty() || transforms.front() == nullptr) return false;
  transforms.front()->GetTransform()->TransformPoints(point, scene, 1);
  return true;
}

QPointF ScanPositionPlot::widgetPosition(double row, double column) const {
  const double point[2] = {column, row};
  double scene[2] = {0.0, 0.0};
  if (!mapToScene(point, scene)) return {-1.0, -1.0};
  const double ratio = devicePixelRatioF();
  const double heightPx = std::max(1, renderWindow()->GetSize()[1]);
  return {scene[0] / ratio, (heightPx - 1.0 - scene[1]) / ratio};
}

int ScanPositionPlot::frameAt(QPointF at, double radius) const {
  int best = -1;
  double bestDistance = radius * radius;
  for (std::size_t j = 0; j < positions_.size(); ++j) {
    const QPointF p = widgetPosition(positions_[j].row, positions_[j].col);
    const double dx = p.x() - at.x();
    const double dy = p.y() - at.y();
    const double d = dx * dx + dy * dy;
    if (d <= bestDistance) {
      bestDistance = d;
      best = static_cast<int>(j);
    }
  }
  return best;
}

vtkChartXY* ScanPositionPlot::chart() const {
  return chart_;
}
vtkTable* ScanPositionPlot::points() const {
  return points_;
}
const ColourBar& ScanPositionPlot::colourBar() const {
  return bar_;
}

void ScanPositionPlot::resizeFrame(int w, int h) {
  const vtkRectf before = chart_->GetSize();
  VtkRenderWidget::resizeFrame(w, h);
  updateLayout();
  if (fitPending_) return;
  // Still as fitted: fit again to the new size. Panned or zoomed by the user: keep the centre
  // and the scale, so that both axes keep one scale.
  vtkAxis* axes[2] = {chart_->GetAxis(vtkAxis::BOTTOM), chart_->GetAxis(vtkAxis::LEFT)};
  const bool asFitted = axes[0]->GetMinimum() == fitted_[0] &&
                        axes[0]->GetMaximum() == fitted_[1] &&
                        axes[1]->GetMinimum() == fitted_[2] && axes[1]->GetMaximum() == fitted_[3];
  if (asFitted) {
    fitPending_ = true;
    return;
  }
  const vtkRectf after = chart_->GetSize();
  const double oldPixels[2] = {before.GetWidth(), before.GetHeight()};
  const double newPixels[2] = {after.GetWidth(), after.GetHeight()};
  for (int i = 0; i < 2; ++i) {
    const double lo = axes[i]->GetMinimum();
    const double hi = axes[i]->GetMaximum();
    const double centre = 0.5 * (lo + hi);
    const double half = 0.5 * (hi - lo) / oldPixels[i] * newPixels[i];  // signed: y runs down
    axes[i]->SetRange(centre - half, centre + half);
  }
}

void ScanPositionPlot::renderFrame() {
  if (fitPending_) fitAxes();
  VtkRenderWidget::renderFrame();
}

void ScanPositionPlot::paintOverlay(QPainter& painter) {
  // No renderer covers the bar's room: VTK leaves it as it was, so it is cleared here.
  const QRectF room(width() * (1.0 - barShare_), 0.0, width() * barShare_, height());
  painter.fillRect(room, Qt::white);
  bar_.paint(painter, room);
}

void ScanPositionPlot::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) pressedAt_ = event->position();
  VtkRenderWidget::mousePressEvent(event);
}

void ScanPositionPlot::mouseReleaseEvent(QMouseEvent* event) {
  VtkRenderWidget::mouseReleaseEvent(event);
  if (event->button() != Qt::LeftButton) return;
  const QPointF moved = event->position() - pressedAt_;
  pressedAt_ = {-1.0, -1.0};
  if (std::abs(moved.x()) + std::abs(moved.y()) > kClickSlop) return;  // a pan
  const int j = frameAt(event->position());
  if (j < 0) return;
  setSelectedFrame(j);
  emit frameSelected(j);
}

bool ScanPositionPlot::event(QEvent* event) {
  // Tooltips come from here rather than from the chart, whose point picking does not work on a
  // downward axis.
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int j = frameAt(help->pos());
    if (j < 0) {
      QToolTip::hideText();
      event->ignore();
      return true;
    }
    const Position& p = positions_[static_cast<std::size_t>(j)];
    QString text =
        tr("frame %1\nrow %2, column %3").arg(j).arg(p.row, 0, 'g', 6).arg(p.col, 0, 'g', 6);
    if (!byIndex_) text += QStringLiteral("\n%1: %2").arg(valueName_).arg(values_[j], 0, 'g', 4);
    QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return VtkRenderWidget::event(event);
}

void ScanPositionPlot::wheelEvent(QWheelEvent* event) {
  // Zoom both axes by one factor about the point under the mouse (the chart's own wheel zoom
  // scales about the centre and treats the downward row axis as a zoom out).
  event->accept();
  wheelAccumulated_ += event->angleDelta().y();
  const int steps = wheelAccumulated_ / 120;  // one step per notch; fine wheels accumulate
  if (steps == 0) return;
  wheelAccumulated_ -= 120 * steps;
  const std::vector<vtkContextTransform*>& transforms = chart_->GetTransforms();
  if (transforms.empty() || transforms.front() == nullptr) return;
  const double ratio = devicePixelRatioF();
  const double scene[2] = {event->position().x() * ratio,
                           renderWindow()->GetSize()[1] - 1.0 - event->position().y() * ratio};
  double anchor[2] = {0.0, 0.0};
  transforms.front()->GetTransform()->InverseTransformPoints(scene, anchor, 1);
  const double factor = std::pow(0.8, steps);
  vtkAxis* axes[2] = {chart_->GetAxis(vtkAxis::BOTTOM), chart_->GetAxis(vtkAxis::LEFT)};
  for (int i = 0; i < 2; ++i) {
    const double lo = axes[i]->GetMinimum();
    const double hi = axes[i]->GetMaximum();
    axes[i]->SetRange(anchor[i] + (lo - anchor[i]) * factor, anchor[i] + (hi - anchor[i]) * factor);
  }
  requestRender();
}

}  // namespace ptyx::widgets
