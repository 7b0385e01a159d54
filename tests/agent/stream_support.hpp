#pragma once
// For the stream tests: a Qt event loop in the test process, a recorder of what a JobStream
// delivers, and checks that a delivered sequence is complete (docs/AGENT.md, "Live stream").
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include "AgentFixture.hpp"
#include "JobStream.hpp"

namespace ptyx::agenttest {

inline QCoreApplication& qtApp() {
  static int argc = 1;
  static char name[] = "test_agent_stream";
  static char* argv[] = {name, nullptr};
  static QCoreApplication app(argc, argv);
  return app;
}

/// Runs the event loop until `done` or the timeout; whether `done` became true.
inline bool spinUntil(const std::function<bool()>& done, std::chrono::duration<double> timeout) {
  qtApp();
  QElapsedTimer clock;
  clock.start();
  while (!done()) {
    if (clock.elapsed() > std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count())
      return false;
    QEventLoop loop;
    QTimer::singleShot(20, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return true;
}

inline client::AgentEndpoint endpointFor(int port, const std::string& token) {
  client::AgentEndpoint e;
  e.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
  e.token = QByteArray::fromStdString(token);
  return e;
}

/// Everything one JobStream delivered, in order.
struct Recording {
  std::vector<long long> seqs;
  std::vector<json> lines;
  std::vector<std::string> states;  ///< from "job" messages
  std::vector<std::string> errors;
  std::string firstSignal;  ///< "job" or "progress"
  std::string endState;
  int connects = 0;
  bool ended = false;

  void attach(client::JobStream& stream) {
    QObject::connect(
        &stream, &client::JobStream::progressLine, [this](qint64 seq, const QJsonObject& line) {
          if (firstSignal.empty()) firstSignal = "progress";
          seqs.push_back(seq);
          lines.push_back(
              json::parse(QJsonDocument(line).toJson(QJsonDocument::Compact).toStdString()));
        });
    QObject::connect(&stream, &client::JobStream::jobState,
                     [this](const QString& state, const QString&) {
                       if (firstSignal.empty()) firstSignal = "job";
                       states.push_back(state.toStdString());
                     });
    QObject::connect(&stream, &client::JobStream::ended, [this](const QString& state) {
      ended = true;
      endState = state.toStdString();
    });
    QObject::connect(&stream, &client::JobStream::connectionChanged,
                     [this](bool up) { connects += up ? 1 : 0; });
    QObject::connect(&stream, &client::JobStream::errorOccurred,
                     [this](const QString& message) { errors.push_back(message.toStdString()); });
  }

  /// The iteration numbers of the "iteration" lines, in order.
  [[nodiscard]] std::vector<int> iterations() const {
    std::vector<int> out;
    for (const json& l : lines) {
      if (l.value("event", "") == "iteration") out.push_back(l.value("iteration", -1));
    }
    return out;
  }
};

/// Kills what is left of the jobs of an agent's data directory (mpirun and ranks name it on
/// their command lines), so that a test that stops early leaves no job running.
inline void killJobsUnder(const std::string& dataDir) {
  const std::string needle = dataDir + "/jobs/";
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (slurp((e.path() / "cmdline").string()).find(needle) != std::string::npos) {
      ::kill(std::stoi(name), SIGKILL);
    }
  }
}

/// Kills the jobs left under a data directory when it goes out of scope.
struct JobReaper {
  std::string dataDir;
  ~JobReaper() { killJobsUnder(dataDir); }
};

/// The complete lines of a progress.jsonl.
inline std::vector<json> progressLines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line, nullptr, false));
  return out;
}

/// first, first+1, … count numbers: no gap, no repeat.
template <class T>
::testing::AssertionResult consecutive(const std::vector<T>& values, T first, std::size_t count) {
  if (values.size() != count) {
    return ::testing::AssertionFailure() << values.size() << " values, expected " << count;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] != first + static_cast<T>(i)) {
      return ::testing::AssertionFailure()
             << "value " << i << " is " << values[i] << ", expected " << first + static_cast<T>(i);
    }
  }
  return ::testing::AssertionSuccess();
}

/// The delivered lines are the file's lines from seq `first` on (event and iteration agree).
inline ::testing::AssertionResult matchesFile(const Recording& r, const std::vector<json>& file,
                                              long long first) {
  if (r.lines.size() + static_cast<std::size_t>(first - 1) != file.size()) {
    return ::testing::AssertionFailure()
           << r.lines.size() << " lines from seq " << first << ", the file has " << file.size();
  }
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const json& f = file[i + static_cast<std::size_t>(first - 1)];
    if (r.lines[i].value("event", "") != f.value("event", "") ||
        r.lines[i].value("iteration", -1) != f.value("iteration", -1)) {
      return ::testing::AssertionFailure() << "line " << i + static_cast<std::size_t>(first) << ": "
                                           << r.lines[i].dump() << " vs the file's " << f.dump();
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ptyx::agenttest
