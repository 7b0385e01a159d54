#pragma once
// The element-wise maths of the reconstruction, written once. The CPU backend's loops and the
// CUDA backend's kernels call these same functions, so the CPU test suite exercises the
// arithmetic the GPU runs. Keep them free of host-only calls.
#include <math.h>  // sqrtf, usable in host and device code

#include "core/Complex.hpp"
#include "core/HostDevice.hpp"

namespace ptyx::kernels {

/// The modulus projection of one Fourier-space pixel: keep the phase of Z, impose the measured
/// magnitude a. Masked pixels (valid == 0) keep Z. `scale` folds in the inverse FFT's 1/M^2.
/// Where |Z| = 0 the phase is undefined; the measured magnitude is put on the real axis.
/// Adds (|Z| - a)^2 and a^2 of unmasked pixels to the Fourier-error sums.
PTYX_HD cfloat modulusProject(cfloat Z, float a, float valid, float scale, float& residual,
                              float& norm) {
  const float mag = sqrtf(norm2(Z));
  if (valid == 0.0F) return scale * Z;
  const float diff = mag - a;
  residual += diff * diff;
  norm += a * a;
  if (mag > 0.0F) return (scale * a / mag) * Z;
  return {scale * a, 0.0F};
}

/// Exit wave of the current model at one pixel: P(r - r_j) O(r).
PTYX_HD cfloat modelWave(cfloat probe, cfloat object) {
  return probe * object;
}

/// Input of the modulus projection in the relaxed step: p phi + q psi.
PTYX_HD cfloat relaxedInput(cfloat phi, cfloat psi, float p, float q) {
  return p * phi + q * psi;
}

/// The relaxed update: a psi + b w + c z.
PTYX_HD cfloat relaxedUpdate(cfloat psi, cfloat w, cfloat z, float a, float b, float c) {
  return a * psi + b * w + c * z;
}

/// The reflection of the general difference map: (1 + gamma) pi_a(psi) - gamma psi.
PTYX_HD cfloat reflect(cfloat projected, cfloat psi, float gamma) {
  return (1.0F + gamma) * projected - gamma * psi;
}

/// One term of an overlap sum: num += other* psi, den += |other|^2.
PTYX_HD void accumulateOverlap(cfloat other, cfloat psi, cfloat& num, float& den) {
  num += conjMul(other, psi);
  den += norm2(other);
}

/// The regularised least-squares solution num / (den + eps) of the overlap projection.
PTYX_HD cfloat regularisedDivide(cfloat num, float den, float eps) {
  const float inv = 1.0F / (den + eps);
  return inv * num;
}

}  // namespace ptyx::kernels
