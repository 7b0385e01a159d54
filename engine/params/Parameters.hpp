#pragma once
// The reconstruction parameters: one plain struct, described by one schema (ParameterSchema.hpp)
// that drives validation, the CLI flags and --help text, the job file and the GUI form.
#include <cstdint>
#include <string>

namespace ptyx {

enum class Algorithm { DM, RAAR, HIO, ER };
/// Auto: the probe the scan file carries (a beamline's optics model, an earlier reconstruction),
/// else DataMean.
enum class ProbeInit { Gaussian, Aperture, ZonePlate, DataMean, File, Auto };
enum class ObjectInit { Constant, Random, File };

struct ReconParams {
  // Algorithm and relaxation (DESIGN.md §1). beta's meaning depends on the algorithm: DM's
  // beta, RAAR's beta, Fienup's HIO beta; ER ignores it.
  Algorithm algorithm = Algorithm::DM;
  double beta = 1.0;
  double gammaA = -1.0;  ///< DM only: f_a(psi) = (1 + gamma_a) pi_a(psi) - gamma_a psi
  double gammaO = 1.0;   ///< DM only: f_o(psi) = (1 + gamma_o) pi_o(psi) - gamma_o psi
  int iterations = 300;
  int overlapInner = 1;                ///< inner overlap iterations per overlap projection
  int probeUpdateStart = 10;           ///< first iteration (0-based) that refines the probe
  double objectRegularisation = 1e-3;  ///< epsilon_O relative to max of the object denominator
  double probeRegularisation = 1e-3;   ///< epsilon_P relative to max of the probe denominator

  // Probe initialisation
  ProbeInit probeInit = ProbeInit::Auto;
  double probeSigmaPixels = 8.0;    ///< Gaussian: standard deviation, object pixels
  double apertureDiameter_m = 0.0;  ///< aperture / zone plate diameter (0 = frame/2)
  double focalDistance_m = 0.0;     ///< zone plate focal distance
  double defocus_m = 0.0;           ///< propagation from focus (or aperture) to the sample
  std::string probeFile;            ///< CXI/HDF5 file holding a probe
  // Object initialisation
  ObjectInit objectInit = ObjectInit::Constant;
  double objectAmplitude = 1.0;  ///< constant / mean amplitude of the initial object
  std::string objectFile;
  std::uint64_t seed = 0;  ///< every random choice derives from it

  // Execution
  int threads = 0;                  ///< 0 = all cores
  double snapshotInterval_s = 0.5;  ///< minimum time between snapshots to observers

  bool operator==(const ReconParams&) const = default;
};

/// Sets beta, gamma_a and gamma_o to the preset of `algorithm` (and records the algorithm).
void applyPreset(ReconParams& params, Algorithm algorithm);

std::string toString(Algorithm a);
std::string toString(ProbeInit p);
std::string toString(ObjectInit o);

}  // namespace ptyx
