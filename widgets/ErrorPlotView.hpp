#pragma once
// Error curves against iteration on a log axis: Fourier error, overlap error and, when the
// truth is known, object error; a marker where parameters changed. append() is O(1): it adds a
// row and schedules one repaint, however many points arrive between two frames.
#include <vector>

#include <vtkNew.h>

#include "core/Reconstruction.hpp"
#include "widgets/VtkRenderWidget.hpp"

class vtkChartXY;
class vtkContextActor;
class vtkContextInteractorStyle;
class vtkDoubleArray;
class vtkPlot;
class vtkPlotPoints;
class vtkRenderer;
class vtkTable;

namespace ptyx::widgets {

class ErrorPlotView : public VtkRenderWidget {
  Q_OBJECT

 public:
  explicit ErrorPlotView(QWidget* parent = nullptr);
  ~ErrorPlotView() override;
  ErrorPlotView(const ErrorPlotView&) = delete;
  ErrorPlotView& operator=(const ErrorPlotView&) = delete;

  void append(const IterationMetrics& metrics);
  void setHistory(const std::vector<IterationMetrics>& history);
  void clear();

  /// Iterations shown.
  [[nodiscard]] int pointCount() const;
  /// Parameter-change markers shown.
  [[nodiscard]] int markerCount() const;
  [[nodiscard]] vtkChartXY* chart() const;
  /// Columns: iteration, Fourier error, overlap error, object error (NaN where unknown).
  [[nodiscard]] vtkTable* errors() const;

 protected:
  void resizeFrame(int w, int h) override;

 private:
  void dataChanged();
  /// Line widths and marker sizes, given in logical pixels, in the chart's device pixels.
  void applyPixelRatio();

  vtkNew<vtkRenderer> renderer_;
  vtkNew<vtkContextActor> actor_;
  vtkNew<vtkChartXY> chart_;
  vtkNew<vtkContextInteractorStyle> style_;
  vtkNew<vtkTable> errors_;
  vtkNew<vtkTable> changes_;
  vtkNew<vtkDoubleArray> iteration_;
  vtkNew<vtkDoubleArray> fourier_;
  vtkNew<vtkDoubleArray> overlap_;
  // The object error is scored only every few iterations (NaN in between): its points live in a
  // table of their own so that its line runs through the scored iterations without gaps.
  vtkNew<vtkTable> objectErrors_;
  vtkNew<vtkDoubleArray> objectIteration_;
  vtkNew<vtkDoubleArray> object_;
  vtkNew<vtkDoubleArray> changeIteration_;
  vtkNew<vtkDoubleArray> changeError_;
  vtkPlot* objectPlot_ = nullptr;    // added when the first object error arrives; owned by chart_
  std::vector<vtkPlot*> linePlots_;  // owned by chart_
  vtkPlotPoints* changesPlot_ = nullptr;  // owned by chart_
};

}  // namespace ptyx::widgets
