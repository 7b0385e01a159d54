// renderErrorCurves: error metrics against iteration on a log axis, the way a scientist reads
// convergence: decades on y, a handful of round iteration numbers on x, one colour per metric,
// and a dashed rule wherever the parameters were changed.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "render/Canvas.hpp"
#include "render/Font.hpp"
#include "render/Render.hpp"

namespace ptyx {
namespace {

using render::Align;
using render::Canvas;

constexpr int kWidth = 680;
constexpr int kHeight = 420;
constexpr Rgb kMarker{150, 150, 150};
constexpr double kLineWidth = 2.0;
constexpr int kPad = 14;  // figure margin

struct Series {
  std::string name;
  Rgb colour;
  double IterationMetrics::*field;
};

const std::vector<Series>& allSeries() {
  static const std::vector<Series> series = {
      {"Fourier", {33, 102, 172}, &IterationMetrics::fourierError},
      {"overlap", {228, 108, 10}, &IterationMetrics::overlapError},
      {"object", {24, 150, 90}, &IterationMetrics::objectError},
  };
  return series;
}

bool plottable(double v) {
  return std::isfinite(v) && v > 0.0;
}

/// 1, 2 or 5 times a power of ten, at least 1 (iterations are whole numbers).
double niceStep(double rough) {
  if (!(rough > 1.0)) return 1.0;
  const double decade = std::pow(10.0, std::floor(std::log10(rough)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * decade >= rough) return m * decade;
  }
  return 10.0 * decade;
}

struct Axis {
  double lo = 0.0;
  double hi = 1.0;
  double step = 1.0;  ///< x: tick spacing in iterations; y: decades between labels
};

}  // namespace

Image<Rgb> renderErrorCurves(const std::vector<IterationMetrics>& history,
                             const std::string& title) {
  // Which curves have anything to show on a log axis.
  std::vector<const Series*> shown;
  double yMin = 0.0;
  double yMax = 0.0;
  bool anyValue = false;
  for (const Series& s : allSeries()) {
    const bool object = s.field == &IterationMetrics::objectError;
    bool has = false;
    for (const IterationMetrics& m : history) {
      const double v = m.*s.field;
      if (!plottable(v)) continue;
      has = true;
      yMin = anyValue ? std::min(yMin, v) : v;
      yMax = anyValue ? std::max(yMax, v) : v;
      anyValue = true;
    }
    // The object error exists only for simulated scans; the others are always listed.
    if (has || !object) shown.push_back(&s);
  }

  Axis x;
  if (history.empty()) {
    x = {0.0, 10.0, 2.0};
  } else {
    auto [lo, hi] =
        std::minmax_element(history.begin(), history.end(),
                            [](const auto& a, const auto& b) { return a.iteration < b.iteration; });
    double first = lo->iteration;
    double last = hi->iteration;
    if (last <= first) {
      first -= 1.0;
      last += 1.0;
    }
    x.step = niceStep((last - first) / 6.0);
    x.lo = std::floor(first / x.step) * x.step;
    x.hi = std::ceil(last / x.step) * x.step;
  }

  Axis y;  // in decades
  if (anyValue) {
    y.lo = std::floor(std::log10(yMin));
    y.hi = std::ceil(std::log10(yMax));
    if (y.hi <= y.lo) y.hi = y.lo + 1.0;
  } else {
    y.lo = -3.0;
    y.hi = 0.0;
  }
  const int decades = static_cast<int>(y.hi - y.lo);
  y.step = std::ceil(decades / 8.0);

  // Legend entries, set in rows between the title and the plot so they never hide a curve.
  constexpr int ts = 2;
  struct Entry {
    std::string label;
    Rgb colour;
    bool dashed;
    int x = 0;
    int row = 0;
  };
  std::vector<Entry> entries;
  for (const Series* s : shown) entries.push_back({s->name, s->colour, false});
  const bool anyMarker = std::any_of(history.begin(), history.end(),
                                     [](const IterationMetrics& m) { return m.parametersChanged; });
  if (anyMarker) entries.push_back({"parameter change", kMarker, true});
  constexpr int kSampleW = 22;
  constexpr int kSampleGap = 8;
  constexpr int kEntryGap = 20;
  int legendRows = 1;
  std::vector<int> rowWidths{0};
  {
    const int available = kWidth - 2 * kPad;
    for (Entry& e : entries) {
      const int w = kSampleW + kSampleGap + render::textWidth(e.label, ts);
      int& current = rowWidths.back();
      if (current > 0 && current + kEntryGap + w > available) {
        rowWidths.push_back(0);
        ++legendRows;
      }
      int& row = rowWidths.back();
      e.x = row > 0 ? row + kEntryGap : 0;
      e.row = legendRows - 1;
      row = e.x + w;
    }
  }

  // Layout.
  constexpr int supTs = 1;
  constexpr int capH = render::kCapHeight * ts;
  constexpr int pad = kPad;
  const auto yLabel = [](int exponent) { return render::formatNumber(exponent); };
  int yLabelW = 0;
  for (int e = static_cast<int>(y.lo); e <= static_cast<int>(y.hi); ++e) {
    yLabelW = std::max(yLabelW,
                       render::textWidth("10", ts) + supTs + render::textWidth(yLabel(e), supTs));
  }
  const int plotX = pad + capH + 12 + yLabelW + 8;
  const int legendY = pad + capH + 12;
  const int legendLineH = capH + 8;
  const int plotY = legendY + legendRows * legendLineH + 8;
  // Iterations are counts: whole numbers read better than "2e4".
  const auto xLabel = [](double it) {
    return it < 1e7 ? std::to_string(std::llround(it)) : render::formatNumber(it);
  };
  const int plotR = kWidth - pad - std::max(10, render::textWidth(xLabel(x.hi), ts) / 2 - 6);
  const int plotB = kHeight - pad - capH - 10 - capH - 8;
  const int plotW = plotR - plotX;
  const int plotH = plotB - plotY;
  // Data are inset from the frame so that points on a decade or at the last iteration stay
  // visible instead of merging into it.
  constexpr int inset = 6;
  const auto px = [&](double it) {
    return plotX + inset + (it - x.lo) / (x.hi - x.lo) * (plotW - 2 * inset);
  };
  const auto py = [&](double v) {
    return plotB - inset - (std::log10(v) - y.lo) / (y.hi - y.lo) * (plotH - 2 * inset);
  };

  Canvas canvas(kWidth, kHeight);

  // Grid: decades and x ticks.
  for (int e = static_cast<int>(y.lo); e <= static_cast<int>(y.hi); ++e) {
    canvas.hline(plotX, plotR - 1, static_cast<int>(std::floor(py(std::pow(10.0, e)))),
                 render::kGrid);
  }
  for (double it = x.lo; it <= x.hi + 0.5 * x.step; it += x.step) {
    canvas.vline(static_cast<int>(std::floor(px(it))), plotY, plotB - 1, render::kGrid);
  }

  // Parameter changes, under the curves.
  for (const IterationMetrics& m : history) {
    if (!m.parametersChanged) continue;
    const int col = std::clamp(static_cast<int>(std::floor(px(m.iteration))), plotX, plotR - 1);
    canvas.dashedVline(col, plotY, plotB - 1, kMarker, 5, 4);
  }

  // Curves: NaN means "not measured" (the object error is scored every few iterations), so the
  // line runs on to the next measured point; zero or negative values leave a gap on the log
  // axis. Dots when points are few or alone.
  for (const Series* s : shown) {
    render::StrokeLayer layer(kWidth, kHeight);
    std::size_t valid = 0;
    for (const IterationMetrics& m : history) valid += plottable(m.*s->field) ? 1 : 0;
    const bool dots = valid <= 40;
    const IterationMetrics* previous = nullptr;  // last measured point, if the line continues
    for (std::size_t i = 0; i < history.size(); ++i) {
      const double v = history[i].*s->field;
      if (std::isnan(v)) continue;
      if (!plottable(v)) {
        previous = nullptr;
        continue;
      }
      const double cx = px(history[i].iteration);
      const double cy = py(v);
      if (previous != nullptr) {
        layer.segment(px(previous->iteration), py(previous->*s->field), cx, cy, kLineWidth);
      }
      bool nextOk = false;
      for (std::size_t k = i + 1; k < history.size() && !nextOk; ++k) {
        const double w = history[k].*s->field;
        if (!std::isnan(w)) {
          nextOk = plottable(w);
          break;
        }
      }
      if (dots || (previous == nullptr && !nextOk)) layer.dot(cx, cy, 2.5);
      previous = &history[i];
    }
    layer.paint(canvas, s->colour);
  }

  // Frame, ticks, labels.
  canvas.frameRect(plotX, plotY, plotW, plotH, render::kInk);
  for (int e = static_cast<int>(y.lo); e <= static_cast<int>(y.hi); ++e) {
    const int row = static_cast<int>(std::floor(py(std::pow(10.0, e))));
    canvas.hline(plotX - 5, plotX - 1, row, render::kInk);
    if (decades <= 6 && e < static_cast<int>(y.hi)) {
      for (int k = 2; k <= 9; ++k) {
        const int minor = static_cast<int>(std::floor(py(k * std::pow(10.0, e))));
        canvas.hline(plotX - 3, plotX - 1, minor, render::kInk);
      }
    }
    if ((e - static_cast<int>(y.lo)) % static_cast<int>(y.step) != 0) continue;
    // "10" with a raised exponent, right-aligned against the ticks.
    const std::string exponent = yLabel(e);
    const int right = plotX - 9;
    const int expW = render::textWidth(exponent, supTs);
    canvas.text(right - expW, row - capH / 2 - 3, exponent, supTs, render::kInk);
    canvas.text(right - expW - supTs, row - capH / 2 + 2, "10", ts, render::kInk, Align::Right);
  }
  for (double it = x.lo; it <= x.hi + 0.5 * x.step; it += x.step) {
    const int col = static_cast<int>(std::floor(px(it)));
    canvas.vline(col, plotB, plotB + 4, render::kInk);
    canvas.text(col, plotB + 10, xLabel(it), ts, render::kInk, Align::Centre);
  }
  canvas.text(plotX + plotW / 2, plotB + 10 + capH + 10, "iteration", ts, render::kInk,
              Align::Centre);
  canvas.textUp(pad, plotY + plotH / 2, "error", ts, render::kInk);
  canvas.heading(std::max(pad + render::textWidth(title, ts) / 2, plotX + plotW / 2), pad, title,
                 ts, Align::Centre);

  if (!anyValue) {
    canvas.text(plotX + plotW / 2, plotY + plotH / 2 - capH / 2,
                history.empty() ? "no data" : "no positive values", ts, render::kMutedInk,
                Align::Centre);
  }

  for (const Entry& e : entries) {
    const int rowTop = legendY + e.row * legendLineH;
    const int rowW = rowWidths[static_cast<std::size_t>(e.row)];
    const int x0 =
        std::clamp(plotX + plotW / 2 - rowW / 2, pad, std::max(pad, kWidth - pad - rowW)) + e.x;
    if (e.dashed) {
      canvas.dashedVline(x0 + kSampleW / 2, rowTop - 1, rowTop + capH, e.colour, 5, 4);
    } else {
      render::StrokeLayer layer(kWidth, kHeight);
      layer.segment(x0, rowTop + capH / 2, x0 + kSampleW, rowTop + capH / 2, kLineWidth);
      layer.paint(canvas, e.colour);
    }
    canvas.text(x0 + kSampleW + kSampleGap, rowTop, e.label, ts, render::kInk);
  }
  return canvas.release();
}

}  // namespace ptyx
