#pragma once
// A passive view of a complex image (object or probe): amplitude, phase, both side by side, or
// complex colouring (hue = phase, brightness = amplitude), with colour maps from the engine's
// render module, a colour bar per panel, automatic or fixed ranges, pan and zoom, and a pixel
// read-out as the mouse moves. It shows what it is given; it never talks to the engine.
#include <array>
#include <utility>
#include <vector>

#include <vtkNew.h>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "render/Render.hpp"
#include "widgets/ColourBar.hpp"
#include "widgets/VtkRenderWidget.hpp"

class vtkCamera;
class vtkFloatArray;
class vtkImageActor;
class vtkImageData;
class vtkLookupTable;
class vtkRenderer;
class vtkUnsignedCharArray;

namespace ptyx::widgets {

enum class ComplexDisplay { Amplitude, Phase, AmplitudeAndPhase, Complex };

/// What a panel of the view shows.
enum class Panel { Amplitude = 0, Phase = 1, Complex = 2 };

struct ValueRange {
  double low = 0.0;
  double high = 1.0;
};

/// Amplitude and phase of a complex image, rows flipped for VTK (whose y points up), with their
/// extents: computed once per image however many views show it.
struct ComplexPlanes {
  int rows = 0;
  int cols = 0;
  std::vector<float> amplitude;
  std::vector<float> phase;
  ValueRange amplitudeExtent{0.0, 0.0};
  ValueRange phaseExtent{0.0, 0.0};

  static ComplexPlanes of(const Image<cfloat>& image);
};

class ComplexImageView : public VtkRenderWidget {
  Q_OBJECT

 public:
  explicit ComplexImageView(QWidget* parent = nullptr);
  ~ComplexImageView() override;
  ComplexImageView(const ComplexImageView&) = delete;
  ComplexImageView& operator=(const ComplexImageView&) = delete;

  /// Shows `image` (copied into the view's display buffers). A new size refits the view;
  /// the same size keeps the user's pan and zoom.
  void setImage(const Image<cfloat>& image) { setPlanes(ComplexPlanes::of(image)); }
  /// The same, from planes already computed (views showing one image share them).
  void setPlanes(const ComplexPlanes& planes);
  [[nodiscard]] int imageRows() const { return rows_; }
  [[nodiscard]] int imageColumns() const { return cols_; }

  void setDisplay(ComplexDisplay display);
  [[nodiscard]] ComplexDisplay display() const { return display_; }

  /// Colour map of the amplitude or phase panel (the complex panel always uses hue).
  void setColormap(Panel panel, Colormap map);
  [[nodiscard]] Colormap colormap(Panel panel) const;

  /// Fixed range of the amplitude or phase panel; values outside take the end colours.
  void setFixedRange(Panel panel, ValueRange range);
  /// Range from the image's minimum and maximum (default for amplitude; phase defaults to a
  /// fixed [-pi, pi]). For the complex panel this is the amplitude that maps to full brightness.
  void setAutoRange(Panel panel);
  [[nodiscard]] bool autoRange(Panel panel) const;
  /// The range in use now (after auto ranging).
  [[nodiscard]] ValueRange range(Panel panel) const;

  /// Fits the whole image into the view.
  void resetView();

  /// The camera all panels share; link it to other views with CameraLink.
  [[nodiscard]] vtkCamera* camera() const;
  [[nodiscard]] vtkRenderer* renderer(Panel panel) const;
  [[nodiscard]] const ColourBar& colourBar(Panel panel) const;
  /// Panels on screen, left to right.
  [[nodiscard]] std::vector<Panel> visiblePanels() const;
  /// Widget coordinates (logical pixels) of the centre of image pixel (column, row) in `panel`;
  /// (-1, -1) when the panel is not shown.
  [[nodiscard]] QPointF widgetPosition(Panel panel, double column, double row) const;

 signals:
  /// The mouse is over image pixel (column, row) (row 0 at the top) with these values.
  void pixelHovered(int column, int row, double amplitude, double phase);
  /// The mouse left the image.
  void hoverLeft();

 protected:
  void resizeFrame(int w, int h) override;
  void renderFrame() override;
  void paintOverlay(QPainter& painter) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  struct PanelParts;
  void updateLayout();
  void updateBarGeometry();
  void updateColours(Panel panel);
  void updateComplexColours();
  void fitCamera();
  [[nodiscard]] double panelAspect(Panel panel) const;

  int rows_ = 0;
  int cols_ = 0;
  ComplexDisplay display_ = ComplexDisplay::Amplitude;
  vtkNew<vtkCamera> camera_;
  vtkNew<vtkFloatArray> amplitude_;
  vtkNew<vtkFloatArray> phase_;
  vtkNew<vtkUnsignedCharArray> complexRgb_;
  std::array<vtkNew<vtkImageData>, 3> images_;
  std::array<vtkNew<vtkRenderer>, 3> renderers_;
  std::array<vtkNew<vtkImageActor>, 3> actors_;
  std::array<vtkNew<vtkLookupTable>, 3> tables_;
  std::array<ColourBar, 3> bars_;
  std::array<Colormap, 3> maps_{Colormap::Sequential, Colormap::Cyclic, Colormap::Cyclic};
  std::array<bool, 3> auto_{true, false, true};
  std::array<ValueRange, 3> fixed_{};
  std::array<ValueRange, 3> current_{};
  ValueRange amplitudeExtent_{};  // min..max of the image
  ValueRange phaseExtent_{};
  double barShare_ = 0.2;  // share of a panel's width kept for its colour bar
  bool complexStale_ = true;
  bool fitPending_ = true;
  unsigned long fittedCameraTime_ = 0;  // camera MTime right after the last fit
  bool hovering_ = false;
};

}  // namespace ptyx::widgets
