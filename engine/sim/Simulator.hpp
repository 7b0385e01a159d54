#pragma once
// Simulated scans with their ground truth: the built-in demo scan, the test suite's data, and a
// way to try settings on a known answer.
#include <cstdint>
#include <string>
#include <vector>

#include "core/Scan.hpp"

namespace ptyx {

enum class ScanPattern { Fermat, Raster, JitteredRaster };
enum class ProbeShape { Gaussian, Aperture, ZonePlate };

struct SimulationOptions {
  std::size_t frames = 256;
  std::size_t frameSize = 64;  ///< M
  double photons = 0.0;        ///< mean photons per frame; 0 = noise-free
  std::uint64_t seed = 7;
  ScanPattern pattern = ScanPattern::Fermat;
  double overlap = 0.7;            ///< 1 - (mean step / probe diameter)
  double jitter = 0.2;             ///< JitteredRaster: uniform jitter, fraction of the step
  std::string object = "siemens";  ///< built-in pattern name, or an image file (PGM/PNG)
  std::string objectPhase;         ///< optional image for the phase; else built-in phase
  double maxPhase = 1.0;           ///< radians, phase range of the object
  double minAmplitude = 0.6;       ///< object amplitude spans [minAmplitude, 1]
  ProbeShape probe = ProbeShape::ZonePlate;
  double probeDiameter_m = 0.0;  ///< aperture / zone plate diameter; 0 = a sensible default
  double focalDistance_m = 0.0;  ///< zone plate; 0 = a sensible default
  double defocus_m = 0.0;        ///< 0 = a defocus that gives a probe ~M/3 pixels wide
  double energy_eV = 8000.0;
  double distance_m = 5.0;  ///< sample to detector
  double detectorPixel_m = 75e-6;
  std::size_t badPixels = 0;  ///< random bad pixels in the mask (their data zeroed)
  /// Also store a starting probe in the scan (Scan::probe, the CXI illumination): the nominal
  /// optics with the defocus kNominalDefocusError off, as a beamline knows them at the start of
  /// a shift. Zone-plate and aperture probes only.
  bool nominalProbe = false;
};

/// The relative defocus error of SimulationOptions::nominalProbe.
inline constexpr double kNominalDefocusError = 0.17;

/// Names of the built-in object patterns (the first is the default).
std::vector<std::string> builtinObjects();

/// A scan following the forward model of DESIGN.md §1: frame j is |F(P · O_j)|^2 with the
/// unnormalised FFT, fftshift-ed, where O_j is the M x M object window whose top-left pixel is
/// truth.translationOrigin + positions[j] - (M/2, M/2). Positions are whole pixels. The step is
/// (1 - overlap) x probeDiameterPixels(probe) as the mean nearest-neighbour distance (Fermat
/// spiral r = c sqrt(k), theta = k x 137.508 deg; raster steps rounded to whole pixels). The
/// object covers every window plus 4 pixels. With photons > 0 the probe (truth included) is
/// scaled so that the mean expected count per frame is `photons`, then each pixel is drawn from
/// Poisson; the truth therefore explains the expected counts exactly. Defaults when 0:
///  * ZonePlate: NA = M p / (4 z) (bright-field disc of radius M/4 detector pixels), diameter
///    100 um, focal distance D / (2 NA), defocus so the cone is M/3 object pixels wide;
///  * Aperture: diameter 0.3 M object pixels, defocus for Fresnel number 2 (fringes);
///  * Gaussian: 90 % of the intensity in a diameter of M/3 pixels; no defocus.
/// Same options and seed give a bit-identical scan; the built-in objects do not depend on the
/// seed. Throws InputError naming the option (frames, frame_size, photons, overlap, jitter,
/// max_phase, min_amplitude, probe_diameter, focal_distance, defocus, energy, distance,
/// detector_pixel, bad_pixels, object, object_phase) when an option is out of range.
Scan simulate(const SimulationOptions& options);

/// The probe diameter the simulator steps by, in pixels: the diameter of the disc about the
/// intensity centroid that holds `energyFraction` of sum |P|^2.
double probeDiameterPixels(const Image<cfloat>& probe, double energyFraction = 0.9);

}  // namespace ptyx
