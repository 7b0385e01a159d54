#pragma once
// Helpers shared by the GUI tests: render a widget and read its pixels back, save samples.
#include <QColor>
#include <QDir>
#include <QImage>
#include <QPointF>
#include <QRect>
#include <QSet>
#include <QString>
#include <QTest>
#include <QWidget>

#include <cmath>
#include <cstdlib>

#include "render/Render.hpp"
#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::test {

/// Shows the widget and waits until the window system has exposed it.
inline bool showAndExpose(QWidget& widget) {
  widget.show();
  return QTest::qWaitForWindowExposed(&widget, 5000);
}

/// Renders the VTK view now and returns its frame, as the user would see it.
inline QImage frame(widgets::VtkRenderWidget& widget) {
  return widget.renderedFrame().convertToFormat(QImage::Format_ARGB32);
}

/// Largest per-channel difference between a pixel and an expected colour.
inline int colourDistance(QRgb pixel, Rgb expected) {
  const int dr = std::abs(qRed(pixel) - expected.r);
  const int dg = std::abs(qGreen(pixel) - expected.g);
  const int db = std::abs(qBlue(pixel) - expected.b);
  return std::max({dr, dg, db});
}

inline QString describe(QRgb pixel) {
  return QStringLiteral("rgba(%1, %2, %3, %4)")
      .arg(qRed(pixel))
      .arg(qGreen(pixel))
      .arg(qBlue(pixel))
      .arg(qAlpha(pixel));
}

/// Saves `image` as NAME.png under $PTYX_GUI_SAMPLES when that is set (for looking at).
/// Asserts (Qt Test) that the pixel at `at` is opaque and within `tolerance` of `expected`.
inline void expectColour(const QImage& img, QPointF at, Rgb expected, int tolerance,
                         const char* what) {
  const QPoint p = at.toPoint();
  QVERIFY2(img.rect().contains(p), what);
  const QRgb pixel = img.pixel(p);
  QVERIFY2(qAlpha(pixel) == 255 && colourDistance(pixel, expected) <= tolerance,
           qPrintable(QStringLiteral("%1 at (%2, %3): expected rgb(%4, %5, %6), got %7")
                          .arg(what)
                          .arg(p.x())
                          .arg(p.y())
                          .arg(expected.r)
                          .arg(expected.g)
                          .arg(expected.b)
                          .arg(describe(pixel))));
}

/// Whether any pixel within `radius` of `at` is within `tolerance` of `colour`.
inline bool colourNear(const QImage& img, QPointF at, Rgb colour, int radius, int tolerance) {
  const QPoint c = at.toPoint();
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const QPoint p = c + QPoint(dx, dy);
      if (img.rect().contains(p) && colourDistance(img.pixel(p), colour) <= tolerance) return true;
    }
  }
  return false;
}

/// Distinct colours in a strip: a colour bar is a gradient, a blank strip is not.
inline int distinctColours(const QImage& img, QRect strip) {
  QSet<QRgb> colours;
  for (int y = strip.top(); y <= strip.bottom(); ++y) {
    for (int x = strip.left(); x <= strip.right(); ++x) colours.insert(img.pixel(x, y));
  }
  return static_cast<int>(colours.size());
}

inline void saveSample(const QImage& image, const QString& name) {
  const QByteArray dir = qgetenv("PTYX_GUI_SAMPLES");
  if (dir.isEmpty()) return;
  QDir().mkpath(QString::fromLocal8Bit(dir));
  image.save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name + QStringLiteral(".png"));
}

}  // namespace ptyx::test
