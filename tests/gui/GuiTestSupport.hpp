#pragma once
// Helpers shared by the GUI tests: render a widget and read its pixels back, save samples.
#include <QColor>
#include <QDir>
#include <QImage>
#include <QOpenGLWidget>
#include <QString>
#include <QTest>
#include <QWidget>

#include <cmath>
#include <cstdlib>

#include "render/Render.hpp"

namespace ptyx::test {

/// Shows the widget and waits until the window system has exposed it.
inline bool showAndExpose(QWidget& widget) {
  widget.show();
  return QTest::qWaitForWindowExposed(&widget, 5000);
}

/// Renders the GL widget now (paintGL) and returns its frame, as the user would see it.
inline QImage frame(QOpenGLWidget& widget) {
  return widget.grabFramebuffer().convertToFormat(QImage::Format_ARGB32);
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
inline void saveSample(const QImage& image, const QString& name) {
  const QByteArray dir = qgetenv("PTYX_GUI_SAMPLES");
  if (dir.isEmpty()) return;
  QDir().mkpath(QString::fromLocal8Bit(dir));
  image.save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name + QStringLiteral(".png"));
}

}  // namespace ptyx::test
