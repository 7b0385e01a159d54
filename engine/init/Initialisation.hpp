#pragma once
// Initial probe and object. Every random choice derives from the seed, so a run is
// deterministic for a given seed.
#include <cstdint>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"
#include "params/Parameters.hpp"

namespace ptyx {

/// Dispatches on params.probeInit; the result is M x M, centred, scaled by normaliseProbe.
Image<cfloat> initialProbe(const ReconParams& params, const Scan& scan);
/// Dispatches on params.objectInit (Constant, Random with params.seed, File).
Image<cfloat> initialObject(const ReconParams& params, std::size_t rows, std::size_t cols);

/// Gaussian amplitude, flat phase, sigma in pixels, centred at (M/2, M/2).
Image<cfloat> gaussianProbe(std::size_t size, double sigmaPixels);
/// A uniformly lit circular aperture of the given diameter in the sample plane, propagated by
/// `defocus_m` (Fresnel). Pixel size from the geometry (objectPixelSize).
Image<cfloat> apertureProbe(std::size_t size, const DetectorGeometry& geometry, double diameter_m,
                            double defocus_m);
/// The focus of a Fresnel zone plate (a lens of the given diameter and focal distance, pupil
/// modelled in its far field), propagated by `defocus_m` from the focus.
Image<cfloat> zonePlateProbe(std::size_t size, const DetectorGeometry& geometry, double diameter_m,
                             double focalDistance_m, double defocus_m);
/// SHARP's start: the inverse transform of the square root of the mean diffraction pattern,
/// with a flat phase, so the probe has the measured far-field extent.
Image<cfloat> probeFromMeanDiffraction(const Scan& scan);

/// Angular-spectrum (Fresnel) propagation of a field sampled at pixel_m by distance_m.
Image<cfloat> fresnelPropagate(const Image<cfloat>& field, double pixel_m, double wavelength_m,
                               double distance_m);
/// Scales the probe so that sum |P|^2 matches the mean frame intensity divided by M^2 (Parseval
/// with the unnormalised FFT), i.e. what an object of unit amplitude would need. Masked detector
/// pixels count with the value filled in from their measured neighbours.
void normaliseProbe(Image<cfloat>& probe, const Scan& scan);

}  // namespace ptyx
