// `ptyx replay SESSION`: re-executes a recorded workbench session headless and says, action by
// action, whether the results match the recording (docs/SESSIONS.md). Exit 0 when everything
// matches, 1 when something differs (or an input file is missing or changed), 2 for bad input.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "backend/Devices.hpp"
#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "session/Replayer.hpp"
#include "session/Session.hpp"

namespace ptyx::cli {
namespace {

struct ReplayCliOptions {
  std::string session;
  double speed = 0.0;
  bool fast = false;
  std::vector<std::string> substitutes;
  double tolerance = 1e-6;
  std::string outputDir;
  int threads = 0;
  std::string backend = "recorded";
};

const char* label(session::ReplayStep::Verdict v) {
  using V = session::ReplayStep::Verdict;
  switch (v) {
    case V::Match:
      return "match  ";
    case V::Differs:
      return "DIFFERS";
    case V::Done:
      return "done   ";
    case V::Skipped:
      return "skipped";
    case V::Stopped:
      return "STOPPED";
  }
  return "";
}

int runReplay(const ReplayCliOptions& o) {
  session::ReplayOptions options;
  options.speed = o.fast ? 0.0 : o.speed;
  options.tolerance = o.tolerance;
  options.outputDirectory = o.outputDir;
  options.threads = o.threads;
  options.backend = o.backend;
  if (o.backend == "cuda") (void)resolveBackend("cuda", detectDevices());  // refused up front
  for (const auto& s : o.substitutes) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      throw InputError("--substitute", s, "must be RECORDED_PATH=NEW_PATH");
    }
    options.substitutes[s.substr(0, eq)] = s.substr(eq + 1);
  }
  const session::Session session = session::readSession(o.session);
  const auto& h = session.header;
  std::cout << "Replaying " << o.session << (h.name.empty() ? "" : " (\"" + h.name + "\")")
            << ": recorded " << h.started << " on " << (h.host.empty() ? "an unknown host" : h.host)
            << " by " << h.program << " " << h.programVersion << ", format " << h.version << "\n";
  for (const auto& w : session.warnings) std::cout << "  warning: " << w << "\n";
  const auto summary = session::replay(session, options, [](const session::ReplayStep& s) {
    std::ostringstream line;
    line << "  line " << std::setw(4) << s.line << "  ";
    if (s.offset_s > 0.0 || s.what.rfind("checkpoint", 0) != 0) {
      line << "+" << std::fixed << std::setprecision(1) << std::setw(7) << s.offset_s << "s  ";
    } else {
      line << "           ";
    }
    line << label(s.verdict) << "  " << s.what;
    if (!s.detail.empty()) line << ": " << s.detail;
    std::cout << line.str() << std::endl;
  });
  std::cout << summary.actions << " actions, " << summary.checkpoints
            << " metric checkpoints: " << summary.matched << " matched, " << summary.differed
            << " differ, " << summary.skipped << " not re-executed";
  if (summary.stopped) {
    std::cout << "; replay stopped at a missing or changed input file\n";
  } else {
    std::cout << (summary.allMatch() ? "; the replay matches the recording\n" : "\n");
  }
  return summary.allMatch() ? 0 : 1;
}

}  // namespace

Runner addReplay(CLI::App& app) {
  auto o = std::make_shared<ReplayCliOptions>();
  auto* sub = app.add_subcommand(
      "replay", "Re-execute a recorded workbench session headless and check its results");
  sub->add_option("session", o->session, "Session file (JSON lines, docs/SESSIONS.md)")->required();
  auto* speed =
      sub->add_option("--speed", o->speed,
                      "Replay with the recorded timing, X times faster (1 = original pace)")
          ->check(CLI::PositiveNumber);
  auto* fast = sub->add_flag("--fast", o->fast, "As fast as possible (the default)");
  speed->excludes(fast);
  sub->add_option("--substitute", o->substitutes,
                  "Read NEW_PATH where the session read RECORDED_PATH (repeatable)")
      ->type_name("RECORDED_PATH=NEW_PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--tolerance", o->tolerance,
                  "Relative tolerance for metric checkpoints (default 1e-6)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option(
      "--output-dir", o->outputDir,
      "Write the results the session saved into this directory (default: only compare hashes)");
  sub->add_option("--threads", o->threads,
                  "CPU threads (0 = all cores; results do not depend on it)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--backend", o->backend,
                  "Where runs compute: recorded (each run on the backend it was recorded on, "
                  "when this machine has it, else cpu), cpu or cuda")
      ->check(CLI::IsMember({"recorded", "cpu", "cuda"}));
  return [o] { return runReplay(*o); };
}

}  // namespace ptyx::cli
