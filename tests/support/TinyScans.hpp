#pragma once
// Small simulated scans for tests: generated in the test, nothing read from site paths.
#include <cstdint>

#include "sim/Simulator.hpp"

namespace ptyx::testing {

inline Scan smallScan(std::size_t frames = 64, std::size_t size = 32, double photons = 0.0,
                      std::uint64_t seed = 7) {
  SimulationOptions o;
  o.frames = frames;
  o.frameSize = size;
  o.photons = photons;
  o.seed = seed;
  return simulate(o);
}

}  // namespace ptyx::testing
