#pragma once
// Scripted live runs of the real main window, for the screenshot script and the GUI benchmark
// (hidden ptyx-gui options; see main.cpp). Not part of ptyx_app: only the executable uses it.
#include <QString>
#include <QStringList>

namespace ptyx::app {

class MainWindow;

struct LiveOptions {
  QString scan;          ///< CXI scan to open
  int iterations = 30;   ///< iterations to run (the run's `iterations` parameter)
  QString screenshot;    ///< PNG to write of the window once `iterations` are drawn
  bool bench = false;    ///< print event-loop gap and view-update figures at the end
  QStringList settings;  ///< NAME=VALUE parameter settings applied before running
  int localRanks = 0;    ///< > 0: submit to the local agent with this many ranks (issue 6)
  QString backend;       ///< auto, cpu or cuda for this run; empty: Run ▸ Compute backend's
  /// The gap probe's timer interval: the resolution of the gap figures. Each tick wakes the GUI
  /// thread; whether that slows a 2-core machine's run measurably was not settled (PERFORMANCE.md).
  int tickMilliseconds = 1;
  int width = 1240;  ///< window size
  int height = 760;
};

/// Opens the scan in `window`, applies the settings, runs, and quits the application when done
/// (screenshot saved or benchmark printed). Returns the process exit code after the event loop.
int runLive(MainWindow& window, const LiveOptions& options);

}  // namespace ptyx::app
