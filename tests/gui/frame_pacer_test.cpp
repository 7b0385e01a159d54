// FramePacer: views that all want a frame at once (a live snapshot) are drawn in batches that fit
// the time budget, one repaint each, with the event loop running in between; every view still
// gets its frame, in the order asked, and a view that is not on screen (hidden, or shown but
// covered, like a dock behind another dock's tab) does not hold the others back.
#include <QHBoxLayout>
#include <QTest>
#include <QTimer>
#include <QWidget>

#include <algorithm>
#include <vector>

#include "GuiTestSupport.hpp"
#include "core/Array.hpp"
#include "widgets/ComplexImageView.hpp"
#include "widgets/FramePacer.hpp"

using ptyx::cfloat;
using ptyx::Image;
using ptyx::widgets::ComplexImageView;
using ptyx::widgets::FramePacer;
using ptyx::widgets::VtkRenderWidget;
using namespace ptyx::test;

namespace {

Image<cfloat> ramp(int n, float scale) {
  Image<cfloat> image(n, n);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) image(r, c) = cfloat{scale * static_cast<float>(r + c), 0.0F};
  }
  return image;
}

struct Drawn {
  VtkRenderWidget* view;
  long batch;
  long tick;  // passes of the event loop seen so far
};

class Window {
 public:
  Window() {
    auto* layout = new QHBoxLayout(&top);
    layout->setContentsMargins(100, 0, 0, 0);  // the covered view sits in that margin
    for (auto*& view : views) {
      view = new ComplexImageView;
      view->setImage(ramp(32, 1.0F));
      layout->addWidget(view);
    }
    hidden = new ComplexImageView(&top);
    hidden->hide();
    covered = new ComplexImageView(&top);
    covered->setGeometry(0, 0, 90, 90);
    covered->setImage(ramp(32, 1.0F));
    auto* cover = new QWidget(&top);  // opaque, above the covered view
    cover->setAutoFillBackground(true);
    cover->setGeometry(0, 0, 90, 90);
    cover->raise();
    top.resize(700, 200);
  }
  /// Shown, and every view has drawn once (so that the pacer knows what each frame costs).
  bool shownAndDrawn() {
    return showAndExpose(top) && QTest::qWaitFor([this] {
             return std::all_of(views.begin(), views.end(), [](const ComplexImageView* view) {
               return view->lastFrameMilliseconds() > 0.0;
             });
           });
  }
  QWidget top;
  std::vector<ComplexImageView*> views{3};
  ComplexImageView* hidden = nullptr;
  ComplexImageView* covered = nullptr;
};

}  // namespace

class FramePacerTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() { VtkRenderWidget::setDefaultSurfaceFormat(); }

 private slots:
  void aTightBudgetDrawsOneViewPerPassInRequestOrder() {
    Window w;
    QVERIFY(w.shownAndDrawn());

    FramePacer pacer(1e-6);  // every view costs more: one view per batch
    std::vector<Drawn> drawn;
    long ticks = 0;
    QTimer ticker;
    ticker.setInterval(0);
    connect(&ticker, &QTimer::timeout, [&ticks] { ++ticks; });
    ticker.start();
    for (auto* view : w.views) {
      pacer.add(view);
      connect(view, &VtkRenderWidget::frameRendered, &pacer, [&, view] {
        drawn.push_back({view, pacer.batches(), ticks});
      });
    }
    for (auto* view : w.views) view->setImage(ramp(32, 2.0F));  // each asks for a frame

    QTRY_COMPARE(drawn.size(), w.views.size());
    QTest::qWait(100);
    QCOMPARE(drawn.size(), w.views.size());  // one frame each, none twice
    for (std::size_t i = 0; i < drawn.size(); ++i) {
      QCOMPARE(drawn[i].view, w.views[i]);
      if (i > 0) {
        QVERIFY2(drawn[i].batch > drawn[i - 1].batch, "views drawn in one batch");
        QVERIFY2(drawn[i].tick > drawn[i - 1].tick, "no pass of the event loop between batches");
      }
    }
    // The frames show the new images (amplitude range doubled), not the old ones.
    for (auto* view : w.views) {
      QCOMPARE(view->range(ptyx::widgets::Panel::Amplitude).high, 2.0 * 62.0);
    }
  }

  void aGenerousBudgetDrawsThemTogether() {
    Window w;
    QVERIFY(w.shownAndDrawn());

    FramePacer pacer(1e9);
    std::vector<long> batches;
    for (auto* view : w.views) {
      pacer.add(view);
      connect(view, &VtkRenderWidget::frameRendered, &pacer,
              [&] { batches.push_back(pacer.batches()); });
    }
    for (auto* view : w.views) view->setImage(ramp(32, 3.0F));
    QTRY_COMPARE(batches.size(), w.views.size());
    QCOMPARE(batches.front(), batches.back());
    QCOMPARE(pacer.batches(), 1L);
  }

  void aViewOffScreenDoesNotHoldTheOthersBack_data() {
    QTest::addColumn<bool>("covered");
    QTest::newRow("hidden") << false;
    QTest::newRow("shown but covered") << true;
  }
  void aViewOffScreenDoesNotHoldTheOthersBack() {
    QFETCH(bool, covered);
    Window w;
    QVERIFY(w.shownAndDrawn());
    ComplexImageView* offScreen = covered ? w.covered : w.hidden;
    QCOMPARE(offScreen->isVisible(), covered);

    FramePacer pacer(1e-6);
    pacer.add(offScreen);
    std::vector<long> batches;
    for (auto* view : w.views) {
      pacer.add(view);
      connect(view, &VtkRenderWidget::frameRendered, &pacer,
              [&] { batches.push_back(pacer.batches()); });
    }
    offScreen->setImage(ramp(32, 2.0F));  // asked first; it gets no paint event
    for (auto* view : w.views) view->setImage(ramp(32, 2.0F));
    QTRY_COMPARE(batches.size(), w.views.size());
    // Nothing waits for the off-screen view's frame (that would take the watchdog's 250 ms):
    // the first visible view goes out in the same batch, the others one per batch after it.
    QCOMPARE(batches, (std::vector<long>{1, 2, 3}));
  }
};

QTEST_MAIN(FramePacerTest)
#include "frame_pacer_test.moc"
