#pragma once
// The only way the engine talks across ranks. Frames are split across ranks; object and probe
// are replicated; the overlap projection sums its numerators and denominators with one
// all-reduce. Nothing else crosses ranks (DESIGN.md §2).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ptyx {

class Communicator {
 public:
  virtual ~Communicator() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  /// Element-wise sum over ranks, in place, same result on every rank. Implementations reduce
  /// in a fixed order so that a run is bit-reproducible for a fixed rank count.
  virtual void allReduceSum(std::span<float> values) = 0;
  virtual void allReduceSum(std::span<double> values) = 0;
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  /// Concatenates every rank's `mine` on `root`, in rank order, into `all` (root only; other
  /// ranks may pass an empty span). `counts[r]` is rank r's byte count on every rank. Only
  /// checkpoints use it: they need every frame's exit wave on the one rank that writes, and
  /// neither an all-reduce (which loses the sign of zero and costs the whole stack on every
  /// rank) nor repeated broadcasts (the whole stack sent to every rank) do that job well.
  virtual void gather(std::span<const std::byte> mine, std::span<std::byte> all,
                      std::span<const std::size_t> counts, int root) = 0;
  virtual void barrier() = 0;
};

/// One rank: every operation is the identity.
class SerialCommunicator final : public Communicator {
 public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  void allReduceSum(std::span<float> /*values*/) override {}
  void allReduceSum(std::span<double> /*values*/) override {}
  void broadcast(std::span<std::byte> /*bytes*/, int /*root*/) override {}
  void gather(std::span<const std::byte> mine, std::span<std::byte> all,
              std::span<const std::size_t> /*counts*/, int /*root*/) override {
    std::copy_n(mine.begin(), std::min(mine.size(), all.size()), all.begin());
  }
  void barrier() override {}
};

/// Broadcasts a string of any length from `root` (its length first, then its bytes).
inline void broadcastString(Communicator& comm, std::string& text, int root) {
  if (comm.size() == 1) return;
  std::uint64_t length = text.size();
  comm.broadcast(std::as_writable_bytes(std::span<std::uint64_t>(&length, 1)), root);
  text.resize(length);
  if (length > 0)
    comm.broadcast(std::as_writable_bytes(std::span<char>(text.data(), text.size())), root);
}

/// "serial", "mpi", or "auto": MPI when this process was started by mpirun or srun (their
/// environment says so), serial otherwise. Throws Error when MPI is asked for but this build
/// has none, or MPI cannot start.
std::unique_ptr<Communicator> makeCommunicator(const std::string& kind);

/// True when the environment shows a launch by mpirun (Open MPI, MPICH/Hydra) or srun with PMIx.
bool launchedByMpiRunner();

/// Ends every rank of the job at once (MPI_Abort) when MPI is running; does nothing otherwise.
/// For the CLI's error path: a rank that fails alone would leave the others waiting forever.
void abortAllRanks(int exitCode);

}  // namespace ptyx
