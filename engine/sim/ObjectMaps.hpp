#pragma once
// Real-valued maps the simulator composes its object from (engine-internal). Every map is
// rows x cols with values in [0, 1]; the simulator turns them into amplitude and phase.
#include <cstddef>
#include <string>

#include "core/Array.hpp"

namespace ptyx::sim {

/// Transmission of a Siemens star (24 absorbing spokes, a rim) with four groups of 2-6 pixel bar
/// gratings on the diagonals: 1 = clear, 0 = absorbing. Pixel-area averaged.
Image<double> siemensTransmission(std::size_t rows, std::size_t cols);

/// A smooth phase landscape (broad Gaussian hills) unrelated to the star, so that amplitude and
/// phase are told apart: 0 .. 1.
Image<double> smoothPhase(std::size_t rows, std::size_t cols);

/// Projected density of ellipsoidal "cells", each with a denser nucleus. The layout is fixed
/// (its own seed), so the pattern does not change with the noise seed.
struct CellMaps {
  Image<double> absorption;  ///< 0 (clear) .. 1 (most absorbing)
  Image<double> phase;       ///< 0 .. 1
};
CellMaps cells(std::size_t rows, std::size_t cols);

/// Luminance of a PGM (P5, 8 or 16 bit) or PNG image, 0 .. 1. InputError naming the file when
/// it cannot be read or is neither format.
Image<double> readGreyImage(const std::string& path);

/// Bilinear resampling to rows x cols (the image is stretched to fill).
Image<double> resample(const Image<double>& image, std::size_t rows, std::size_t cols);

/// Maps the values linearly onto [0, 1]; a constant map becomes `flatValue`.
void stretchToUnit(Image<double>& map, double flatValue);

}  // namespace ptyx::sim
