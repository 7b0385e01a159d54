#pragma once
// A colour bar drawn by Qt over a VTK view's frame: the colour map as a vertical strip, a title
// above it and labelled ticks beside it.
//
// VTK's vtkScalarBarActor rebuilt its layout whenever its range moved, making, rasterising and
// uploading a text actor per label and collecting the old ones; an automatic range moves on every
// snapshot of a live run, and the bars were a third of the GUI thread's time there
// (docs/PERFORMANCE.md). QPainter draws the same bar in a fraction of a millisecond, with the
// window's own fonts.
#include <QColor>
#include <QImage>
#include <QRgb>
#include <QString>

#include <string>
#include <vector>

class QPainter;
class QRectF;
class vtkLookupTable;

namespace ptyx::widgets {

class ColourBar {
 public:
  enum class Scale { Linear, Log10 };
  struct Label {
    double value = 0.0;
    QString text;
  };

  void setTitle(const QString& title) { title_ = title; }
  /// The colours from the bottom of the bar to its top.
  void setColours(const std::vector<QRgb>& colours);
  /// The colours of `table`'s entries (not its range), bottom to top.
  void setColours(vtkLookupTable* table);
  /// The values at the bottom and the top of the bar; on a Log10 scale both must be positive.
  void setRange(double low, double high, Scale scale = Scale::Linear);
  /// Labels at these values. Without any, five evenly spaced labels in the label format.
  void setLabels(std::vector<Label> labels) { custom_ = std::move(labels); }
  /// printf format of the evenly spaced labels (one double); "%#.3g" unless set.
  void setLabelFormat(std::string format) { format_ = std::move(format); }
  void setTextColour(QColor colour) { text_ = colour; }
  void setVisible(bool visible) { visible_ = visible; }

  [[nodiscard]] const QString& title() const { return title_; }
  [[nodiscard]] double low() const { return low_; }
  [[nodiscard]] double high() const { return high_; }
  [[nodiscard]] bool visible() const { return visible_; }
  /// The labels as drawn: the custom ones, or the evenly spaced ones the range gives.
  [[nodiscard]] std::vector<Label> labels() const;

  /// Draws the bar inside `area` (logical pixels): the title at the top, the strip below it on the
  /// left, the labels right of the strip. Nothing if the bar is hidden.
  void paint(QPainter& painter, const QRectF& area) const;

 private:
  /// Where `value` sits along the bar: 0 at the bottom, 1 at the top.
  [[nodiscard]] double fraction(double value) const;

  QString title_;
  QImage strip_;  // one pixel wide, the top colour in row 0
  double low_ = 0.0;
  double high_ = 1.0;
  Scale scale_ = Scale::Linear;
  std::vector<Label> custom_;
  std::string format_ = "%#.3g";
  QColor text_{230, 230, 230};
  bool visible_ = true;
};

}  // namespace ptyx::widgets
