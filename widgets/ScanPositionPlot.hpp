#pragma once
// A passive plot of a scan's probe positions in object pixels: x = column, y = row pointing down
// as in the object images, one scale on both axes. Points are coloured by frame index, or by a
// value per frame supplied later (e.g. each frame's Fourier error), with a colour bar. The
// selected frame is ringed and the probe footprint drawn round it as a circle. A click on a
// point emits frameSelected (so that a diffraction view can follow); drag pans, wheel zooms.
#include <QString>

#include <array>
#include <span>
#include <vector>

#include <vtkNew.h>

#include "core/Scan.hpp"
#include "widgets/ColourBar.hpp"
#include "widgets/VtkRenderWidget.hpp"

class vtkChartXY;
class vtkContextActor;
class vtkContextInteractorStyle;
class vtkDoubleArray;
class vtkLookupTable;
class vtkPlotPoints;
class vtkPlot;
class vtkRenderer;
class vtkTable;

namespace ptyx::widgets {

class ScanPositionPlot : public VtkRenderWidget {
  Q_OBJECT

 public:
  explicit ScanPositionPlot(QWidget* parent = nullptr);
  ~ScanPositionPlot() override;
  ScanPositionPlot(const ScanPositionPlot&) = delete;
  ScanPositionPlot& operator=(const ScanPositionPlot&) = delete;

  /// Shows these positions (copied; as in Scan::positions), coloured by frame index, and fits
  /// the view. Keeps the selected frame when it still exists.
  void setPositions(std::span<const Position> positions);
  void clear();
  [[nodiscard]] int pointCount() const;

  /// Colours the points by one value per frame (non-finite values are drawn grey), labelled
  /// `name` on the colour bar. Throws InputError unless there is one value per position.
  void setFrameValues(std::span<const double> values, const QString& name);
  /// Back to colouring by frame index (the default).
  void colourByFrameIndex();
  [[nodiscard]] bool colouredByFrameIndex() const { return byIndex_; }

  /// Diameter of the probe footprint drawn round the selected frame, in object pixels;
  /// 0 hides it.
  void setProbeDiameter(double pixels);
  [[nodiscard]] double probeDiameter() const { return probeDiameter_; }

  /// Highlights frame j (-1: none). Emits nothing: frameSelected is for the user's clicks.
  void setSelectedFrame(int j);
  [[nodiscard]] int selectedFrame() const { return selected_; }

  /// Fits all positions (and the footprint) into the plot, undoing pan and zoom.
  void resetView();

  /// Widget coordinates (logical pixels) of the object point (row, column), through the chart's
  /// transform as last drawn.
  [[nodiscard]] QPointF widgetPosition(double row, double column) const;
  /// The frame whose point is drawn within `radius` logical pixels of `at`; -1 if none.
  [[nodiscard]] int frameAt(QPointF at, double radius = 8.0) const;

  [[nodiscard]] vtkChartXY* chart() const;
  /// Columns: column (x), row (y), frame, colour value; one row per frame.
  [[nodiscard]] vtkTable* points() const;
  [[nodiscard]] const ColourBar& colourBar() const;

 signals:
  /// The user clicked the point of frame j.
  void frameSelected(int frame);

 protected:
  void resizeFrame(int w, int h) override;
  void renderFrame() override;
  void paintOverlay(QPainter& painter) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void updateColours();
  void updateSelection();
  void updateLayout();
  void fitAxes();
  [[nodiscard]] bool mapToScene(const double point[2], double scene[2]) const;

  vtkNew<vtkRenderer> renderer_;
  vtkNew<vtkContextActor> actor_;
  vtkNew<vtkChartXY> chart_;
  vtkNew<vtkContextInteractorStyle> style_;
  vtkNew<vtkTable> points_;
  vtkNew<vtkDoubleArray> x_;
  vtkNew<vtkDoubleArray> y_;
  vtkNew<vtkDoubleArray> frame_;
  vtkNew<vtkDoubleArray> value_;
  vtkNew<vtkTable> selection_;  // the selected point, drawn as a ring under it
  vtkNew<vtkDoubleArray> selectionX_;
  vtkNew<vtkDoubleArray> selectionY_;
  vtkNew<vtkTable> footprint_;  // closed circle round the selected point
  vtkNew<vtkDoubleArray> footprintX_;
  vtkNew<vtkDoubleArray> footprintY_;
  vtkNew<vtkLookupTable> table_;
  ColourBar bar_;
  double barShare_ = 0.0;             // of the width, at the right
  vtkPlotPoints* scatter_ = nullptr;  // owned by chart_
  vtkPlotPoints* ring_ = nullptr;     // owned by chart_
  vtkPlot* circle_ = nullptr;         // owned by chart_

  std::vector<Position> positions_;
  std::vector<double> values_;
  bool byIndex_ = true;
  QString valueName_;
  double probeDiameter_ = 0.0;
  int selected_ = -1;
  bool fitPending_ = true;
  std::array<double, 4> fitted_{};  // x and y axis ranges as last fitted
  QPointF pressedAt_{-1.0, -1.0};
  int wheelAccumulated_ = 0;
};

}  // namespace ptyx::widgets
