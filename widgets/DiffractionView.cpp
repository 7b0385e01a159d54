#include "widgets/DiffractionView.hpp"
#include "widgets/ColourTables.hpp"

#include <QBoxLayout>
#include <QCheckBox>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

#include <algorithm>
#include <cmath>
#include <string>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>

#include "core/Error.hpp"
#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::widgets {
namespace {

constexpr double kBarPixels =
    86.0;  // room for the colour bar and its labels, as in ComplexImageView
constexpr double kBackground[3] = {0.11, 0.11, 0.13};
constexpr double kAutoDecades = 7.0;  // the automatic floor is at most this far below the top
constexpr int kMaxBarLabels = 8;

/// "10" with `exponent` in superscript digits: 10⁶, 10⁻².
QString powerOfTen(int exponent) {
  static const char16_t kDigits[] = u"⁰¹²³⁴⁵⁶⁷⁸⁹";
  QString text = QStringLiteral("10");
  if (exponent < 0) text += QChar(u'⁻');
  const QString digits = QString::number(std::abs(exponent));
  for (QChar d : digits) text += QChar(kDigits[d.digitValue()]);
  return text;
}

}  // namespace

/// The render widget, reporting size, paint and mouse to the view around it.
class DiffractionView::Canvas final : public VtkRenderWidget {
 public:
  explicit Canvas(DiffractionView* owner) : VtkRenderWidget(owner), owner_(owner) {}

 protected:
  void resizeFrame(int w, int h) override {
    VtkRenderWidget::resizeFrame(w, h);
    owner_->canvasResized();
  }
  void renderFrame() override {
    owner_->beforePaint();
    VtkRenderWidget::renderFrame();
  }
  void paintOverlay(QPainter& painter) override { owner_->paintBar(painter); }
  void mouseMoveEvent(QMouseEvent* event) override {
    VtkRenderWidget::mouseMoveEvent(event);
    owner_->canvasMouseMoved(event->position());
  }
  void leaveEvent(QEvent* event) override {
    VtkRenderWidget::leaveEvent(event);
    owner_->canvasLeft();
  }

 private:
  DiffractionView* owner_;
};

struct DiffractionView::Pipeline {
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkCamera> camera;
  vtkNew<vtkImageData> image;
  vtkNew<vtkUnsignedCharArray> rgb;  // colours composed here: log scale and mask in one pass
  vtkNew<vtkImageActor> actor;
  vtkNew<vtkPoints> crossPoints;
  vtkNew<vtkCellArray> crossLines;
  vtkNew<vtkPolyData> cross;
  vtkNew<vtkPolyDataMapper> crossMapper;
  vtkNew<vtkActor> crossActor;
  double barShare = 0.2;
};

DiffractionView::DiffractionView(QWidget* parent)
    : QWidget(parent), vtk_(std::make_unique<Pipeline>()) {
  canvas_ = new Canvas(this);
  canvas_->setMinimumSize(160, 120);

  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setToolTip(tr("Diffraction pattern shown"));
  spin_ = new QSpinBox(this);
  spin_->setToolTip(slider_->toolTip());
  spin_->setKeyboardTracking(false);
  count_ = new QLabel(this);
  maskBox_ = new QCheckBox(tr("Mask"), this);
  maskBox_->setChecked(maskVisible_);
  maskBox_->setToolTip(tr("Show bad detector pixels (mask) in red"));
  readout_ = new QLabel(this);
  readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readout_->setMinimumWidth(10);  // long read-outs must not widen the view

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Frame"), this));
  controls->addWidget(slider_, 1);
  controls->addWidget(spin_);
  controls->addWidget(count_);
  controls->addSpacing(8);
  controls->addWidget(maskBox_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  layout->addWidget(canvas_, 1);
  layout->addLayout(controls);
  layout->addWidget(readout_);

  connect(slider_, &QSlider::valueChanged, this, &DiffractionView::setFrame);
  connect(spin_, &QSpinBox::valueChanged, this, &DiffractionView::setFrame);
  connect(maskBox_, &QCheckBox::toggled, this, &DiffractionView::setMaskVisible);

  // The frame: RGB composed on the CPU, shown as it is.
  Pipeline& p = *vtk_;
  p.rgb->SetName("colours");
  p.rgb->SetNumberOfComponents(3);
  p.image->GetPointData()->SetScalars(p.rgb);
  p.actor->GetMapper()->SetInputData(p.image);
  p.actor->GetMapper()->BorderOn();
  p.actor->GetMapper()->SetNumberOfThreads(1);
  p.actor->GetProperty()->SetInterpolationTypeToNearest();

  // Centre crosshair, a little in front of the image; open in the middle so that the central
  // pixels stay visible.
  p.cross->SetPoints(p.crossPoints);
  p.cross->SetLines(p.crossLines);
  p.crossMapper->SetInputData(p.cross);
  p.crossActor->SetMapper(p.crossMapper);
  p.crossActor->GetProperty()->SetColor(0.95, 0.95, 0.95);
  p.crossActor->GetProperty()->SetLineWidth(1.0F);
  p.crossActor->GetProperty()->LightingOff();

  bar_.setTitle(tr("counts"));

  p.camera->ParallelProjectionOn();
  p.renderer->SetActiveCamera(p.camera);
  p.renderer->SetBackground(kBackground[0], kBackground[1], kBackground[2]);
  p.renderer->AddViewProp(p.actor);
  p.renderer->AddViewProp(p.crossActor);
  canvas_->renderWindow()->AddRenderer(p.renderer);

  setColormap(map_);
  clear();
}

DiffractionView::~DiffractionView() = default;

void DiffractionView::setFrames(const Stack<float>& magnitudes, const Image<std::uint8_t>& mask) {
  if (!mask.empty() && (mask.rows() != magnitudes.rows() || mask.cols() != magnitudes.cols())) {
    throw InputError("diffraction view", "mask",
                     "shape " + std::to_string(mask.rows()) + " x " + std::to_string(mask.cols()) +
                         " differs from the frames' " + std::to_string(magnitudes.rows()) + " x " +
                         std::to_string(magnitudes.cols()));
  }
  const int rows = static_cast<int>(magnitudes.rows());
  const int cols = static_cast<int>(magnitudes.cols());
  const int frames = rows * cols == 0 ? 0 : static_cast<int>(magnitudes.count());
  const auto span = magnitudes.span();
  magnitudes_.assign(span.begin(), span.end());
  mask_.assign(mask.span().begin(), mask.span().end());

  // One pass over all good pixels for the shared colour scale.
  const std::size_t frameSize = magnitudes.frameSize();
  double brightest = 0.0;
  double dimmest = 0.0;
  for (std::size_t k = 0; k < magnitudes_.size(); ++k) {
    if (!mask_.empty() && mask_[k % frameSize] != 0) continue;
    const double intensity = static_cast<double>(magnitudes_[k]) * magnitudes_[k];
    if (!(intensity > 0.0) || !std::isfinite(intensity)) continue;
    brightest = std::max(brightest, intensity);
    dimmest = dimmest == 0.0 ? intensity : std::min(dimmest, intensity);
  }
  brightest_ = brightest;
  dimmest_ = dimmest;

  if (rows != rows_ || cols != cols_) {
    rows_ = rows;
    cols_ = cols;
    vtk_->image->SetDimensions(cols, rows, 1);
    vtk_->rgb->SetNumberOfTuples(static_cast<vtkIdType>(rows) * cols);
    fitPending_ = true;
  }
  frames_ = frames;
  const int previous = frame_;
  frame_ = std::clamp(frame_, 0, std::max(frames_ - 1, 0));
  {
    const QSignalBlocker blockSlider(slider_);
    const QSignalBlocker blockSpin(spin_);
    slider_->setRange(0, std::max(frames_ - 1, 0));
    spin_->setRange(0, std::max(frames_ - 1, 0));
    slider_->setValue(frame_);
    spin_->setValue(frame_);
  }
  slider_->setEnabled(frames_ > 1);
  spin_->setEnabled(frames_ > 1);
  count_->setText(frames_ == 1 ? tr("(1 frame)") : tr("(%1 frames)").arg(frames_));
  maskBox_->setEnabled(!mask_.empty());
  readout_->clear();

  updateRange();
  updateCentreMarker();
  updateImage();
  vtk_->actor->SetVisibility(frames_ > 0);
  bar_.setVisible(frames_ > 0);
  canvas_->requestRender();
  if (frame_ != previous) emit frameChanged(frame_);
}

void DiffractionView::clear() {
  setFrames(Stack<float>{}, Image<std::uint8_t>{});
}

void DiffractionView::setFrame(int j) {
  j = std::clamp(j, 0, std::max(frames_ - 1, 0));
  if (j == frame_) return;
  frame_ = j;
  {
    const QSignalBlocker blockSlider(slider_);
    const QSignalBlocker blockSpin(spin_);
    slider_->setValue(j);
    spin_->setValue(j);
  }
  updateImage();
  canvas_->requestRender();
  emit frameChanged(j);
  // The mouse rests on a pixel while the frames are stepped: read out its new value.
  if (hovering_) {
    showReadout(hoverRow_, hoverColumn_);
    emit pixelHovered(hoverRow_, hoverColumn_, counts(hoverRow_, hoverColumn_),
                      masked(hoverRow_, hoverColumn_));
  }
}

void DiffractionView::setMaskVisible(bool visible) {
  if (visible == maskVisible_) return;
  maskVisible_ = visible;
  const QSignalBlocker block(maskBox_);
  maskBox_->setChecked(visible);
  updateImage();
  canvas_->requestRender();
}

void DiffractionView::setCentreMarkerVisible(bool visible) {
  vtk_->crossActor->SetVisibility(visible);
  canvas_->requestRender();
}

bool DiffractionView::centreMarkerVisible() const {
  return vtk_->crossActor->GetVisibility() != 0;
}

void DiffractionView::setColormap(Colormap map) {
  map_ = map;
  table_.resize(kTableColours);
  for (int i = 0; i < kTableColours; ++i) {
    table_[static_cast<std::size_t>(i)] = colour(map, static_cast<double>(i) / (kTableColours - 1));
  }
  std::vector<QRgb> colours(table_.size());
  std::transform(table_.begin(), table_.end(), colours.begin(),
                 [](Rgb c) { return qRgb(c.r, c.g, c.b); });
  bar_.setColours(colours);
  updateImage();
  canvas_->requestRender();
}

void DiffractionView::setLogFloor(double counts) {
  floorSetting_ = std::isfinite(counts) && counts > 0.0 ? counts : 0.0;
  updateRange();
  updateImage();
  canvas_->requestRender();
}

double DiffractionView::counts(int row, int column) const {
  if (frames_ == 0 || row < 0 || row >= rows_ || column < 0 || column >= cols_) return 0.0;
  const std::size_t k = static_cast<std::size_t>(frame_) * rows_ * cols_ +
                        static_cast<std::size_t>(row) * cols_ + column;
  return static_cast<double>(magnitudes_[k]) * magnitudes_[k];
}

bool DiffractionView::masked(int row, int column) const {
  if (mask_.empty() || row < 0 || row >= rows_ || column < 0 || column >= cols_) return false;
  return mask_[static_cast<std::size_t>(row) * cols_ + column] != 0;
}

void DiffractionView::updateRange() {
  double high = brightest_;
  double low = floorSetting_;
  if (!(high > 0.0)) {
    high = low > 0.0 ? 10.0 * low : 10.0;  // nothing lit: an empty decade above the floor
    if (!(low > 0.0)) low = 1.0;
  } else if (low > 0.0) {
    if (!(low < high)) high = 10.0 * low;
  } else {
    low = std::max(dimmest_, high * std::pow(10.0, -kAutoDecades));
    if (!(low < high)) low = high * 1e-3;  // a single level (e.g. one lit pixel)
  }
  range_ = {low, high};
  bar_.setRange(low, high, ColourBar::Scale::Log10);
  updateBarLabels();
}

void DiffractionView::updateBarLabels() {
  // Labels on whole decades (1, 10, 100, ...) where the range holds two or more; evenly spaced
  // log labels otherwise.
  const double lo = std::log10(range_.low);
  const double hi = std::log10(range_.high);
  const int first = static_cast<int>(std::ceil(lo - 1e-9));
  const int last = static_cast<int>(std::floor(hi + 1e-9));
  const int decades = last - first + 1;
  std::vector<ColourBar::Label> labels;
  if (decades >= 2) {
    const int step = (decades + kMaxBarLabels - 1) / kMaxBarLabels;
    // One style for all labels: plain numbers for 0.1 .. 10^4, powers of ten beyond.
    const bool plain = first >= -1 && last <= 4;
    for (int k = first; k <= last; k += step) {
      const double value = std::pow(10.0, k);
      labels.push_back({value, plain ? QString::number(value, 'g', 6) : powerOfTen(k)});
    }
  }
  bar_.setLabels(std::move(labels));
}

void DiffractionView::updateImage() {
  if (frames_ == 0 || table_.empty()) return;
  const std::size_t frameSize = static_cast<std::size_t>(rows_) * cols_;
  const float* a = magnitudes_.data() + static_cast<std::size_t>(frame_) * frameSize;
  const double lo = std::log10(range_.low);
  const double scale = (kTableColours - 1) / (std::log10(range_.high) - lo);
  const bool showMask = maskVisible_ && !mask_.empty();
  const Rgb bad = maskColour();
  std::uint8_t* rgb = vtk_->rgb->GetPointer(0);
  for (int r = 0; r < rows_; ++r) {
    // Image row 0 is the top; VTK's y points up.
    std::uint8_t* dst = rgb + 3 * static_cast<std::size_t>(rows_ - 1 - r) * cols_;
    const std::size_t src = static_cast<std::size_t>(r) * cols_;
    for (int c = 0; c < cols_; ++c) {
      Rgb colour;
      if (showMask && mask_[src + c] != 0) {
        colour = bad;
      } else {
        const double intensity = static_cast<double>(a[src + c]) * a[src + c];
        // NaN and values below the floor (zero included) take the bottom colour.
        const double level = intensity > range_.low ? (std::log10(intensity) - lo) * scale : 0.0;
        const auto i = static_cast<std::size_t>(
            std::lround(std::clamp(level, 0.0, static_cast<double>(kTableColours - 1))));
        colour = table_[i];
      }
      dst[3 * c + 0] = colour.r;
      dst[3 * c + 1] = colour.g;
      dst[3 * c + 2] = colour.b;
    }
  }
  vtk_->rgb->Modified();
  vtk_->image->Modified();
}

void DiffractionView::updateCentreMarker() {
  Pipeline& p = *vtk_;
  p.crossPoints->Reset();
  p.crossLines->Reset();
  if (rows_ > 0 && cols_ > 0) {
    const double x = cols_ / 2;  // column M/2: the zero frequency of a centred pattern
    const double y = rows_ - 1 - rows_ / 2;
    const double gap = 1.5;
    const double arm = std::max(4.0, std::min(rows_, cols_) / 10.0);
    const double z = 1.0;  // in front of the image (the camera looks down -z)
    const double ends[4][4] = {{x - gap - arm, y, x - gap, y},
                               {x + gap, y, x + gap + arm, y},
                               {x, y - gap - arm, x, y - gap},
                               {x, y + gap, x, y + gap + arm}};
    for (const auto& e : ends) {
      const vtkIdType a = p.crossPoints->InsertNextPoint(e[0], e[1], z);
      const vtkIdType b = p.crossPoints->InsertNextPoint(e[2], e[3], z);
      const vtkIdType line[2] = {a, b};
      p.crossLines->InsertNextCell(2, line);
    }
  }
  p.crossPoints->Modified();
  p.crossLines->Modified();
  p.cross->Modified();
}

void DiffractionView::updateBarGeometry() {
  const double pixels = std::max(1.0, static_cast<double>(canvas_->width()));  // logical, as labels
  vtk_->barShare = std::clamp(kBarPixels / pixels, 0.05, 0.5);
}

void DiffractionView::paintBar(QPainter& painter) {
  const double room = vtk_->barShare * canvas_->width();
  bar_.paint(painter, QRectF(canvas_->width() - room, 0.0, room, canvas_->height()));
}

void DiffractionView::fitCamera() {
  updateBarGeometry();
  if (rows_ == 0 || cols_ == 0) return;
  const double aspect =
      static_cast<double>(std::max(canvas_->width(), 1)) / std::max(canvas_->height(), 1);
  const double usable = 1.0 - vtk_->barShare;
  const double scale = 1.04 * std::max(0.5 * rows_, 0.5 * cols_ / (aspect * usable));
  const double viewWidth = 2.0 * scale * aspect;
  const double cx = 0.5 * (cols_ - 1) + 0.5 * vtk_->barShare * viewWidth;
  const double cy = 0.5 * (rows_ - 1);
  const double distance = 10.0 * std::max(rows_, cols_);
  vtkCamera* camera = vtk_->camera;
  camera->SetFocalPoint(cx, cy, 0.0);
  camera->SetPosition(cx, cy, distance);
  camera->SetViewUp(0.0, 1.0, 0.0);
  camera->SetClippingRange(0.5 * distance, 2.0 * distance);
  camera->SetParallelScale(scale);
  fittedCameraTime_ = camera->GetMTime();
  fitPending_ = false;
}

void DiffractionView::resetView() {
  fitCamera();
  canvas_->requestRender();
}

VtkRenderWidget* DiffractionView::canvas() const {
  return canvas_;
}

const ColourBar& DiffractionView::colourBar() const {
  return bar_;
}

QPointF DiffractionView::canvasPosition(double row, double column) const {
  vtkRenderer* renderer = vtk_->renderer;
  renderer->SetWorldPoint(column, rows_ - 1 - row, 0.0, 1.0);
  renderer->WorldToDisplay();
  const double* d = renderer->GetDisplayPoint();
  const double ratio = canvas_->devicePixelRatioF();
  const double heightPx = std::max(1, canvas_->renderWindow()->GetSize()[1]);
  return {d[0] / ratio, (heightPx - 1.0 - d[1]) / ratio};
}

void DiffractionView::beforePaint() {
  if (fitPending_) fitCamera();
}

void DiffractionView::canvasResized() {
  updateBarGeometry();
  // One logical pixel wide, whatever the screen's pixel density.
  vtk_->crossActor->GetProperty()->SetLineWidth(static_cast<float>(canvas_->devicePixelRatioF()));
  // Keep the frame fitted while the user has not panned or zoomed since the last fit.
  if (vtk_->camera->GetMTime() == fittedCameraTime_) fitPending_ = true;
}

void DiffractionView::canvasMouseMoved(QPointF position) {
  if (frames_ == 0) return;
  const double ratio = canvas_->devicePixelRatioF();
  const double x = position.x() * ratio;
  const double y = canvas_->renderWindow()->GetSize()[1] - 1.0 - position.y() * ratio;
  vtkRenderer* renderer = vtk_->renderer;
  renderer->SetDisplayPoint(x, y, 0.0);
  renderer->DisplayToWorld();
  const double* w = renderer->GetWorldPoint();
  const double scale = w[3] != 0.0 ? 1.0 / w[3] : 1.0;
  const auto column = static_cast<int>(std::lround(w[0] * scale));
  const auto row = rows_ - 1 - static_cast<int>(std::lround(w[1] * scale));
  const bool onBar = x >= (1.0 - vtk_->barShare) * canvas_->renderWindow()->GetSize()[0];
  if (!onBar && column >= 0 && column < cols_ && row >= 0 && row < rows_) {
    hovering_ = true;
    hoverRow_ = row;
    hoverColumn_ = column;
    showReadout(row, column);
    emit pixelHovered(row, column, counts(row, column), masked(row, column));
    return;
  }
  canvasLeft();
}

void DiffractionView::canvasLeft() {
  if (!hovering_) return;
  hovering_ = false;
  readout_->clear();
  emit hoverLeft();
}

void DiffractionView::showReadout(int row, int column) {
  QString text = tr("frame %1, row %2, column %3: %4 counts")
                     .arg(frame_)
                     .arg(row)
                     .arg(column)
                     .arg(counts(row, column), 0, 'g', 5);
  if (masked(row, column)) text += tr(" (bad pixel)");
  readout_->setText(text);
}

}  // namespace ptyx::widgets
