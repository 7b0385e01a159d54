// Device instantiation of the shared element-wise maths (math/Kernels.hpp). Compiling this file
// proves, on every CUDA-enabled build, that the functions the CPU backend runs are also valid
// device code; the CUDA backend's kernels (a later issue) call exactly these functions.
#include "math/Kernels.hpp"

namespace ptyx::cuda {

__global__ void modulusProjectKernel(cfloat* waves, const float* magnitudes, const float* valid,
                                     float scale, unsigned pixels, float* residuals, float* norms) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= pixels) return;
  float residual = 0.0F;
  float norm = 0.0F;
  waves[i] = kernels::modulusProject(waves[i], magnitudes[i], valid[i], scale, residual, norm);
  residuals[i] = residual;
  norms[i] = norm;
}

__global__ void relaxedUpdateKernel(cfloat* psi, const cfloat* w, const cfloat* z, const cfloat* phi,
                                    float p, float q, float a, float b, float c, unsigned pixels,
                                    cfloat* input) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= pixels) return;
  input[i] = kernels::relaxedInput(phi[i], psi[i], p, q);
  psi[i] = kernels::relaxedUpdate(psi[i], w[i], z[i], a, b, c);
}

__global__ void overlapKernel(const cfloat* other, const cfloat* psi, cfloat* num, float* den,
                              const cfloat* probe, const cfloat* object, float eps, float gamma,
                              unsigned pixels, cfloat* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= pixels) return;
  kernels::accumulateOverlap(other[i], psi[i], num[i], den[i]);
  out[i] = kernels::reflect(kernels::regularisedDivide(num[i], den[i], eps),
                            kernels::modelWave(probe[i], object[i]), gamma);
}

}  // namespace ptyx::cuda
