#pragma once
// Pictures of results for people: colour-mapped amplitude and phase with a colour bar and a
// title, error curves on a log axis, written as PNG. Plain RGB rasters, no GUI toolkit.
#include <cstdint>
#include <string>
#include <vector>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Reconstruction.hpp"

namespace ptyx {

struct Rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
  bool operator==(const Rgb&) const = default;
};

enum class Colormap { Sequential, Cyclic, Gray };
enum class ComplexPart { Amplitude, Phase };

/// Colour of t in [0, 1] (clamped) for a colour map. Cyclic wraps (t = 0 and 1 agree).
Rgb colour(Colormap map, double t);

struct ImageRenderOptions {
  std::string title;
  ComplexPart part = ComplexPart::Amplitude;
  Colormap colormap = Colormap::Sequential;  ///< Phase defaults to Cyclic in renderResultPngs
  int scale = 0;  ///< integer magnification; 0 = choose so the image is at least ~256 px
  /// Pixels that set the colour range (non-zero = count); the others are drawn faded. Optional:
  /// the badly lit rim of a reconstruction would otherwise set the range.
  const Image<std::uint8_t>* region = nullptr;
  /// Phase: show [low, high] of the region with the Sequential map when the phase spans less
  /// than about pi there (weak phase objects), instead of the full cyclic -pi..pi.
  bool fitPhaseRange = false;
};

/// The image colour-mapped (amplitude: 0.1st..99.9th percentile; phase: -pi..pi unless fitted),
/// a colour bar with its range
/// labelled, and the title above.
Image<Rgb> renderComplex(const Image<cfloat>& image, const ImageRenderOptions& options);

/// Fourier, overlap and (when present) object error against iteration, log y axis, legend.
Image<Rgb> renderErrorCurves(const std::vector<IterationMetrics>& history,
                             const std::string& title);

/// Atomic PNG write; throws Error naming the path on failure.
void writePng(const Image<Rgb>& image, const std::string& path);
/// Reads a PNG written by writePng (tests, and image inputs to the simulator).
Image<Rgb> readPng(const std::string& path);

/// Writes object_amplitude.png, object_phase.png, probe_amplitude.png, probe_phase.png and
/// errors.png into `directory` (created if missing).
void renderResultPngs(const Reconstruction& result, const std::string& directory);

}  // namespace ptyx
