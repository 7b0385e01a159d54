#include "widgets/ComplexImageView.hpp"
#include "widgets/ColourTables.hpp"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <vtkCamera.h>
#include <vtkFloatArray.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkLookupTable.h>
#include <vtkPointData.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>

namespace ptyx::widgets {
namespace {

constexpr double kPi = std::numbers::pi;
// Width kept for the colour bar and its labels at the right edge of each panel.
constexpr double kBarPixels = 86.0;
constexpr double kBackground[3] = {0.11, 0.11, 0.13};

std::size_t index(Panel p) {
  return static_cast<std::size_t>(p);
}

/// Hue circle for the complex panel, t = phase / 2pi: phase 0 red, +-pi cyan (as the cyclic map),
/// full saturation and value.
Rgb hue(double t) {
  const double h = 6.0 * (t - std::floor(t));
  const int sector = static_cast<int>(h) % 6;
  const double f = h - std::floor(h);
  const auto up = static_cast<std::uint8_t>(std::lround(255.0 * f));
  const auto down = static_cast<std::uint8_t>(255 - up);
  switch (sector) {
    case 0:
      return {255, up, 0};
    case 1:
      return {down, 255, 0};
    case 2:
      return {0, 255, up};
    case 3:
      return {0, down, 255};
    case 4:
      return {up, 0, 255};
    default:
      return {255, 0, down};
  }
}

void fillHueTable(vtkLookupTable* table) {
  table->SetNumberOfTableValues(kTableColours);
  for (int i = 0; i < kTableColours; ++i) {
    const Rgb c = hue(static_cast<double>(i) / kTableColours - 0.5);  // entry 0 is -pi
    table->SetTableValue(i, c.r / 255.0, c.g / 255.0, c.b / 255.0, 1.0);
  }
  table->Modified();
}

ValueRange nonEmpty(ValueRange r) {
  if (!(r.high > r.low)) {
    const double pad = std::max(std::abs(r.low) * 1e-6, 1e-12);
    return {r.low - pad, r.low + pad};
  }
  return r;
}

}  // namespace

ComplexImageView::ComplexImageView(QWidget* parent) : VtkRenderWidget(parent) {
  camera_->ParallelProjectionOn();
  amplitude_->SetName("amplitude");
  phase_->SetName("phase");
  complexRgb_->SetName("complex");
  complexRgb_->SetNumberOfComponents(3);
  images_[0]->GetPointData()->SetScalars(amplitude_);
  images_[1]->GetPointData()->SetScalars(phase_);
  images_[2]->GetPointData()->SetScalars(complexRgb_);

  fillLookupTable(tables_[0], maps_[0]);
  fillLookupTable(tables_[1], maps_[1]);
  fillHueTable(tables_[2]);
  fixed_[1] = {-kPi, kPi};
  current_[1] = fixed_[1];
  tables_[1]->SetTableRange(-kPi, kPi);
  tables_[2]->SetTableRange(-kPi, kPi);  // the complex panel's bar shows the phase hue

  const char* titles[3] = {"amplitude", "phase", "phase"};
  for (std::size_t i = 0; i < 3; ++i) {
    bars_[i].setTitle(QString::fromLatin1(titles[i]));
    bars_[i].setColours(tables_[i]);
    bars_[i].setRange(current_[i].low, current_[i].high);
  }
  bars_[2].setRange(-kPi, kPi);
  for (std::size_t i = 0; i < 3; ++i) {
    vtkImageActor* actor = actors_[i];
    actor->GetMapper()->SetInputData(images_[i]);
    actor->GetMapper()->BorderOn();  // edge pixels drawn whole, not cut at their centres
    actor->GetMapper()->SetNumberOfThreads(1);
    vtkImageProperty* property = actor->GetProperty();
    property->SetInterpolationTypeToNearest();
    if (i < 2) {
      property->SetLookupTable(tables_[i]);
      property->UseLookupTableScalarRangeOn();
    }  // the complex panel holds RGB colours, shown as they are

    vtkRenderer* renderer = renderers_[i];
    renderer->SetBackground(kBackground[0], kBackground[1], kBackground[2]);
    renderer->SetActiveCamera(camera_);
    renderer->AddViewProp(actor);
  }
  updateLayout();
}

ComplexImageView::~ComplexImageView() = default;

namespace {

// atan2(y, x) to within 5e-7 rad, without a libm call per pixel: the phase of a whole object
// every iteration is otherwise a few percent of a live run. The octant is reduced to a ratio in
// [0, 1], whose arctangent is a * P(a^2) with P fitted (minimax) for this code.
float phaseOf(float y, float x) {
  constexpr float kP[] = {0.999996113F,  -0.3331737F,    0.198078234F,  -0.132333523F,
                          0.0796236493F, -0.0336040884F, 0.00681172566F};
  const float ax = std::fabs(x);
  const float ay = std::fabs(y);
  const float a = std::min(ax, ay) / std::max(std::max(ax, ay), std::numeric_limits<float>::min());
  const float s = a * a;
  float r = kP[6];
  for (int k = 5; k >= 0; --k) r = r * s + kP[k];
  r *= a;
  if (ay > ax) r = std::numbers::pi_v<float> / 2 - r;
  if (x < 0.0F) r = std::numbers::pi_v<float> - r;
  return std::copysign(r, y);
}

}  // namespace

ComplexPlanes ComplexPlanes::of(const Image<cfloat>& image) {
  ComplexPlanes p;
  p.rows = static_cast<int>(image.rows());
  p.cols = static_cast<int>(image.cols());
  p.amplitude.resize(image.size());
  p.phase.resize(image.size());
  // One pass: amplitude and phase, with rows flipped (image row 0 is the top). Made on the
  // engine's thread between iterations, so its cores are free: rows in parallel (min and max are
  // exact, so the result does not depend on the thread count).
  float aLo = std::numeric_limits<float>::max();
  float aHi = std::numeric_limits<float>::lowest();
  float pLo = aLo;
  float pHi = aHi;
#pragma omp parallel for schedule(static) reduction(min : aLo, pLo) reduction(max : aHi, pHi)
  for (int r = 0; r < p.rows; ++r) {
    const cfloat* src = image.data() + static_cast<std::size_t>(r) * image.cols();
    const std::size_t dst = static_cast<std::size_t>(p.rows - 1 - r) * image.cols();
    for (int c = 0; c < p.cols; ++c) {
      const float a = std::sqrt(norm2(src[c]));
      const float ph = phaseOf(src[c].im, src[c].re);
      p.amplitude[dst + c] = a;
      p.phase[dst + c] = ph;
      aLo = std::min(aLo, a);
      aHi = std::max(aHi, a);
      pLo = std::min(pLo, ph);
      pHi = std::max(pHi, ph);
    }
  }
  if (!image.empty()) {
    p.amplitudeExtent = {aLo, aHi};
    p.phaseExtent = {pLo, pHi};
  }
  return p;
}

void ComplexImageView::setPlanes(const ComplexPlanes& planes) {
  const int rows = planes.rows;
  const int cols = planes.cols;
  const auto n = static_cast<vtkIdType>(planes.amplitude.size());
  if (rows != rows_ || cols != cols_) {
    rows_ = rows;
    cols_ = cols;
    for (auto& imageData : images_) imageData->SetDimensions(cols, rows, 1);
    amplitude_->SetNumberOfTuples(n);
    phase_->SetNumberOfTuples(n);
    complexRgb_->SetNumberOfTuples(n);
    fitPending_ = true;
  }
  std::copy(planes.amplitude.begin(), planes.amplitude.end(), amplitude_->GetPointer(0));
  std::copy(planes.phase.begin(), planes.phase.end(), phase_->GetPointer(0));
  amplitudeExtent_ = planes.amplitudeExtent;
  phaseExtent_ = planes.phaseExtent;
  amplitude_->Modified();
  phase_->Modified();
  for (auto& imageData : images_) imageData->Modified();
  complexStale_ = true;
  updateColours(Panel::Amplitude);
  updateColours(Panel::Phase);
  updateColours(Panel::Complex);
  requestRender();
}

void ComplexImageView::setDisplay(ComplexDisplay display) {
  if (display == display_) return;
  display_ = display;
  updateLayout();
  fitPending_ = fitPending_ || camera_->GetMTime() == fittedCameraTime_;
  requestRender();
}

void ComplexImageView::setColormap(Panel panel, Colormap map) {
  if (panel == Panel::Complex) return;
  maps_[index(panel)] = map;
  fillLookupTable(tables_[index(panel)], map);
  bars_[index(panel)].setColours(tables_[index(panel)]);
  requestRender();
}

Colormap ComplexImageView::colormap(Panel panel) const {
  return maps_[index(panel)];
}

void ComplexImageView::setFixedRange(Panel panel, ValueRange range) {
  auto_[index(panel)] = false;
  fixed_[index(panel)] = range;
  updateColours(panel);
  requestRender();
}

void ComplexImageView::setAutoRange(Panel panel) {
  auto_[index(panel)] = true;
  updateColours(panel);
  requestRender();
}

bool ComplexImageView::autoRange(Panel panel) const {
  return auto_[index(panel)];
}
ValueRange ComplexImageView::range(Panel panel) const {
  return current_[index(panel)];
}

void ComplexImageView::updateColours(Panel panel) {
  const std::size_t i = index(panel);
  const ValueRange extent = panel == Panel::Phase ? phaseExtent_ : amplitudeExtent_;
  current_[i] = nonEmpty(auto_[i] ? extent : fixed_[i]);
  if (panel == Panel::Complex) {
    complexStale_ = true;
  } else {
    tables_[i]->SetTableRange(current_[i].low, current_[i].high);
    bars_[i].setRange(current_[i].low, current_[i].high);
  }
}

void ComplexImageView::updateComplexColours() {
  // Hue from phase, brightness from amplitude over the complex panel's range.
  const vtkIdType n = amplitude_->GetNumberOfTuples();
  const float* amp = amplitude_->GetPointer(0);
  const float* phs = phase_->GetPointer(0);
  std::uint8_t* rgb = complexRgb_->GetPointer(0);
  const ValueRange r = current_[index(Panel::Complex)];
  const double scale = 1.0 / (r.high - r.low);
  for (vtkIdType k = 0; k < n; ++k) {
    const Rgb h = hue(phs[k] / (2.0 * kPi));
    const double v = std::clamp((amp[k] - r.low) * scale, 0.0, 1.0);
    rgb[3 * k + 0] = static_cast<std::uint8_t>(std::lround(h.r * v));
    rgb[3 * k + 1] = static_cast<std::uint8_t>(std::lround(h.g * v));
    rgb[3 * k + 2] = static_cast<std::uint8_t>(std::lround(h.b * v));
  }
  complexRgb_->Modified();
  images_[index(Panel::Complex)]->Modified();
  complexStale_ = false;
}

std::vector<Panel> ComplexImageView::visiblePanels() const {
  switch (display_) {
    case ComplexDisplay::Amplitude:
      return {Panel::Amplitude};
    case ComplexDisplay::Phase:
      return {Panel::Phase};
    case ComplexDisplay::AmplitudeAndPhase:
      return {Panel::Amplitude, Panel::Phase};
    case ComplexDisplay::Complex:
    default:
      return {Panel::Complex};
  }
}

void ComplexImageView::updateBarGeometry() {
  // A fixed width in (logical) pixels: labels need the same room in a narrow panel as in a wide
  // one, and, their size following the pixel ratio, the same room on a high-density screen.
  const double panelPixels = std::max(1.0, width() / static_cast<double>(visiblePanels().size()));
  barShare_ = std::clamp(kBarPixels / panelPixels, 0.05, 0.5);
}

void ComplexImageView::paintOverlay(QPainter& painter) {
  const std::vector<Panel> panels = visiblePanels();
  const double panelWidth = width() / static_cast<double>(panels.size());
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const double right = panelWidth * static_cast<double>(k + 1);
    const double barWidth = barShare_ * panelWidth;
    bars_[index(panels[k])].paint(painter, QRectF(right - barWidth, 0.0, barWidth, height()));
  }
}

void ComplexImageView::updateLayout() {
  vtkRenderWindow* window = renderWindow();
  for (auto& renderer : renderers_) {
    if (window->HasRenderer(renderer)) window->RemoveRenderer(renderer);
  }
  const std::vector<Panel> panels = visiblePanels();
  const double width = 1.0 / static_cast<double>(panels.size());
  for (std::size_t k = 0; k < panels.size(); ++k) {
    vtkRenderer* renderer = renderers_[index(panels[k])];
    renderer->SetViewport(width * static_cast<double>(k), 0.0, width * static_cast<double>(k + 1),
                          1.0);
    window->AddRenderer(renderer);
  }
  updateBarGeometry();
}

double ComplexImageView::panelAspect(Panel panel) const {
  const double* vp = renderers_[index(panel)]->GetViewport();
  const double w = (vp[2] - vp[0]) * std::max(width(), 1);
  const double h = (vp[3] - vp[1]) * std::max(height(), 1);
  return w / h;
}

void ComplexImageView::fitCamera() {
  if (rows_ == 0 || cols_ == 0) return;
  // The image fills the panel left of the colour bar, with a small margin.
  const double aspect = panelAspect(visiblePanels().front());
  const double usable = 1.0 - barShare_;
  const double margin = 1.04;
  const double scale = margin * std::max(0.5 * rows_, 0.5 * cols_ / (aspect * usable));
  const double viewWidth = 2.0 * scale * aspect;
  const double cx = 0.5 * (cols_ - 1) + 0.5 * barShare_ * viewWidth;
  const double cy = 0.5 * (rows_ - 1);
  const double distance = 10.0 * std::max(rows_, cols_);
  camera_->SetFocalPoint(cx, cy, 0.0);
  camera_->SetPosition(cx, cy, distance);
  camera_->SetViewUp(0.0, 1.0, 0.0);
  camera_->SetClippingRange(0.5 * distance, 2.0 * distance);
  camera_->SetParallelScale(scale);
  fittedCameraTime_ = camera_->GetMTime();
  fitPending_ = false;
}

void ComplexImageView::resetView() {
  fitCamera();
  requestRender();
}

vtkCamera* ComplexImageView::camera() const {
  return camera_;
}
vtkRenderer* ComplexImageView::renderer(Panel panel) const {
  return renderers_[index(panel)];
}
const ColourBar& ComplexImageView::colourBar(Panel panel) const {
  return bars_[index(panel)];
}

QPointF ComplexImageView::widgetPosition(Panel panel, double column, double row) const {
  vtkRenderer* renderer = renderers_[index(panel)];
  if (!renderWindow()->HasRenderer(renderer)) return {-1.0, -1.0};  // panel not on screen
  renderer->SetWorldPoint(column, rows_ - 1 - row, 0.0, 1.0);
  renderer->WorldToDisplay();
  const double* d = renderer->GetDisplayPoint();
  const double ratio = devicePixelRatioF();
  const double heightPx = std::max(1, renderWindow()->GetSize()[1]);
  return {d[0] / ratio, (heightPx - 1.0 - d[1]) / ratio};
}

void ComplexImageView::resizeFrame(int w, int h) {
  VtkRenderWidget::resizeFrame(w, h);
  updateBarGeometry();
  // Keep the image fitted while the user has not panned or zoomed since the last fit.
  if (camera_->GetMTime() == fittedCameraTime_) fitPending_ = true;
}

void ComplexImageView::renderFrame() {
  if (fitPending_) fitCamera();
  if (complexStale_ && display_ == ComplexDisplay::Complex) updateComplexColours();
  VtkRenderWidget::renderFrame();
}

void ComplexImageView::mouseMoveEvent(QMouseEvent* event) {
  VtkRenderWidget::mouseMoveEvent(event);
  if (rows_ == 0 || cols_ == 0) return;
  const double ratio = devicePixelRatioF();
  const double x = event->position().x() * ratio;
  const double y = renderWindow()->GetSize()[1] - 1.0 - event->position().y() * ratio;
  for (Panel panel : visiblePanels()) {
    vtkRenderer* renderer = renderers_[index(panel)];
    if (!renderer->IsInViewport(static_cast<int>(x), static_cast<int>(y))) continue;
    renderer->SetDisplayPoint(x, y, 0.0);
    renderer->DisplayToWorld();
    const double* w = renderer->GetWorldPoint();
    const double scale = w[3] != 0.0 ? 1.0 / w[3] : 1.0;
    const auto col = static_cast<int>(std::lround(w[0] * scale));
    const auto j = static_cast<int>(std::lround(w[1] * scale));
    if (col >= 0 && col < cols_ && j >= 0 && j < rows_) {
      const vtkIdType k = static_cast<vtkIdType>(j) * cols_ + col;
      hovering_ = true;
      emit pixelHovered(col, rows_ - 1 - j, amplitude_->GetValue(k), phase_->GetValue(k));
      return;
    }
  }
  if (hovering_) {
    hovering_ = false;
    emit hoverLeft();
  }
}

void ComplexImageView::leaveEvent(QEvent* event) {
  VtkRenderWidget::leaveEvent(event);
  if (hovering_) {
    hovering_ = false;
    emit hoverLeft();
  }
}

}  // namespace ptyx::widgets
