// Two object views linked by CameraLink: panning or zooming one moves the other the same way,
// so the same image pixel stays under the same screen position in both.
#include <QApplication>
#include <QHBoxLayout>
#include <QTest>
#include <QWheelEvent>

#include <cmath>

#include <vtkCamera.h>

#include "GuiTestSupport.hpp"
#include "widgets/CameraLink.hpp"
#include "widgets/ComplexImageView.hpp"

using ptyx::cfloat;
using ptyx::Image;
using ptyx::widgets::CameraLink;
using ptyx::widgets::ComplexImageView;
using ptyx::widgets::Panel;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

Image<cfloat> ramp(std::size_t rows, std::size_t cols) {
  Image<cfloat> image(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      image(r, c) = {static_cast<float>(r + c) / static_cast<float>(rows + cols), 0.0F};
    }
  }
  return image;
}

bool near(QPointF a, QPointF b) {
  return std::abs(a.x() - b.x()) < 0.5 && std::abs(a.y() - b.y()) < 0.5;
}

void sendWheel(QWidget* widget, QPointF at, int notches) {
  QWheelEvent wheel(at, widget->mapToGlobal(at), QPoint(), QPoint(0, notches * 120), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(widget, &wheel);
}

}  // namespace

class LinkedViewsTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void panAndZoomInOneViewMoveTheOther() {
    QWidget window;
    auto* layout = new QHBoxLayout(&window);
    auto* a = new ComplexImageView;
    auto* b = new ComplexImageView;
    layout->addWidget(a);
    layout->addWidget(b);
    a->setImage(ramp(64, 64));
    b->setImage(ramp(64, 64));
    window.resize(800, 360);
    CameraLink link;
    link.add(a, a->camera());
    link.add(b, b->camera());
    QCOMPARE(link.size(), std::size_t{2});
    QVERIFY(showAndExpose(window));
    frame(*a);
    frame(*b);
    const QPointF before = a->widgetPosition(Panel::Amplitude, 32, 32);
    QVERIFY(near(before, b->widgetPosition(Panel::Amplitude, 32, 32)));

    // Drag in view a with the left button: the image follows the mouse by (+40, +25).
    const QPoint start = before.toPoint();
    QTest::mousePress(a, Qt::LeftButton, Qt::NoModifier, start);
    for (int step = 1; step <= 4; ++step) {
      QTest::mouseMove(a, start + QPoint(10 * step, 6 * step + (step == 4 ? 1 : 0)));
    }
    QTest::mouseRelease(a, Qt::LeftButton, Qt::NoModifier, start + QPoint(40, 25));
    const QPointF panned = a->widgetPosition(Panel::Amplitude, 32, 32);
    QVERIFY2(std::abs(panned.x() - before.x() - 40) < 1.5 &&
                 std::abs(panned.y() - before.y() - 25) < 1.5,
             qPrintable(QStringLiteral("pan moved the image by (%1, %2)")
                            .arg(panned.x() - before.x())
                            .arg(panned.y() - before.y())));
    QVERIFY(near(panned, b->widgetPosition(Panel::Amplitude, 32, 32)));

    // Zoom in view b with the wheel: a follows.
    const double scale = a->camera()->GetParallelScale();
    sendWheel(b, QPointF(100, 100), 2);
    QVERIFY(b->camera()->GetParallelScale() < 0.9 * scale);
    QCOMPARE(a->camera()->GetParallelScale(), b->camera()->GetParallelScale());
    QVERIFY(near(a->widgetPosition(Panel::Amplitude, 10, 50),
                 b->widgetPosition(Panel::Amplitude, 10, 50)));

    // Same image, same camera, same size: the two views show the same picture.
    const QImage imgA = frame(*a);
    const QImage imgB = frame(*b);
    saveSample(window.grab().toImage(), QStringLiteral("linked-views"));
    QCOMPARE(imgA.size(), imgB.size());
    QVERIFY2(imgA == imgB, "linked views show different pictures");

    // Unlinked, b no longer follows.
    link.remove(b);
    QCOMPARE(link.size(), std::size_t{1});
    const double bScale = b->camera()->GetParallelScale();
    sendWheel(a, QPointF(100, 100), 1);
    QCOMPARE(b->camera()->GetParallelScale(), bScale);
  }

  void aDestroyedViewLeavesTheLink() {
    ComplexImageView a;
    CameraLink link;
    link.add(&a, a.camera());
    {
      ComplexImageView b;
      link.add(&b, b.camera());
      QCOMPARE(link.size(), std::size_t{2});
    }
    QCOMPARE(link.size(), std::size_t{1});
    a.camera()->SetParallelScale(3.0);  // must not touch the destroyed view
  }
};

QTEST_MAIN(LinkedViewsTest)
#include "linked_views_test.moc"
