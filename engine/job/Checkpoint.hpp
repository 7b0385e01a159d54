#pragma once
// Checkpoints (docs/JOBS.md): the complete solver state in one HDF5 file, written atomically
// (temporary name, fsync, rename) with a CRC-32 over every dataset, the previous one kept as
// PATH.prev. Both functions are collective: every rank of the job calls them.
#include <string>
#include <vector>

#include "comm/Communicator.hpp"
#include "recon/Reconstructor.hpp"

namespace ptyx::job {

/// Rank 0 gathers every rank's exit waves in frame order and writes `path`; the checkpoint
/// that was there becomes `path`.prev. `scanHash` ties the checkpoint to its scan.
void saveCheckpoint(const Reconstructor& reconstructor, Communicator& comm, const std::string& path,
                    const std::string& scanHash);

struct LoadedCheckpoint {
  std::string path;     ///< the file used: `path`, or `path`.prev when the newest was bad
  std::string warning;  ///< why the newest was passed over (empty when it was used)
  SolverState state;
  std::vector<cfloat> exitWaves;  ///< this rank's frames, in frame order
};

/// Rank 0 verifies the checksum of `path` (falling back to `path`.prev when `path` is missing,
/// truncated or damaged) and checks that it belongs to this scan (`scanHash`, `frames` frames of
/// `frameSize`); then every rank reads the state and its own frames `mine`. The rank count may
/// differ from the one that wrote it. InputError when no usable checkpoint is found.
LoadedCheckpoint loadCheckpoint(const std::string& path, Communicator& comm,
                                const std::string& scanHash, std::size_t frames,
                                std::size_t frameSize, FrameRange mine);

/// Checks one checkpoint file completely (structure and checksum) without using it; returns an
/// empty string when it is good, else the reason. For tests and `ptyx info`-like tools.
std::string verifyCheckpoint(const std::string& path);

}  // namespace ptyx::job
