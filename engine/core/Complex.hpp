#pragma once
// Single-precision complex number shared by host and device code. Layout-compatible with
// fftwf_complex and cufftComplex (two packed floats), so buffers can be handed to either FFT
// library without copies. std::complex is not usable inside CUDA kernels, hence our own.
#include "core/HostDevice.hpp"

namespace ptyx {

struct cfloat {
  float re = 0.0F;
  float im = 0.0F;
};

PTYX_HD cfloat operator+(cfloat a, cfloat b) {
  return {a.re + b.re, a.im + b.im};
}
PTYX_HD cfloat operator-(cfloat a, cfloat b) {
  return {a.re - b.re, a.im - b.im};
}
PTYX_HD cfloat operator-(cfloat a) {
  return {-a.re, -a.im};
}
PTYX_HD cfloat operator*(cfloat a, cfloat b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
PTYX_HD cfloat operator*(float s, cfloat a) {
  return {s * a.re, s * a.im};
}
PTYX_HD cfloat operator*(cfloat a, float s) {
  return {s * a.re, s * a.im};
}
PTYX_HD cfloat& operator+=(cfloat& a, cfloat b) {
  a.re += b.re;
  a.im += b.im;
  return a;
}
PTYX_HD bool operator==(cfloat a, cfloat b) {
  return a.re == b.re && a.im == b.im;
}
PTYX_HD cfloat conj(cfloat a) {
  return {a.re, -a.im};
}
PTYX_HD float norm2(cfloat a) {
  return a.re * a.re + a.im * a.im;
}
/// a* · b, the conjugate multiply used by every overlap sum.
PTYX_HD cfloat conjMul(cfloat a, cfloat b) {
  return {a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re};
}

static_assert(sizeof(cfloat) == 2 * sizeof(float), "cfloat must pack like float[2]");

}  // namespace ptyx
