#pragma once
// A passive viewer of a scan's diffraction patterns: frame j as intensity (magnitude squared, in
// counts) on a log10 colour scale with a floor, a colour bar labelled in counts, the detector's
// bad pixels (mask non-zero) in a distinct colour that can be switched off, a crosshair at the
// pattern centre (row M/2, column M/2), a frame slider with a spin box, and a read-out of the
// pixel under the mouse. It copies what it shows (the Scan may be released afterwards) and never
// talks to the engine.
//
// One colour scale serves all frames, so that frames can be compared while stepping through
// them: its top is the brightest good pixel of the whole stack, its bottom the log floor.
#include <QWidget>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/Array.hpp"
#include "render/Render.hpp"
#include "widgets/ColourBar.hpp"
#include "widgets/ComplexImageView.hpp"  // ValueRange

class QCheckBox;
class QLabel;
class QPainter;
class QSlider;
class QSpinBox;

namespace ptyx::widgets {

class VtkRenderWidget;

class DiffractionView : public QWidget {
  Q_OBJECT

 public:
  explicit DiffractionView(QWidget* parent = nullptr);
  ~DiffractionView() override;
  DiffractionView(const DiffractionView&) = delete;
  DiffractionView& operator=(const DiffractionView&) = delete;

  /// Copies the frames (N x M x M magnitudes, centred, as in Scan::magnitudes) and the mask
  /// (M x M, non-zero = bad pixel; empty = none). Keeps the current frame when it still exists,
  /// else shows frame 0. Throws InputError when the mask's shape differs from the frames'.
  void setFrames(const Stack<float>& magnitudes, const Image<std::uint8_t>& mask = {});
  /// Shows nothing.
  void clear();
  [[nodiscard]] int frameCount() const { return frames_; }
  [[nodiscard]] int frameRows() const { return rows_; }
  [[nodiscard]] int frameColumns() const { return cols_; }

  /// Shows frame j (clamped to the frames there are); emits frameChanged when it changes, as the
  /// slider and the spin box do.
  void setFrame(int j);
  [[nodiscard]] int frame() const { return frame_; }

  void setMaskVisible(bool visible);
  [[nodiscard]] bool maskVisible() const { return maskVisible_; }
  void setCentreMarkerVisible(bool visible);
  [[nodiscard]] bool centreMarkerVisible() const;

  void setColormap(Colormap map);
  [[nodiscard]] Colormap colormap() const { return map_; }
  /// Lowest intensity (counts) the log scale shows; smaller values, zero included, take the
  /// bottom colour. 0 (the default) chooses automatically: the smallest positive good pixel of
  /// the stack, but at most 7 decades below the brightest.
  void setLogFloor(double counts);
  /// Counts at the bottom (the floor) and the top of the colour scale.
  [[nodiscard]] ValueRange countRange() const { return range_; }
  /// Intensity (counts) of pixel (row, column) of the shown frame; 0 outside.
  [[nodiscard]] double counts(int row, int column) const;
  [[nodiscard]] bool masked(int row, int column) const;
  /// Colour of bad pixels while the mask is shown.
  [[nodiscard]] static Rgb maskColour() { return {228, 26, 28}; }

  /// Fits the whole frame into the view (undoes pan and zoom).
  void resetView();

  /// The render widget that draws the frame (to grab it, or to place overlays).
  [[nodiscard]] VtkRenderWidget* canvas() const;
  /// Canvas coordinates (logical pixels) of the centre of pixel (row, column).
  [[nodiscard]] QPointF canvasPosition(double row, double column) const;
  [[nodiscard]] QSlider* frameSlider() const { return slider_; }
  [[nodiscard]] const ColourBar& colourBar() const;

 signals:
  void frameChanged(int frame);
  /// The mouse is over pixel (row, column) (row 0 at the top) of the shown frame.
  void pixelHovered(int row, int column, double counts, bool masked);
  /// The mouse left the frame.
  void hoverLeft();

 private:
  class Canvas;
  struct Pipeline;
  void updateRange();
  void updateImage();
  void updateCentreMarker();
  void updateBarLabels();
  void updateBarGeometry();
  void paintBar(QPainter& painter);
  void fitCamera();
  void beforePaint();
  void canvasResized();
  void canvasMouseMoved(QPointF position);
  void canvasLeft();
  void showReadout(int row, int column);

  std::unique_ptr<Pipeline> vtk_;
  Canvas* canvas_ = nullptr;  // owned by this widget (Qt parent)
  QSlider* slider_ = nullptr;
  QSpinBox* spin_ = nullptr;
  QLabel* count_ = nullptr;
  QCheckBox* maskBox_ = nullptr;
  QLabel* readout_ = nullptr;

  std::vector<float> magnitudes_;   // N x M x M as given
  std::vector<std::uint8_t> mask_;  // M x M, or empty
  int frames_ = 0;
  int rows_ = 0;
  int cols_ = 0;
  int frame_ = 0;
  bool maskVisible_ = true;
  Colormap map_ = Colormap::Sequential;
  std::vector<Rgb> table_;     // the colour map sampled
  ColourBar bar_;              // in counts, on a log scale
  double floorSetting_ = 0.0;  // 0 = automatic
  double brightest_ = 0.0;     // over the good pixels of all frames
  double dimmest_ = 0.0;       // smallest positive good pixel of all frames
  ValueRange range_{1.0, 10.0};
  bool fitPending_ = true;
  unsigned long fittedCameraTime_ = 0;
  bool hovering_ = false;
  int hoverRow_ = 0;
  int hoverColumn_ = 0;
};

}  // namespace ptyx::widgets
