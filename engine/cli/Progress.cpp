#include "cli/Progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ptyx::cli {
namespace {

std::string clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<long>(std::lround(seconds));
  std::ostringstream out;
  if (s >= 3600)
    out << s / 3600 << ':' << std::setw(2) << std::setfill('0') << (s / 60) % 60;
  else
    out << s / 60;
  out << ':' << std::setw(2) << std::setfill('0') << s % 60;
  return out.str();
}

}  // namespace

ProgressReporter::ProgressReporter(ProgressStyle style, int totalIterations, std::ostream& text,
                                   std::ostream& json)
    : style_(style),
      terminal_(isatty(STDERR_FILENO) != 0),
      total_(totalIterations),
      text_(text),
      json_(json),
      start_(std::chrono::steady_clock::now()),
      lastPrint_(start_) {
  if (style_ == ProgressStyle::Auto) style_ = ProgressStyle::Text;
}

void ProgressReporter::onIteration(const IterationMetrics& m) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? m.iteration / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - m.iteration) / rate : NAN;

  if (style_ == ProgressStyle::Json) {
    nlohmann::ordered_json line{{"iteration", m.iteration},
                                {"iterations", total_},
                                {"fourier_error", m.fourierError},
                                {"overlap_error", m.overlapError}};
    if (std::isfinite(m.objectError)) line["object_error"] = m.objectError;
    line["seconds"] = m.seconds;
    line["rate"] = rate;
    line["eta_s"] = std::isfinite(eta) ? eta : 0.0;
    if (m.parametersChanged) line["parameters_changed"] = true;
    if (m.framesReceived > 0) line["frames_received"] = m.framesReceived;
    json_ << line.dump() << '\n' << std::flush;
    return;
  }
  if (style_ != ProgressStyle::Text) return;
  // A terminal gets a live line ~10 times a second; a log gets a line every 5 s and the last one.
  const double sinceLast = std::chrono::duration<double>(now - lastPrint_).count();
  const bool last = m.iteration >= total_;
  if (!last && sinceLast < (terminal_ ? 0.1 : 5.0)) return;
  lastPrint_ = now;
  std::ostringstream line;
  line << "iteration " << m.iteration << "/" << total_ << std::scientific << std::setprecision(2)
       << "  fourier " << m.fourierError << "  overlap " << m.overlapError;
  if (std::isfinite(m.objectError)) line << "  object " << m.objectError;
  if (m.framesReceived > 0) line << "  frames " << m.framesReceived;
  line << std::fixed << std::setprecision(1) << "  " << rate << " it/s  ETA " << clock(eta);
  if (terminal_) {
    text_ << '\r' << line.str() << "\033[K" << std::flush;
    printedLive_ = true;
  } else {
    text_ << line.str() << '\n' << std::flush;
  }
}

void ProgressReporter::finish() {
  if (printedLive_) text_ << '\n' << std::flush;
}

}  // namespace ptyx::cli
