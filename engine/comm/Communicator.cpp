#include <cstdlib>

#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#ifdef PTYX_HAVE_MPI
#include "comm/MpiCommunicator.hpp"
#endif

namespace ptyx {

bool launchedByMpiRunner() {
  // Open MPI's mpirun, MPICH/Hydra (PMI_RANK), and srun --mpi=pmix (PMIX_RANK). SLURM_PROCID
  // alone does not count: a batch script has it without any MPI launch.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::unique_ptr<Communicator> makeCommunicator(const std::string& kind) {
  const bool mpi = kind == "mpi" || (kind == "auto" && launchedByMpiRunner());
  if (kind != "mpi" && kind != "auto" && kind != "serial") {
    throw Error("unknown communicator '" + kind + "' (auto, serial, mpi)");
  }
  if (!mpi) return std::make_unique<SerialCommunicator>();
#ifdef PTYX_HAVE_MPI
  return std::make_unique<MpiCommunicator>();
#else
  throw Error(
      "this ptyx was built without MPI, but " +
      std::string(kind == "mpi" ? "--comm mpi asks for it" : "it was started by mpirun/srun") +
      "; install libopenmpi-dev and rebuild, or run without mpirun");
#endif
}

#ifndef PTYX_HAVE_MPI
void abortAllRanks(int /*exitCode*/) {}
#endif

}  // namespace ptyx
