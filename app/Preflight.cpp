#include "Preflight.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <sstream>

#include "io/Formats.hpp"
#include "recon/Layout.hpp"
#include "sim/Simulator.hpp"

namespace ptyx::app {
namespace {

using Severity = Finding::Severity;

std::string listFrames(const std::vector<std::size_t>& frames) {
  std::ostringstream s;
  for (std::size_t i = 0; i < frames.size() && i < 5; ++i) s << (i ? ", " : "") << frames[i];
  if (frames.size() > 5) s << ", ...";
  return s.str();
}

std::string percent(double fraction) {
  std::ostringstream s;
  s.precision(fraction < 0.01 ? 2 : 3);
  s << 100.0 * fraction << " %";
  return s.str();
}

}  // namespace

std::vector<Finding> checkScan(const Scan& scan) {
  std::vector<Finding> out;
  const std::size_t n = scan.frameCount();
  const std::size_t m = scan.frameSize();
  const std::size_t pixels = m * m;
  if (n == 0 || m == 0) {
    out.push_back({Severity::Error, "frames", "The scan holds no frames."});
    return out;
  }
  const auto mag = scan.magnitudes.span();
  const bool hasMask = !scan.mask.empty();
  const auto mask = scan.mask.span();

  // One pass: per-frame sum and maximum over unmasked pixels, non-finite values.
  std::vector<double> sums(n, 0.0);
  std::vector<float> maxima(n, 0.0F);
  std::size_t nonFinite = 0;
  float globalMax = 0.0F;
  for (std::size_t j = 0; j < n; ++j) {
    const float* f = mag.data() + j * pixels;
    double s = 0.0;
    float mx = 0.0F;
    for (std::size_t p = 0; p < pixels; ++p) {
      if (hasMask && mask[p] != 0) continue;
      const float v = f[p];
      if (!std::isfinite(v)) {
        ++nonFinite;
        continue;
      }
      s += static_cast<double>(v) * v;
      mx = std::max(mx, v);
    }
    sums[j] = s;
    maxima[j] = mx;
    globalMax = std::max(globalMax, mx);
  }
  if (nonFinite > 0) {
    out.push_back({Severity::Error, "frames",
                   std::to_string(nonFinite) + " pixel values are not finite (NaN or infinity)."});
  }

  std::vector<double> sorted = sums;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n / 2),
                   sorted.end());
  const double median = sorted[n / 2];
  std::vector<std::size_t> empty;
  for (std::size_t j = 0; j < n; ++j) {
    if (sums[j] <= 1e-3 * median) empty.push_back(j);
  }
  if (empty.size() == n) {
    out.push_back(
        {Severity::Error, "frames", "Every frame is empty (no counts in unmasked pixels)."});
  } else if (!empty.empty()) {
    out.push_back({Severity::Warning, "frames",
                   std::to_string(empty.size()) + " of " + std::to_string(n) +
                       " frames are empty or nearly so (frames " + listFrames(empty) +
                       "): beam off or shutter closed? They pull the object towards zero."});
  }

  // Saturation: a detector that clipped shows a plateau, several pixels of one frame at the very
  // largest value of the whole scan. Noise-free or Poisson data almost never repeat their maximum.
  if (globalMax > 0.0F) {
    std::vector<std::size_t> saturated;
    for (std::size_t j = 0; j < n; ++j) {
      if (maxima[j] < globalMax) continue;
      const float* f = mag.data() + j * pixels;
      std::size_t atMax = 0;
      for (std::size_t p = 0; p < pixels; ++p) {
        if ((!hasMask || mask[p] == 0) && f[p] == globalMax) ++atMax;
      }
      if (atMax >= 4) saturated.push_back(j);
    }
    if (!saturated.empty()) {
      out.push_back({Severity::Warning, "frames",
                     std::to_string(saturated.size()) +
                         " frames have a plateau of pixels at the "
                         "scan's maximum value (frames " +
                         listFrames(saturated) +
                         "): the detector may have saturated; mask those pixels."});
    }
  }

  if (hasMask) {
    const auto masked = static_cast<std::size_t>(
        std::count_if(mask.begin(), mask.end(), [](std::uint8_t v) { return v != 0; }));
    const double fraction = static_cast<double>(masked) / static_cast<double>(pixels);
    if (masked == pixels) {
      out.push_back({Severity::Error, "mask", "The mask covers every detector pixel."});
    } else if (fraction > 0.2) {
      out.push_back({Severity::Warning, "mask",
                     "The mask covers " + percent(fraction) +
                         " of the detector: the modulus constraint is weak there."});
    } else if (masked > 0) {
      out.push_back(
          {Severity::Info, "mask", "The mask covers " + percent(fraction) + " of the detector."});
    }
    // The centre (zero frequency) carries most of the signal; a masked centre (beamstop) leaves
    // the low frequencies of the object unconstrained.
    const std::size_t c = m / 2;
    const std::size_t r = std::max<std::size_t>(1, m / 32);
    std::size_t centre = 0;
    std::size_t centreMasked = 0;
    for (std::size_t y = c - std::min(c, r); y <= std::min(m - 1, c + r); ++y) {
      for (std::size_t x = c - std::min(c, r); x <= std::min(m - 1, c + r); ++x) {
        ++centre;
        if (mask[y * m + x] != 0) ++centreMasked;
      }
    }
    if (centreMasked * 2 > centre) {
      out.push_back({Severity::Warning, "mask",
                     "The centre of the detector is masked (beamstop?): low spatial frequencies "
                     "of the object are not constrained."});
    }
  }

  double rowMin = 0.0, rowMax = 0.0, colMin = 0.0, colMax = 0.0;
  for (std::size_t j = 0; j < scan.positions.size(); ++j) {
    const auto& p = scan.positions[j];
    rowMin = j ? std::min(rowMin, p.row) : p.row;
    rowMax = j ? std::max(rowMax, p.row) : p.row;
    colMin = j ? std::min(colMin, p.col) : p.col;
    colMax = j ? std::max(colMax, p.col) : p.col;
  }
  if (n > 1 && rowMax - rowMin < 1.0 && colMax - colMin < 1.0) {
    out.push_back({Severity::Error, "positions",
                   "All frames sit at the same position (less than one object pixel apart): "
                   "check the translation units and the file's translation dataset."});
  }
  return out;
}

std::vector<Finding> checkRun(const Scan& scan, const ReconParams& params,
                              const Image<cfloat>& probe, const std::string& probeError) {
  std::vector<Finding> out;
  const std::size_t m = scan.frameSize();
  if (!probeError.empty()) {
    out.push_back({Severity::Error, "probe", "The initial probe cannot be made: " + probeError});
  } else if (probe.rows() != m || probe.cols() != m) {
    out.push_back({Severity::Error, "probe",
                   "The initial probe is " + std::to_string(probe.rows()) + "x" +
                       std::to_string(probe.cols()) + " pixels but frames are " +
                       std::to_string(m) + "x" + std::to_string(m) + "."});
  } else if (m > 0) {
    const double diameter = probeDiameterPixels(probe);
    if (diameter > 0.5 * static_cast<double>(m)) {
      out.push_back({Severity::Warning, "probe",
                     "The initial probe is about " + std::to_string(static_cast<int>(diameter)) +
                         " pixels wide (90 % of its intensity) in a " + std::to_string(m) +
                         "-pixel frame: wider than half the frame, the diffraction is "
                         "undersampled and the probe wraps round."});
    }
    // Overlap: mean nearest-neighbour step against the probe diameter.
    const auto& pos = scan.positions;
    if (pos.size() > 1 && pos.size() <= 20000 && diameter > 0.0) {
      double total = 0.0;
      for (std::size_t i = 0; i < pos.size(); ++i) {
        double best = 1e300;
        for (std::size_t k = 0; k < pos.size(); ++k) {
          if (k == i) continue;
          const double d = std::hypot(pos[i].row - pos[k].row, pos[i].col - pos[k].col);
          best = std::min(best, d);
        }
        total += best;
      }
      const double step = total / static_cast<double>(pos.size());
      const double overlap = 1.0 - step / diameter;
      if (overlap < 0.5) {
        std::ostringstream s;
        s.precision(2);
        s << "Neighbouring positions overlap by about " << std::max(0.0, overlap) * 100.0
          << " % of the initial probe (mean step " << step << " px, probe " << diameter
          << " px): ptychography needs more than 50 %, ideally 60-70 %.";
        out.push_back({Severity::Warning, "positions", s.str()});
      }
    }
  }
  if (params.objectInit == ObjectInit::File) {
    try {
      const auto object = readObjectFile(params.objectFile);
      const auto layout = layoutFor(scan);
      if (object.rows() < layout.rows || object.cols() < layout.cols) {
        out.push_back({Severity::Warning, "object",
                       "The initial object (" + std::to_string(object.rows()) + "x" +
                           std::to_string(object.cols()) +
                           ") is smaller than the area the "
                           "positions cover (" +
                           std::to_string(layout.rows) + "x" + std::to_string(layout.cols) +
                           " pixels)."});
      }
    } catch (const std::exception& e) {
      out.push_back({Severity::Error, "object",
                     std::string("The initial object cannot be read: ") + e.what()});
    }
  }
  if (params.probeUpdateStart >= params.iterations) {
    out.push_back({Severity::Info, "probe",
                   "The probe is never refined: probe_update_start is not below iterations."});
  }
  return out;
}

bool hasErrors(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Finding::Severity::Error; });
}

}  // namespace ptyx::app
