// ptyx stream-replay: plays a recorded scan as a live acquisition, frame by frame, into a growing
// CXI file written with HDF5 SWMR (docs/STREAMING.md), so that streaming reconstruction can be
// commissioned without beam. Frames are paced against a steady clock: frame k (counted after the
// --start-frames written at once) is due k / rate seconds after the start, and every frame that is
// due is written and published in one batch, so a slow write delays frames but never slows the
// rate that follows.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "io/SwmrScan.hpp"

namespace ptyx::cli {
namespace {

struct StreamReplayOptions {
  std::string input;
  std::string output;
  double rate = 0.0;
  std::size_t startFrames = 0;
  bool quiet = false;
};

bool sameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec);
}

int runStreamReplay(const StreamReplayOptions& o) {
  using Clock = std::chrono::steady_clock;
  if (o.output.empty()) throw InputError("-o", "", "the growing output file is required");
  if (sameFile(o.input, o.output)) {
    throw InputError(o.output, "", "is the recorded scan itself: choose another output file");
  }
  // Everything is read and checked before the output exists: bad input leaves no file behind.
  Scan scan = readScan(o.input);
  const std::size_t total = scan.frameCount();
  if (o.startFrames > total) {
    throw InputError("--start-frames", "",
                     std::to_string(o.startFrames) + " frames, but " + o.input + " holds " +
                         std::to_string(total));
  }
  const std::size_t pixels = scan.frameSize() * scan.frameSize();
  SwmrScanWriter writer(o.output, scan, o.rate);

  const bool terminal = isatty(STDERR_FILENO) != 0;
  const auto start = Clock::now();
  auto lastReport = start;
  auto report = [&](std::size_t written, bool last) {
    if (o.quiet) return;
    const auto now = Clock::now();
    if (!last && now - lastReport < std::chrono::seconds(1)) return;
    lastReport = now;
    const double elapsed = std::chrono::duration<double>(now - start).count();
    std::ostringstream line;
    line << "ptyx stream-replay: " << written << "/" << total << " frames to " << o.output
         << std::fixed << std::setprecision(1) << " in " << elapsed << " s";
    if (elapsed > 0 && written > o.startFrames) {
      line << " (" << static_cast<double>(written - o.startFrames) / elapsed << " frames/s)";
    }
    if (last) line << "; scan complete";
    std::cerr << (terminal && !last ? "\r" : "") << line.str()
              << (terminal && !last ? "\033[K" : "\n") << std::flush;
  };

  auto writeUpTo = [&](std::size_t first, std::size_t last) {
    writer.append(scan.magnitudes.span().subspan(first * pixels, (last - first) * pixels),
                  std::span<const Position>(scan.positions).subspan(first, last - first));
  };
  std::size_t written = 0;
  if (o.startFrames > 0) {
    writeUpTo(0, o.startFrames);
    written = o.startFrames;
  }
  const auto period = std::chrono::duration<double>(1.0 / o.rate);
  while (written < total) {
    // Frames due by now: frame k after the start frames is due at start + k / rate.
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const auto dueAfterStart = static_cast<std::size_t>(std::floor(elapsed * o.rate)) + 1;
    const std::size_t due = std::min(total, o.startFrames + dueAfterStart);
    if (due > written) {
      writeUpTo(written, due);
      written = due;
      report(written, false);
      continue;
    }
    const auto next = start + std::chrono::duration_cast<Clock::duration>(
                                  period * static_cast<double>(written - o.startFrames));
    std::this_thread::sleep_until(next);
  }
  writer.finish();
  if (terminal && !o.quiet) std::cerr << "\r";
  report(written, true);
  return 0;
}

}  // namespace

Runner addStreamReplay(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "stream-replay",
      "Play a recorded scan as a live acquisition into a growing CXI file (HDF5 SWMR), for "
      "commissioning streaming reconstruction (`ptyx recon FILE --follow`) without beam");
  auto o = std::make_shared<StreamReplayOptions>();
  sub->add_option("scan", o->input, "Recorded scan (CXI)")->required()->type_name("FILE");
  sub->add_option("-o,--output", o->output,
                  "Growing scan file to write (CXI, SWMR); an existing file is replaced")
      ->required()
      ->type_name("FILE");
  sub->add_option("--rate", o->rate, "Frames per second, paced against a steady clock")
      ->required()
      ->check(CLI::PositiveNumber)
      ->type_name("FRAMES_PER_S");
  sub->add_option("--start-frames", o->startFrames,
                  "Frames written at once when the replay starts, before the paced ones")
      ->capture_default_str()
      ->type_name("N");
  sub->add_flag("--quiet", o->quiet, "No progress lines on stderr");
  return [o] { return runStreamReplay(*o); };
}

}  // namespace ptyx::cli
