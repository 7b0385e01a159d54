#pragma once
// Measured FFT plans for the frames, the same in every run. FFTW's estimated plan for an M x M
// transform can be many times slower than its measured one (13x for 256^2 on the reference
// machine, docs/PERFORMANCE.md), but measuring times candidates, so two runs could pick
// different algorithms and differ in the last bits. So the choice is measured once per machine
// and frame size, kept in a cache file (FFTW's "wisdom"), and every later run plans from it;
// under MPI every rank plans from rank 0's (Backend::settleTransforms).
//
// PTYX_FFT_WISDOM: unset = $XDG_CACHE_HOME/ptyx/fftw-wisdom (else ~/.cache/ptyx/fftw-wisdom);
// a file path; or "off" for FFTW's estimated plans (no measuring, no file).
#include <fftw3.h>

#include <cstddef>
#include <string>

namespace ptyx::fftwisdom {

/// The cache file measured plans are kept in; empty when measuring is off.
std::string cachePath();

/// The wisdom for M x M transforms (both directions, out of place): this process's, else the cache
/// file's, else measured now (once, with the file locked against other processes) and stored.
/// Empty when measuring is off or the cache cannot be kept; the reason is then said once on
/// stderr and the frames use estimated plans.
std::string settle(std::size_t m);

/// Makes `wisdom` (another rank's settle()) this process's: settle() returns it and never reads
/// or writes the cache file.
void adopt(const std::string& wisdom);

struct FramePlans {
  fftwf_plan forward = nullptr;
  fftwf_plan inverse = nullptr;
  bool measured = false;  ///< from settle()'s wisdom; false: FFTW's estimate
};

/// M x M plans, forward from `a` into `b` and inverse from `b` into `a` (M*M elements each from
/// fftwf_malloc, overwritten), for fftwf_execute_dft on any two separate arrays of that alignment;
/// each transform may overwrite its input. Measured from settle(m), else estimated. Null plans
/// when FFTW cannot plan at all. The caller destroys them under fftwPlannerMutex().
FramePlans planFrames(std::size_t m, fftwf_complex* a, fftwf_complex* b);

}  // namespace ptyx::fftwisdom
