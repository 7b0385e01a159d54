#pragma once
// The Communicator over MPI (Open MPI), for ranks started by mpirun or srun. No MPI type appears
// here: the one world communicator lives in the .cpp.
#include <vector>

#include "comm/Communicator.hpp"

namespace ptyx {

class MpiCommunicator final : public Communicator {
 public:
  /// Initialises MPI (funneled: only the thread that constructs it calls MPI) unless someone
  /// already did; throws Error when MPI cannot start.
  MpiCommunicator();
  /// Finalises MPI if this object initialised it.
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  /// Fixed-order sum: element i is summed as ((v_0 + v_1) + v_2) + ... over ranks, whatever
  /// algorithm MPI would pick; see the .cpp.
  void allReduceSum(std::span<float> values) override;
  void allReduceSum(std::span<double> values) override;
  void broadcast(std::span<std::byte> bytes, int root) override;
  void gather(std::span<const std::byte> mine, std::span<std::byte> all,
              std::span<const std::size_t> counts, int root) override;
  void barrier() override;

 private:
  template <class T>
  void orderedSum(std::span<T> values, std::vector<T>& scratch);

  int rank_ = 0;
  int size_ = 1;
  bool initialisedHere_ = false;
  std::vector<float> floatScratch_;
  std::vector<double> doubleScratch_;
};

}  // namespace ptyx
