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

/// Renders the VTK view now and returns its frame, as the user would see it: in device pixels,
/// with the widget's pixel ratio (the helpers below take positions in widget coordinates).
inline QImage frame(widgets::VtkRenderWidget& widget) {
  return widget.renderedFrame().convertToFormat(QImage::Format_ARGB32);
}

/// The pixel of `img` (device pixels, at its pixel ratio) under `at`, in widget coordinates.
inline QPoint devicePixel(const QImage& img, QPointF at) {
  return (at * img.devicePixelRatio()).toPoint();
}

/// The image's size in widget coordinates.
inline QSize logicalSize(const QImage& img) {
  return img.deviceIndependentSize().toSize();
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
/// Asserts (Qt Test) that the pixel at `at` (widget coordinates) is opaque and within
/// `tolerance` of `expected`.
inline void expectColour(const QImage& img, QPointF at, Rgb expected, int tolerance,
                         const char* what) {
  const QPoint p = devicePixel(img, at);
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

/// Whether any pixel within `radius` of `at` (both in widget coordinates) is within `tolerance`
/// of `colour`.
inline bool colourNear(const QImage& img, QPointF at, Rgb colour, int radius, int tolerance) {
  const QPoint c = devicePixel(img, at);
  radius = static_cast<int>(std::ceil(radius * img.devicePixelRatio()));
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      const QPoint p = c + QPoint(dx, dy);
      if (img.rect().contains(p) && colourDistance(img.pixel(p), colour) <= tolerance) return true;
    }
  }
  return false;
}

/// Distinct colours in a strip (widget coordinates): a colour bar is a gradient, a blank strip is
/// not.
inline int distinctColours(const QImage& img, QRect logicalStrip) {
  const QRect strip(devicePixel(img, logicalStrip.topLeft()),
                    devicePixel(img, logicalStrip.bottomRight()));
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

/// The tallest run of consecutive rows in `logicalStrip` that each hold a pixel within
/// `tolerance` of `colour`, in widget pixels: the height of a line of text there, say.
inline double tallestRun(const QImage& img, QRect logicalStrip, Rgb colour, int tolerance) {
  const QRect strip =
      QRect(devicePixel(img, logicalStrip.topLeft()), devicePixel(img, logicalStrip.bottomRight()))
          .intersected(img.rect());
  int best = 0;
  int run = 0;
  for (int y = strip.top(); y <= strip.bottom(); ++y) {
    bool hit = false;
    for (int x = strip.left(); x <= strip.right() && !hit; ++x) {
      hit = colourDistance(img.pixel(x, y), colour) <= tolerance;
    }
    run = hit ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best / img.devicePixelRatio();
}

/// The area, in square widget pixels, of the pixels within `tolerance` of `colour` within
/// `radius` (widget pixels) of `at`: the size of a marker drawn there, say.
inline double colourArea(const QImage& img, QPointF at, double radius, Rgb colour, int tolerance) {
  const double ratio = img.devicePixelRatio();
  const QPoint c = devicePixel(img, at);
  const int r = static_cast<int>(std::ceil(radius * ratio));
  int count = 0;
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      const QPoint p = c + QPoint(dx, dy);
      if (img.rect().contains(p) && colourDistance(img.pixel(p), colour) <= tolerance) ++count;
    }
  }
  return count / (ratio * ratio);
}

}  // namespace ptyx::test
