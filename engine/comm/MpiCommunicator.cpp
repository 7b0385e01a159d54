#include "comm/MpiCommunicator.hpp"

// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1   // NOLINT(cppcoreguidelines-macro-usage)
#define MPICH_SKIP_MPICXX 1  // NOLINT(cppcoreguidelines-macro-usage)
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

#include "core/Error.hpp"

namespace ptyx {
namespace {

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(std::string("MPI: ") + what +
              " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

template <class T>
MPI_Datatype mpiType();
template <>
MPI_Datatype mpiType<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpiType<double>() {
  return MPI_DOUBLE;
}

int asInt(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw Error(std::string("MPI: ") + what + ": " + std::to_string(n) +
                " elements exceed one message (2^31 - 1)");
  }
  return static_cast<int>(n);
}

}  // namespace

MpiCommunicator::MpiCommunicator() {
  int initialised = 0;
  check(MPI_Initialized(&initialised), "MPI_Initialized");
  if (initialised == 0) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    initialisedHere_ = true;
  }
  // Errors come back as codes and become exceptions; the CLI turns an exception on any rank
  // into MPI_Abort, so no rank is left waiting in a collective.
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  if (initialisedHere_) {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (finalised == 0) MPI_Finalize();  // nothing sensible to do with a failure here
  }
}

// Why not MPI_Allreduce: its result depends on the reduction tree Open MPI picks (by message
// size and rank count, and tunable by MCA parameters), so equal rank counts do not promise equal
// bits. Here every element is summed in rank order by the rank that owns its slice
// (reduce-scatter by all-to-all, then all-gather): the same traffic as a ring all-reduce,
// 2 (p - 1)/p of the array per rank, and bit-reproducible by construction for a fixed p.
template <class T>
void MpiCommunicator::orderedSum(std::span<T> values, std::vector<T>& scratch) {
  if (size_ == 1 || values.empty()) return;
  const std::size_t n = values.size();
  const auto p = static_cast<std::size_t>(size_);
  const auto me = static_cast<std::size_t>(rank_);
  auto sliceStart = [&](std::size_t r) { return r * n / p; };
  const std::size_t mySlice = sliceStart(me + 1) - sliceStart(me);
  std::vector<int> sendCounts(p), sendDispl(p), recvCounts(p), recvDispl(p);
  for (std::size_t r = 0; r < p; ++r) {
    sendCounts[r] = asInt(sliceStart(r + 1) - sliceStart(r), "all-reduce");
    sendDispl[r] = asInt(sliceStart(r), "all-reduce");
    recvCounts[r] = asInt(mySlice, "all-reduce");
    recvDispl[r] = asInt(r * mySlice, "all-reduce");
  }
  scratch.resize(p * mySlice);
  check(MPI_Alltoallv(values.data(), sendCounts.data(), sendDispl.data(), mpiType<T>(),
                      scratch.data(), recvCounts.data(), recvDispl.data(), mpiType<T>(),
                      MPI_COMM_WORLD),
        "MPI_Alltoallv (all-reduce)");
  T* out = values.data() + sliceStart(me);
  std::copy_n(scratch.data(), mySlice, out);
  for (std::size_t r = 1; r < p; ++r) {
    const T* in = scratch.data() + r * mySlice;
    for (std::size_t i = 0; i < mySlice; ++i) out[i] += in[i];
  }
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, mpiType<T>(), values.data(), sendCounts.data(),
                       sendDispl.data(), mpiType<T>(), MPI_COMM_WORLD),
        "MPI_Allgatherv (all-reduce)");
}

void MpiCommunicator::allReduceSum(std::span<float> values) {
  orderedSum(values, floatScratch_);
}
void MpiCommunicator::allReduceSum(std::span<double> values) {
  orderedSum(values, doubleScratch_);
}

void MpiCommunicator::broadcast(std::span<std::byte> bytes, int root) {
  if (size_ == 1) return;
  constexpr std::size_t kChunk = std::size_t{1} << 30U;
  for (std::size_t offset = 0; offset < bytes.size(); offset += kChunk) {
    const std::size_t count = std::min(kChunk, bytes.size() - offset);
    check(MPI_Bcast(bytes.data() + offset, static_cast<int>(count), MPI_BYTE, root, MPI_COMM_WORLD),
          "MPI_Bcast");
  }
}

void MpiCommunicator::gather(std::span<const std::byte> mine, std::span<std::byte> all,
                             std::span<const std::size_t> counts, int root) {
  if (counts.size() != static_cast<std::size_t>(size_) ||
      mine.size() != counts[static_cast<std::size_t>(rank_)]) {
    throw Error("MPI: gather: byte counts do not match the ranks");
  }
  if (size_ == 1) {
    std::copy_n(mine.begin(), std::min(mine.size(), all.size()), all.begin());
    return;
  }
  // Point-to-point in rank order, so that stacks larger than one MPI message (2 GiB) pass too.
  constexpr std::size_t kChunk = std::size_t{1} << 30U;
  if (rank_ == root) {
    std::size_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) offset += counts[r];
    if (all.size() < offset) throw Error("MPI: gather: receive buffer too small");
    offset = 0;
    for (int r = 0; r < size_; ++r) {
      const std::size_t count = counts[static_cast<std::size_t>(r)];
      if (r == rank_) {
        std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(offset));
      } else {
        for (std::size_t done = 0; done < count; done += kChunk) {
          const std::size_t part = std::min(kChunk, count - done);
          check(MPI_Recv(all.data() + offset + done, static_cast<int>(part), MPI_BYTE, r, 7,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "MPI_Recv (gather)");
        }
      }
      offset += count;
    }
  } else {
    for (std::size_t done = 0; done < mine.size(); done += kChunk) {
      const std::size_t part = std::min(kChunk, mine.size() - done);
      check(MPI_Send(mine.data() + done, static_cast<int>(part), MPI_BYTE, root, 7, MPI_COMM_WORLD),
            "MPI_Send (gather)");
    }
  }
}

void MpiCommunicator::barrier() {
  if (size_ > 1) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void abortAllRanks(int exitCode) {
  int initialised = 0;
  int finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  int size = 1;
  if (initialised != 0 && finalised == 0) MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, exitCode);
}

}  // namespace ptyx
