#include "params/Parameters.hpp"

namespace ptyx {

void applyPreset(ReconParams& params, Algorithm algorithm) {
  params.algorithm = algorithm;
  switch (algorithm) {
    case Algorithm::DM:  // Thibault's difference map: beta = 1, gamma_a = -1, gamma_o = 1
      params.beta = 1.0;
      params.gammaA = -1.0;
      params.gammaO = 1.0;
      break;
    case Algorithm::RAAR:  // Luke; 0.75-0.9 is the usual range
      params.beta = 0.8;
      break;
    case Algorithm::HIO:  // Fienup's feedback parameter
      params.beta = 0.9;
      break;
    case Algorithm::ER:
      break;
  }
}

std::string toString(Algorithm a) {
  switch (a) {
    case Algorithm::DM:
      return "dm";
    case Algorithm::RAAR:
      return "raar";
    case Algorithm::HIO:
      return "hio";
    case Algorithm::ER:
      return "er";
  }
  return "?";
}

std::string toString(ProbeInit p) {
  switch (p) {
    case ProbeInit::Gaussian:
      return "gaussian";
    case ProbeInit::Aperture:
      return "aperture";
    case ProbeInit::ZonePlate:
      return "zoneplate";
    case ProbeInit::DataMean:
      return "data-mean";
    case ProbeInit::File:
      return "file";
    case ProbeInit::Auto:
      return "auto";
  }
  return "?";
}

std::string toString(ObjectInit o) {
  switch (o) {
    case ObjectInit::Constant:
      return "constant";
    case ObjectInit::Random:
      return "random";
    case ObjectInit::File:
      return "file";
  }
  return "?";
}

}  // namespace ptyx
