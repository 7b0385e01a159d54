#pragma once
// The only way the engine talks across ranks. Frames are split across ranks; object and probe
// are replicated; the overlap projection sums its numerators and denominators with one
// all-reduce. Nothing else crosses ranks (DESIGN.md §2).
#include <memory>
#include <span>

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
  void barrier() override {}
};

}  // namespace ptyx
