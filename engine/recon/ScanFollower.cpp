#include "recon/ScanFollower.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include "core/Error.hpp"
#include "io/SwmrScan.hpp"
#include "recon/Layout.hpp"
#include "recon/Reconstructor.hpp"

namespace ptyx {
namespace {

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---- Coverage -------------------------------------------------------------------------------

Coverage::Coverage(std::span<const Position> planned, std::size_t frameSize,
                   const std::string& source)
    : radius_(static_cast<double>(frameSize) / 4.0) {
  const ObjectLayout layout = layoutFor(planned, frameSize, source);
  rows_ = layout.rows;
  cols_ = layout.cols;
  originRow_ = layout.originPixel.row;
  originCol_ = layout.originPixel.col;
  planned_.assign(rows_ * cols_, 0);
  covered_.assign(rows_ * cols_, 0);
  for (const auto& p : planned) forEachPixel(p, [this](std::size_t i) { planned_[i] = 1; });
  plannedCount_ = static_cast<std::size_t>(std::count(planned_.begin(), planned_.end(), 1));
}

template <class Fn>
void Coverage::forEachPixel(const Position& p, Fn&& fn) const {
  const double cr = originRow_ + p.row;
  const double cc = originCol_ + p.col;
  const auto r0 = static_cast<long>(std::floor(cr - radius_));
  const auto r1 = static_cast<long>(std::ceil(cr + radius_));
  const auto c0 = static_cast<long>(std::floor(cc - radius_));
  const auto c1 = static_cast<long>(std::ceil(cc + radius_));
  for (long r = std::max(0L, r0); r <= std::min(static_cast<long>(rows_) - 1, r1); ++r) {
    for (long c = std::max(0L, c0); c <= std::min(static_cast<long>(cols_) - 1, c1); ++c) {
      const double dr = static_cast<double>(r) - cr;
      const double dc = static_cast<double>(c) - cc;
      if (dr * dr + dc * dc <= radius_ * radius_) {
        fn(static_cast<std::size_t>(r) * cols_ + static_cast<std::size_t>(c));
      }
    }
  }
}

void Coverage::add(std::span<const Position> arrived) {
  for (const auto& p : arrived) {
    forEachPixel(p, [this](std::size_t i) {
      if (planned_[i] != 0 && covered_[i] == 0) {
        covered_[i] = 1;
        ++coveredCount_;
      }
    });
  }
}

double Coverage::fraction() const {
  return plannedCount_ > 0 ? static_cast<double>(coveredCount_) / static_cast<double>(plannedCount_)
                           : 0.0;
}

// ---- ScanFollower ---------------------------------------------------------------------------

ScanFollower::ScanFollower(std::string path, const ReadOptions& orientation,
                           const FollowOptions& options)
    : path_(std::move(path)), orientation_(orientation), options_(options) {}

ScanFollower::~ScanFollower() = default;

std::size_t ScanFollower::framesPlanned() const {
  return reader_ ? reader_->framesPlanned() : 0;
}

const std::vector<Position>& ScanFollower::plannedPositions() const {
  if (!reader_) throw Error(path_ + ": not opened yet");
  return reader_->header().positions;
}

double ScanFollower::coverage() const {
  return coverage_ ? coverage_->fraction() : 0.0;
}

Scan& ScanFollower::waitForStart(const std::function<bool()>& cancelled) {
  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::duration<double>(options_.timeout_s);
  const auto pause = std::chrono::duration<double>(options_.poll_s);
  auto waitingSince = Clock::now();
  auto check = [&](const std::string& what) {
    if (cancelled && cancelled()) throw Error(path_ + ": stopped while " + what);
    if (Clock::now() - waitingSince > timeout) {
      throw Error(path_ + ": gave up after " +
                  std::to_string(static_cast<int>(options_.timeout_s)) + " s " + what +
                  " (--follow-timeout)");
    }
    std::this_thread::sleep_for(pause);
  };

  // The file may not exist yet, or be in the hands of a writer that has not started SWMR.
  while (!reader_) {
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) {
      try {
        reader_ = std::make_unique<SwmrScanReader>(path_, orientation_);
        break;
      } catch (const InputError& e) {
        if (!e.field().empty()) throw;  // a readable file with a wrong field: say so now
      }
    }
    check("waiting for the growing scan file to appear");
  }
  const Scan& header = reader_->header();
  coverage_ = std::make_unique<Coverage>(header.positions, reader_->frameSize(), path_);

  std::size_t seen = 0;
  waitingSince = Clock::now();
  for (;;) {
    const std::size_t available = reader_->poll();
    if (available > seen) {
      coverage_->add(reader_->readPositions(seen, available - seen));
      seen = available;
      waitingSince = Clock::now();
    }
    const bool ready = seen >= std::max<std::size_t>(1, options_.minFrames) &&
                       coverage_->fraction() >= options_.minCoverage;
    if (ready || (reader_->complete() && seen > 0)) break;
    if (reader_->complete())
      throw InputError(path_, swmr::kFramesComplete, "the scan completed without frames");
    check("waiting for frames (" + std::to_string(seen) + " of " +
          std::to_string(reader_->framesPlanned()) + " arrived)");
  }

  scan_ = header;
  scan_.positions = reader_->readPositions(0, seen);
  scan_.magnitudes = reader_->readMagnitudes(0, seen);
  received_ = seen;
  lastArrival_ = Clock::now();
  return scan_;
}

std::size_t ScanFollower::addArrived(Reconstructor& reconstructor) {
  if (!reader_) throw Error(path_ + ": waitForStart first");
  const std::size_t available = reader_->poll();
  if (available <= received_) return 0;
  const std::size_t count = available - received_;
  const Stack<float> frames = reader_->readMagnitudes(received_, count);
  const auto positions = reader_->readPositions(received_, count);
  const auto arrivals = reader_->readArrivalTimes(received_, count);
  reconstructor.addFrames(frames.span(), positions);
  coverage_->add(positions);
  pendingArrivals_.insert(pendingArrivals_.end(), arrivals.begin(), arrivals.end());
  received_ = available;
  lastArrival_ = std::chrono::steady_clock::now();
  return count;
}

void ScanFollower::iterationStarting() {
  if (pendingArrivals_.empty()) return;
  const double now = unixNow();
  for (const double arrival : pendingArrivals_) latencies_.push_back(std::max(0.0, now - arrival));
  pendingArrivals_.clear();
}

Scan ScanFollower::scanSoFar() {
  if (!reader_) throw Error(path_ + ": waitForStart first");
  Scan scan = reader_->header();
  scan.positions = reader_->readPositions(0, received_);
  scan.magnitudes = reader_->readMagnitudes(0, received_);
  return scan;
}

bool ScanFollower::complete() const {
  return reader_ && reader_->complete() && received_ >= reader_->framesAvailable();
}

bool ScanFollower::stalled() const {
  return !complete() && std::chrono::steady_clock::now() - lastArrival_ >
                            std::chrono::duration<double>(options_.timeout_s);
}

LatencySummary summarise(std::vector<double> values) {
  LatencySummary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::min(values.size() - 1, i > 0 ? i - 1 : 0)];
  };
  s.median = at(0.5);
  s.p95 = at(0.95);
  s.max = values.back();
  return s;
}

}  // namespace ptyx
