#pragma once
// Seeded random streams for the simulator (engine-internal). Each purpose (positions, noise of
// frame j, bad pixels) draws from its own stream, so changing the photon count does not move
// the positions and the noise of a frame does not depend on thread scheduling.
#include <cstdint>
#include <random>

namespace ptyx::sim {

enum class Stream : std::uint32_t { Positions = 1, Noise = 2, BadPixels = 3 };

inline std::mt19937_64 randomStream(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
  const auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v & 0xFFFF'FFFFU); };
  const auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32U); };
  std::seed_seq sequence{lo(seed), hi(seed), static_cast<std::uint32_t>(stream), lo(index),
                         hi(index)};
  return std::mt19937_64(sequence);
}

/// Uniform double in [0, 1) from the top 53 bits: identical with every standard library.
inline double unitUniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11U) * 0x1.0p-53;
}

}  // namespace ptyx::sim
