#pragma once
// A headless stand-in for the workbench's recorder, for tests: drives a Reconstructor the way
// the GUI's run worker does and writes the session lines the SessionRecorder would, so that the
// format and the replayer can be tested without a display.
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "backend/Backend.hpp"
#include "comm/Communicator.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/Reconstructor.hpp"
#include "session/Session.hpp"

namespace ptyx::testing {

class ScriptedSession {
 public:
  /// A session whose form starts at `start` (written in the header); without one, a file as
  /// written before session 9, which replays from the engine's defaults.
  explicit ScriptedSession(const std::string& path,
                           const std::optional<ReconParams>& start = std::nullopt)
      : writer_(path, session::Header{session::kFormatVersion, "test", PTYX_VERSION, "testhost",
                                      "2026-01-01T00:00:00.000Z", "scripted",
                                      start ? toJson(*start) : std::string()}),
        params_(start.value_or(ReconParams{})) {}

  void openScan(const std::string& path) {
    recon_.reset();
    scan_ = std::make_unique<Scan>(readScan(path));
    auto a = action("open_scan", R"({"path": ")" + path + R"("})");
    a.files.push_back({"path", path, fileSha256(path)});
    writer_.write(a);
  }

  void setParameter(const std::string& name, const std::string& value) {
    setParameter(name, value, true);
  }

  /// A parameter change; during a run it reaches the reconstruction before the next iteration
  /// (`takesEffect`), or never when the run ends first.
  void setParameter(const std::string& name, const std::string& value, bool takesEffect) {
    ptyx::setParameter(params_, name, value);
    auto a = action("set_parameter", R"({"name": ")" + name + R"(", "value": ")" + value + R"("})");
    a.parameters = toJson(params_);
    writer_.write(a);
    const bool live = recon_ && !ended_;  // after a stop or the run's end: the next run's
    if (live && takesEffect) {
      recon_->requestParameters(params_);
      writer_.writeEffect(a.seq, recon_->iteration());
    } else if (live) {
      writer_.writeEffect(a.seq, std::nullopt);
    }
  }

  void run() {
    ++run_;
    ended_ = false;
    backend_ = makeBackend("cpu", {1});
    recon_ = std::make_unique<Reconstructor>(*scan_, params_, *backend_, comm_);
    auto a = action("run", R"({"backend":"cpu"})");
    a.parameters = toJson(params_);
    a.startsRun = run_;
    writer_.write(a);
  }

  /// Step: one iteration, starting a run (paused) when none is live.
  void step() {
    auto a = action("step", "{}");
    if (!recon_ || ended_) {
      ++run_;
      ended_ = false;
      backend_ = makeBackend("cpu", {1});
      recon_ = std::make_unique<Reconstructor>(*scan_, params_, *backend_, comm_);
      a.parameters = toJson(params_);
      a.startsRun = run_;
    }
    writer_.write(a);
    recon_->step(1);
    writer_.writeEffect(a.seq, recon_->iteration());
    checkpoint("step");
  }

  /// The run completes its iterations by itself.
  void finish() {
    iterateTo(recon_->parameters().iterations);
    checkpoint("finished");
    writer_.write(session::RunEnd{run_, recon_->iteration(), "finished", 0});
    ended_ = true;
  }

  /// Runs to `iterations` complete, writing a checkpoint every 10.
  void iterateTo(int iterations) {
    while (recon_->iteration() < iterations) {
      recon_->step(1);
      if (recon_->iteration() % 10 == 0) checkpoint("every");
    }
  }

  void pauseAt(int iterations) {
    iterateTo(iterations);
    const auto a = action("pause", "{}");
    writer_.write(a);
    writer_.writeEffect(a.seq, recon_->iteration());
    checkpoint("pause");
  }

  void resume() { writer_.write(action("resume", "{}")); }

  void stopAt(int iterations) {
    iterateTo(iterations);
    const auto a = action("stop", "{}");
    writer_.write(a);
    writer_.writeEffect(a.seq, recon_->iteration());
    checkpoint("stop");
    ended_ = true;
  }

  void save(const std::string& path) {
    auto a = action("save_result", R"({"path": ")" + path + R"("})");
    const Reconstruction result = recon_->result();
    a.result = session::resultHashes(result, run_);
    writeResult(result, path);
    writer_.write(a);
  }

  void command(const std::string& name, const std::string& arguments) {
    writer_.write(action(name, arguments));
  }

  [[nodiscard]] const Reconstructor& reconstructor() const { return *recon_; }

 private:
  session::Action action(const std::string& command, const std::string& arguments) {
    session::Action a;
    a.seq = ++seq_;
    a.time = session::isoNowMillis();
    a.offset_s = 0.01 * seq_;
    a.command = command;
    a.arguments = arguments;
    a.iteration = recon_ ? recon_->iteration() : 0;
    return a;
  }

  void checkpoint(const std::string& reason) {
    if (!checkpointed_.insert({run_, recon_->iteration()}).second) return;
    const auto& m = recon_->history().back();
    writer_.write(session::Checkpoint{run_, m.iteration, m.fourierError, m.overlapError,
                                      m.objectError, reason, 0});
  }

  session::SessionWriter writer_;
  ReconParams params_;
  std::unique_ptr<Scan> scan_;
  SerialCommunicator comm_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Reconstructor> recon_;
  int seq_ = 0;
  int run_ = 0;
  bool ended_ = false;
  std::set<std::pair<int, int>> checkpointed_;
};

}  // namespace ptyx::testing
