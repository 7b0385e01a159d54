#pragma once
// Scan trajectories for the simulator (engine-internal). Positions are whole pixels so that the
// reconstruction's integer placement reproduces the simulated data exactly.
#include <cstdint>
#include <span>
#include <vector>

#include "core/Scan.hpp"
#include "sim/Simulator.hpp"

namespace ptyx::sim {

/// Mean over the points of the distance to the nearest other point (0 for fewer than two).
double meanNearestNeighbour(std::span<const Position> points);

/// `count` integral positions in `pattern` whose mean nearest-neighbour distance is `step`
/// pixels (as closely as whole pixels allow), centred on (0, 0). `jitter` (fraction of the
/// step) and `seed` only matter for JitteredRaster.
std::vector<Position> scanPositions(ScanPattern pattern, std::size_t count, double step,
                                    double jitter, std::uint64_t seed);

}  // namespace ptyx::sim
