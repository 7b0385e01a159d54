#include "widgets/ColourBar.hpp"

#include <QFont>
#include <QFontMetricsF>
#include <QPainter>
#include <QRectF>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <vtkLookupTable.h>

namespace ptyx::widgets {
namespace {

constexpr int kEvenLabels = 5;
constexpr double kTextPixels = 12.0;  // logical pixels, as the views' other text
constexpr double kInset = 4.0;        // between the bar's room and the panel's edges
constexpr double kStripShare = 0.28;  // of the room's width
constexpr double kTick = 3.0;
constexpr double kGap = 3.0;  // between ticks and label text, and below the title

double axis(double value, ColourBar::Scale scale) {
  return scale == ColourBar::Scale::Log10 ? std::log10(value) : value;
}

}  // namespace

void ColourBar::setColours(const std::vector<QRgb>& colours) {
  const auto n = static_cast<int>(colours.size());
  strip_ = QImage(1, std::max(n, 1), QImage::Format_RGB32);
  strip_.fill(Qt::black);
  for (int i = 0; i < n; ++i) strip_.setPixel(0, n - 1 - i, colours[static_cast<std::size_t>(i)]);
}

void ColourBar::setColours(vtkLookupTable* table) {
  std::vector<QRgb> colours(static_cast<std::size_t>(table->GetNumberOfTableValues()));
  for (std::size_t i = 0; i < colours.size(); ++i) {
    double rgba[4];
    table->GetTableValue(static_cast<vtkIdType>(i), rgba);
    colours[i] = qRgb(static_cast<int>(std::lround(255.0 * rgba[0])),
                      static_cast<int>(std::lround(255.0 * rgba[1])),
                      static_cast<int>(std::lround(255.0 * rgba[2])));
  }
  setColours(colours);
}

void ColourBar::setRange(double low, double high, Scale scale) {
  low_ = low;
  high_ = high;
  scale_ = scale;
}

double ColourBar::fraction(double value) const {
  const double a = axis(low_, scale_);
  const double b = axis(high_, scale_);
  return b != a ? (axis(value, scale_) - a) / (b - a) : 0.5;
}

std::vector<ColourBar::Label> ColourBar::labels() const {
  if (!custom_.empty()) return custom_;
  std::vector<Label> even;
  const double a = axis(low_, scale_);
  const double b = axis(high_, scale_);
  for (int k = 0; k < kEvenLabels; ++k) {
    const double t = a + (b - a) * k / (kEvenLabels - 1);
    double value = scale_ == Scale::Log10 ? std::pow(10.0, t) : t;
    // A rounding residue where the range crosses zero reads as 0, not as 1e-17.
    if (scale_ == Scale::Linear && std::abs(value) < 1e-9 * std::abs(b - a)) value = 0.0;
    char text[64];
    std::snprintf(text, sizeof text, format_.c_str(), value);
    even.push_back({value, QString::fromUtf8(text)});
  }
  return even;
}

void ColourBar::paint(QPainter& painter, const QRectF& area) const {
  if (!visible_ || strip_.isNull()) return;
  const QRectF room = area.adjusted(kInset, 0.08 * area.height(), -kInset, -0.08 * area.height());
  if (room.width() <= 0.0 || room.height() <= 0.0) return;

  painter.save();
  QFont font = painter.font();
  font.setPixelSize(static_cast<int>(kTextPixels));
  font.setBold(false);
  const std::vector<Label> marks = labels();
  // A narrow panel (the probe's) gets smaller text rather than cut labels, down to 8 pixels.
  const double stripWidth = std::max(4.0, kStripShare * room.width());
  const double textRoom = room.width() - stripWidth - kTick - kGap;
  double widest = 0.0;
  for (const Label& label : marks) {
    widest = std::max(widest, QFontMetricsF(font).horizontalAdvance(label.text));
  }
  if (widest > textRoom && textRoom > 0.0) {
    font.setPixelSize(std::max(8, static_cast<int>(kTextPixels * textRoom / widest)));
  }
  painter.setFont(font);
  const QFontMetricsF metrics(font);
  painter.setPen(text_);

  const QRectF titleBox(room.left(), room.top(), room.width(), metrics.height());
  painter.drawText(titleBox, Qt::AlignLeft | Qt::AlignVCenter,
                   metrics.elidedText(title_, Qt::ElideRight, room.width()));

  // The strip leaves half a line above and below, so the end labels centre on its ends.
  const double half = 0.5 * metrics.height();
  const double top = titleBox.bottom() + kGap + half;
  const double bottom = room.bottom() - half;
  if (bottom <= top) {
    painter.restore();
    return;
  }
  const QRectF strip(room.left(), top, stripWidth, bottom - top);
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter.drawImage(strip, strip_);

  const double textLeft = strip.right() + kTick + kGap;
  for (const Label& label : marks) {
    const double t = fraction(label.value);
    if (!(t >= -1e-9 && t <= 1.0 + 1e-9)) continue;  // outside the range (or not a number)
    const double y = bottom - t * (bottom - top);
    painter.drawLine(QPointF(strip.right(), y), QPointF(strip.right() + kTick, y));
    const QRectF box(textLeft, y - half, std::max(0.0, room.right() - textLeft), 2.0 * half);
    painter.drawText(box, Qt::AlignLeft | Qt::AlignVCenter, label.text);
  }
  painter.restore();
}

}  // namespace ptyx::widgets
