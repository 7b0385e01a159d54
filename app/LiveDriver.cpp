#include "LiveDriver.hpp"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QMap>
#include <QPixmap>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "MainWindow.hpp"
#include "SessionRecorder.hpp"
#include "remote/LiveJob.hpp"
#include "remote/RemoteJobs.hpp"
#include "remote/RemoteUi.hpp"
#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::app {

namespace {

// Ticks a precise timer and records the intervals between ticks: a long interval is time the
// GUI thread spent away from the event loop (drawing, or blocked), to within the tick interval.
class TickProbe {
 public:
  void start(int intervalMs) {
    timer_.setTimerType(Qt::PreciseTimer);
    timer_.setInterval(intervalMs);
    QObject::connect(&timer_, &QTimer::timeout, [this] {
      const qint64 now = clock_.nsecsElapsed();
      gaps_ms_.push_back(static_cast<double>(now - last_) * 1e-6);
      at_s_.push_back(static_cast<double>(now) * 1e-9);
      last_ = now;
    });
    clock_.start();
    last_ = 0;
    timer_.start();
  }
  void stop() { timer_.stop(); }
  [[nodiscard]] double seconds() const { return static_cast<double>(clock_.nsecsElapsed()) * 1e-9; }
  [[nodiscard]] std::vector<double> gaps() const { return gaps_ms_; }
  /// The `n` longest gaps as "ms@s" (length, and end time since the run started).
  [[nodiscard]] QString longest(std::size_t n) const {
    std::vector<std::size_t> order(gaps_ms_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    n = std::min(n, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [this](std::size_t a, std::size_t b) { return gaps_ms_[a] > gaps_ms_[b]; });
    QStringList parts;
    for (std::size_t i = 0; i < n; ++i)
      parts << QStringLiteral("%1 ms@%2 s")
                   .arg(gaps_ms_[order[i]], 0, 'f', 1)
                   .arg(at_s_[order[i]], 0, 'f', 2);
    return parts.join(QStringLiteral(", "));
  }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = 0;
  std::vector<double> gaps_ms_;
  std::vector<double> at_s_;
};

// "  what     N things, mean M ms, max X ms"
void printTimes(const QString& what, const char* things, const std::vector<double>& ms) {
  double sum = 0.0;
  for (double m : ms) sum += m;
  std::printf("  %-20s %4zu %s, mean %5.1f ms, max %5.1f ms\n", qPrintable(what), ms.size(), things,
              sum / static_cast<double>(std::max<std::size_t>(ms.size(), 1)),
              ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
}

// GUI-thread time of each view's frames while the run is timed, by view.
class FrameLog {
 public:
  void watch(const QWidget& window) {
    for (auto* view : window.findChildren<widgets::VtkRenderWidget*>()) {
      QObject::connect(view, &widgets::VtkRenderWidget::frameRendered, view, [this, view] {
        if (on_) frames_[view->objectName()].push_back(view->lastFrameMilliseconds());
      });
    }
  }
  void setOn(bool on) { on_ = on; }
  [[nodiscard]] int count(const QString& view) const {
    return static_cast<int>(frames_.value(view).size());
  }
  void print() const {
    for (auto it = frames_.cbegin(); it != frames_.cend(); ++it) {
      printTimes(it.key(), "frames", it.value());
    }
  }

 private:
  bool on_ = false;
  QMap<QString, std::vector<double>> frames_;
};

// GUI-thread time of the window's repaints (UpdateRequest: the dirty widgets painted, then the
// changed rectangles flushed to the screen).
class RepaintLog : public QObject {
 public:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (!on_ || event->type() != QEvent::UpdateRequest || busy_) return false;
    busy_ = true;
    QElapsedTimer clock;
    clock.start();
    watched->event(event);  // public in QObject; dispatches to the window's own event()
    ms_.push_back(static_cast<double>(clock.nsecsElapsed()) * 1e-6);
    busy_ = false;
    return true;
  }
  void setOn(bool on) { on_ = on; }
  void print() const { printTimes(QStringLiteral("whole window"), "repaints", ms_); }

 private:
  bool on_ = false;
  bool busy_ = false;
  std::vector<double> ms_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

int runLive(MainWindow& window, const LiveOptions& options) {
  int exitCode = 0;
  auto fail = [&exitCode](const QString& message) {
    std::fprintf(stderr, "ptyx-gui: %s\n", qPrintable(message));
    exitCode = 1;
    QApplication::exit(1);
  };
  // A scripted run (benchmark, screenshot) leaves the user's session history alone, and says
  // what went wrong on stderr rather than in a box nobody is there to close.
  window.sessionRecorder()->setRecording(false);
  window.setQuietErrors(true);
  window.resize(options.width, options.height);
  window.show();

  Workbench& workbench = window.workbench();
  TickProbe opening;  // from the scan's arrival until Run
  TickProbe probe;    // the run
  FrameLog frames;    // each view's drawing during the run
  frames.watch(window);
  RepaintLog repaints;
  window.installEventFilter(&repaints);
  constexpr int kSettleMs = 1500;
  int snapshots = 0;
  int iterations = 0;
  double runSeconds = 0.0;
  double firstIterationSeconds = 0.0;  // from Run to the first iteration's metrics
  bool shot = false;

  QObject::connect(&workbench, &Workbench::loadFailed, &window,
                   [&fail](const QString& path, const QString& message) {
                     fail(QStringLiteral("cannot open %1: %2").arg(path, message));
                   });
  QObject::connect(&workbench, &Workbench::runFailed, &window, [&fail](const QString& message) {
    fail(QStringLiteral("run failed: ") + message);
  });
  QString refusal;  // why the last command was refused (a run: the checks, memory, backend)
  QObject::connect(&window.bus(), &CommandBus::commandRejected, &window,
                   [&refusal](const QString&, const QString& why) { refusal = why; });
  QObject::connect(&workbench, &Workbench::scanLoaded, &window, [&](const QString&) {
    CommandBus& bus = window.bus();
    // A screenshot is taken mid-run: the run is longer than the iterations before the shot.
    const int total = options.screenshot.isEmpty() ? options.iterations : options.iterations * 10;
    if (!bus.setParameter(QStringLiteral("iterations"), QString::number(total)))
      return fail(QStringLiteral("iterations refused"));
    for (const QString& s : options.settings) {
      const auto eq = s.indexOf(QLatin1Char('='));
      if (eq <= 0 || !bus.setParameter(s.left(eq), s.mid(eq + 1)))
        return fail(QStringLiteral("parameter setting refused: ") + s);
    }
    if (!options.backend.isEmpty() && !bus.setBackend(options.backend)) return fail(refusal);
    if (options.localRanks > 0) {
      probe.start(options.tickMilliseconds);
      // Run ▸ Run locally with N ranks, submitted as the dialog's Submit button would.
      SubmitJobDialog* dialog = window.remote()->runLocally(options.localRanks);
      if (!dialog->submit()) return fail(QStringLiteral("the job was not submitted"));
      dialog->accept();
      QObject::connect(
          &window.remote()->jobs(), &RemoteJobs::failed, &window,
          [&fail](const QString& title, const QString& message) { fail(title + ": " + message); });
      return;
    }
    // Run is pressed once the window shows the opened scan, as a user would: the first paint of
    // a freshly opened scan (every view at once) belongs to opening, and is reported apart.
    opening.start(options.tickMilliseconds);
    QTimer::singleShot(kSettleMs, &window, [&] {
      opening.stop();
      probe.start(options.tickMilliseconds);
      frames.setOn(true);
      repaints.setOn(true);
      if (!window.bus().run()) fail(QStringLiteral("the run did not start: ") + refusal);
    });
  });
  QObject::connect(&workbench, &Workbench::iterated, &window, [&](const IterationMetrics& m) {
    if (iterations == 0) firstIterationSeconds = probe.seconds();
    iterations = m.iteration;
  });
  // Connected after the main window's own slot: the views already hold this snapshot.
  QObject::connect(&workbench, &Workbench::snapshotReady, &window,
                   [&](const std::shared_ptr<const ViewSnapshot>& snapshot) {
                     ++snapshots;
                     if (options.screenshot.isEmpty() || shot || !snapshot ||
                         snapshot->state->iteration < options.iterations)
                       return;
                     shot = true;
                     // Let the views paint this snapshot, then grab the whole window.
                     QTimer::singleShot(100, &window, [&] {
                       const QImage image = window.grab().toImage();
                       if (image.isNull() || !image.save(options.screenshot, "PNG"))
                         return fail(QStringLiteral("cannot write ") + options.screenshot);
                       std::printf("screenshot: %s (%dx%d, iteration %d)\n",
                                   qPrintable(options.screenshot), image.width(), image.height(),
                                   iterations);
                       window.bus().stop();
                       LiveJob& live = window.remote()->live();
                       if (options.localRanks > 0 && live.job() > 0) {
                         // Cancel the followed job, then quit (at the latest after 10 s).
                         QObject::connect(&window.remote()->jobs(), &RemoteJobs::jobControlled,
                                          &window, [] { QApplication::quit(); });
                         window.bus().controlJob(
                             {{"agent", live.agent()}, {"job", live.job()}, {"command", "cancel"}});
                         QTimer::singleShot(10000, &window, [] { QApplication::quit(); });
                         return;
                       }
                       QApplication::quit();
                     });
                   });
  QObject::connect(&workbench, &Workbench::stateChanged, &window, [&](Workbench::State state) {
    if (state != Workbench::State::Finished) return;
    probe.stop();
    frames.setOn(false);
    repaints.setOn(false);
    runSeconds = probe.seconds();
    // A screenshot run quits once the last snapshot is grabbed; the final snapshot always comes.
    if (options.bench || options.screenshot.isEmpty()) QApplication::quit();
  });

  window.bus().openScan(options.scan);
  const int rc = QApplication::exec();
  if (rc != 0 || exitCode != 0) return exitCode != 0 ? exitCode : rc;

  if (options.bench) {
    const std::vector<double> gaps = probe.gaps();
    const double maxGap = gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end());
    const auto over = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 50.0; });
    std::printf("iterations: %d in %.2f s (%.2f it/s); the first done %.0f ms after Run\n",
                iterations, runSeconds, iterations / std::max(runSeconds, 1e-9),
                firstIterationSeconds * 1e3);
    const QString note = workbench.runBackendNote();
    std::printf("computed on: %s%s\n", qPrintable(workbench.runBackend()),
                note.isEmpty() ? "" : qPrintable(QStringLiteral(" (%1)").arg(note)));
    // What the user sees: frames the object view drew, not snapshots handed to it (a view still
    // waiting for its frame when the next snapshot arrives draws both as one).
    const int updates = frames.count(QStringLiteral("objectAmplitudeView"));
    std::printf("snapshots delivered: %d; view updates (object view frames): %d, %.2f per second\n",
                snapshots, updates, updates / std::max(runSeconds, 1e-9));
    // Once running, without the start-up (frames laid out, waves formed) that Run pays once.
    std::printf("from the first iteration on: %.2f view updates per second\n",
                std::max(updates - 1, 0) / std::max(runSeconds - firstIterationSeconds, 1e-9));
    std::printf(
        "event-loop ticks (timer every %d ms): %zu, gap max %.1f ms, p99 %.1f ms, p50 %.2f ms, "
        "gaps > 50 ms: %ld\n",
        options.tickMilliseconds, gaps.size(), maxGap, percentile(gaps, 0.99),
        percentile(gaps, 0.5), static_cast<long>(over));
    std::printf("longest gaps: %s\n", qPrintable(probe.longest(5)));
    std::printf(
        "GUI-thread time per view frame (VTK render, read-back and painting; no window flush):\n");
    frames.print();
    repaints.print();
    const std::vector<double> openGaps = opening.gaps();
    std::printf("before Run (the opened scan's first paint, %.1f s settle): gap max %.1f ms\n",
                kSettleMs * 1e-3,
                openGaps.empty() ? 0.0 : *std::max_element(openGaps.begin(), openGaps.end()));
    std::printf("targets: max gap <= 50 ms: %s; >= 10 view updates/s: %s\n",
                maxGap <= 50.0 ? "met" : "NOT met",
                updates / std::max(runSeconds, 1e-9) >= 10.0 ? "met" : "NOT met");
  }
  return 0;
}

}  // namespace ptyx::app
