#pragma once
// A Communicator that forwards to another and keeps the wall time spent inside allReduceSum, so
// that progress lines and benchmarks can report the reduction's share of an iteration. The time
// includes waiting for the slowest rank to arrive (load imbalance shows up here too).
#include <chrono>

#include "comm/Communicator.hpp"

namespace ptyx {

class TimedCommunicator final : public Communicator {
 public:
  explicit TimedCommunicator(Communicator& inner) : inner_(inner) {}

  [[nodiscard]] int rank() const override { return inner_.rank(); }
  [[nodiscard]] int size() const override { return inner_.size(); }
  void allReduceSum(std::span<float> values) override {
    timed([&] { inner_.allReduceSum(values); });
  }
  void allReduceSum(std::span<double> values) override {
    timed([&] { inner_.allReduceSum(values); });
  }
  void broadcast(std::span<std::byte> bytes, int root) override { inner_.broadcast(bytes, root); }
  void gather(std::span<const std::byte> mine, std::span<std::byte> all,
              std::span<const std::size_t> counts, int root) override {
    inner_.gather(mine, all, counts, root);
  }
  void barrier() override { inner_.barrier(); }

  /// Seconds inside allReduceSum since the last call, and resets the count.
  double takeReduceSeconds() {
    const double s = seconds_;
    seconds_ = 0.0;
    return s;
  }

 private:
  template <class F>
  void timed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  Communicator& inner_;
  double seconds_ = 0.0;
};

}  // namespace ptyx
