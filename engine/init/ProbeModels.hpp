#pragma once
// Helpers shared by the probe initialisers and the simulator (engine-internal; the public API is
// Initialisation.hpp).
#include <cstddef>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"

namespace ptyx {

/// Photon wavelength lambda = h c / E in metres.
double wavelengthFromEnergy(double energy_eV);

/// Object pixel size along columns (x) and rows (y) for an M x M frame. InputError naming the
/// scan geometry when wavelength, distance or pixel size is missing. A missing row pitch means
/// square pixels.
double objectPixelSizeX(const DetectorGeometry& geometry, std::size_t frameSize);
double objectPixelSizeY(const DetectorGeometry& geometry, std::size_t frameSize);

/// NA of the default lens: its bright-field disc covers a radius of M/4 detector pixels.
double defaultNumericalAperture(const DetectorGeometry& geometry, std::size_t frameSize);

/// fresnelPropagate for rectangular pixels.
Image<cfloat> fresnelPropagate(const Image<cfloat>& field, double pixelY_m, double pixelX_m,
                               double wavelength_m, double distance_m);

/// mean_j a_j(q)^2, the mean diffraction pattern; masked pixels are filled in from their
/// measured neighbours (repeatedly, so a masked region fills from its rim).
Image<double> meanIntensity(const Scan& scan);

/// sum_q of meanIntensity: the mean frame energy, not lowered by masked pixels.
double meanFrameEnergy(const Scan& scan);

}  // namespace ptyx
