// Analytic probes, Fresnel propagation and probe normalisation. No file access here, so that
// everything in this file links without the readers (FileInit.cpp holds the File branches).
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "core/Error.hpp"
#include "init/Initialisation.hpp"
#include "init/ProbeModels.hpp"
#include "math/Fft.hpp"

namespace ptyx {

namespace {

constexpr double kPi = std::numbers::pi;
// Sub-samples per axis when a pixel straddles a sharp edge (aperture rim, pupil rim): the
// fractional coverage keeps the disc round at the few-pixel sizes probes are drawn at.
constexpr int kEdgeSubsamples = 8;

bool positiveFinite(double v) {
  return std::isfinite(v) && v > 0.0;
}

/// Signed frequency of FFT-ordered index k on an n-point grid of spacing d (numpy.fft.fftfreq).
double frequency(std::size_t k, std::size_t n, double d) {
  const auto kd = static_cast<double>(k);
  const auto nd = static_cast<double>(n);
  const double signedK = k < (n + 1) / 2 ? kd : kd - nd;
  return signedK / (nd * d);
}

/// Fraction of the cell [y - hy, y + hy] x [x - hx, x + hx] inside the ellipse
/// (y/ry)^2 + (x/rx)^2 <= 1.
double ellipseCoverage(double y, double x, double hy, double hx, double ry, double rx) {
  // Cheap exits for cells entirely inside or outside keep the sub-sampling to the rim.
  const double nearY = std::max(0.0, std::abs(y) - hy) / ry;
  const double nearX = std::max(0.0, std::abs(x) - hx) / rx;
  if (nearY * nearY + nearX * nearX > 1.0) return 0.0;
  const double farY = (std::abs(y) + hy) / ry;
  const double farX = (std::abs(x) + hx) / rx;
  if (farY * farY + farX * farX <= 1.0) return 1.0;
  int inside = 0;
  for (int i = 0; i < kEdgeSubsamples; ++i) {
    const double sy = y + hy * ((2.0 * i + 1.0) / kEdgeSubsamples - 1.0);
    for (int j = 0; j < kEdgeSubsamples; ++j) {
      const double sx = x + hx * ((2.0 * j + 1.0) / kEdgeSubsamples - 1.0);
      if ((sy / ry) * (sy / ry) + (sx / rx) * (sx / rx) <= 1.0) ++inside;
    }
  }
  return static_cast<double>(inside) / (kEdgeSubsamples * kEdgeSubsamples);
}

/// Paraxial (Fresnel) transfer function of free space, exp(-i pi lambda z (fx^2 + fy^2)).
/// The phase is evaluated in double: at millimetre defocus it reaches thousands of radians.
std::complex<double> fresnelTransfer(double fy, double fx, double wavelength_m, double z_m) {
  const double phase = -kPi * wavelength_m * z_m * (fx * fx + fy * fy);
  return std::polar(1.0, std::remainder(phase, 2.0 * kPi));
}

std::complex<double> toDouble(cfloat v) {
  return {v.re, v.im};
}
cfloat toFloat(std::complex<double> v) {
  return {static_cast<float>(v.real()), static_cast<float>(v.imag())};
}

void requireSquare(const Image<cfloat>& probe, const char* what) {
  if (probe.empty() || probe.rows() != probe.cols()) {
    throw Error(std::string(what) + ": the probe must be a non-empty square array");
  }
}

}  // namespace

double wavelengthFromEnergy(double energy_eV) {
  // lambda = h c / E with the exact SI values of h, c and e.
  constexpr double kHcOverE = 6.62607015e-34 * 299792458.0 / 1.602176634e-19;  // m eV
  return kHcOverE / energy_eV;
}

double objectPixelSizeX(const DetectorGeometry& geometry, std::size_t frameSize) {
  if (!positiveFinite(geometry.wavelength_m) || !positiveFinite(geometry.distance_m) ||
      !positiveFinite(geometry.pixelSizeX_m) || frameSize == 0) {
    throw InputError("scan", "geometry",
                     "this probe model needs the wavelength, the detector distance and the "
                     "detector pixel size, and the scan does not give them all");
  }
  return objectPixelSize(geometry, frameSize, geometry.pixelSizeX_m);
}

double objectPixelSizeY(const DetectorGeometry& geometry, std::size_t frameSize) {
  const double dx = objectPixelSizeX(geometry, frameSize);
  // A scan without a separate row pitch has square pixels.
  return positiveFinite(geometry.pixelSizeY_m)
             ? objectPixelSize(geometry, frameSize, geometry.pixelSizeY_m)
             : dx;
}

double defaultNumericalAperture(const DetectorGeometry& geometry, std::size_t frameSize) {
  // The far field of a lens-focused probe is its pupil: with NA = M p / (4 z) the bright-field
  // disc on the detector has a radius of M/4 pixels, well inside the detector and well sampled.
  return static_cast<double>(frameSize) * geometry.pixelSizeX_m / (4.0 * geometry.distance_m);
}

Image<cfloat> fresnelPropagate(const Image<cfloat>& field, double pixelY_m, double pixelX_m,
                               double wavelength_m, double distance_m) {
  if (field.empty()) throw Error("Fresnel propagation: empty field");
  if (!positiveFinite(pixelY_m) || !positiveFinite(pixelX_m)) {
    throw InputError("Fresnel propagation", "pixel size", "must be positive");
  }
  if (!positiveFinite(wavelength_m)) {
    throw InputError("Fresnel propagation", "wavelength", "must be positive");
  }
  if (!std::isfinite(distance_m)) {
    throw InputError("Fresnel propagation", "distance", "must be finite");
  }
  if (distance_m == 0.0) return field;

  const std::size_t rows = field.rows();
  const std::size_t cols = field.cols();
  Image<cfloat> work = field;
  const Fft2 fft(rows, cols);
  fft.forward(work);
  // The transfer function only multiplies the spectrum, so it commutes with the shift that
  // centres the field: no fftshift needed. 1/(rows cols) makes forward + inverse the identity.
  const double inverseScale = 1.0 / static_cast<double>(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const double fy = frequency(r, rows, pixelY_m);
    for (std::size_t c = 0; c < cols; ++c) {
      const double fx = frequency(c, cols, pixelX_m);
      work(r, c) = toFloat(toDouble(work(r, c)) *
                           fresnelTransfer(fy, fx, wavelength_m, distance_m) * inverseScale);
    }
  }
  fft.inverse(work);
  return work;
}

Image<cfloat> fresnelPropagate(const Image<cfloat>& field, double pixel_m, double wavelength_m,
                               double distance_m) {
  return fresnelPropagate(field, pixel_m, pixel_m, wavelength_m, distance_m);
}

Image<cfloat> gaussianProbe(std::size_t size, double sigmaPixels) {
  if (size == 0) throw InputError("Gaussian probe", "size", "must be positive");
  if (!positiveFinite(sigmaPixels)) {
    throw InputError("Gaussian probe", "sigma", "must be a positive number of pixels");
  }
  Image<cfloat> probe(size, size);
  const double centre = static_cast<double>(size / 2);
  for (std::size_t r = 0; r < size; ++r) {
    const double y = static_cast<double>(r) - centre;
    for (std::size_t c = 0; c < size; ++c) {
      const double x = static_cast<double>(c) - centre;
      probe(r, c) = {
          static_cast<float>(std::exp(-(x * x + y * y) / (2.0 * sigmaPixels * sigmaPixels))), 0.0F};
    }
  }
  return probe;
}

Image<cfloat> apertureProbe(std::size_t size, const DetectorGeometry& geometry, double diameter_m,
                            double defocus_m) {
  if (size == 0) throw InputError("aperture probe", "size", "must be positive");
  if (!positiveFinite(diameter_m)) {
    throw InputError("aperture probe", "diameter", "must be positive");
  }
  const double dy = objectPixelSizeY(geometry, size);
  const double dx = objectPixelSizeX(geometry, size);
  const double radius = diameter_m / 2.0;
  Image<cfloat> probe(size, size);
  const double centre = static_cast<double>(size / 2);
  double lit = 0.0;
  for (std::size_t r = 0; r < size; ++r) {
    const double y = (static_cast<double>(r) - centre) * dy;
    for (std::size_t c = 0; c < size; ++c) {
      const double x = (static_cast<double>(c) - centre) * dx;
      const double t = ellipseCoverage(y, x, dy / 2.0, dx / 2.0, radius, radius);
      probe(r, c) = {static_cast<float>(t), 0.0F};
      lit += t;
    }
  }
  if (lit <= 0.0) {
    throw InputError("aperture probe", "diameter", "the aperture covers no pixel of the probe");
  }
  return fresnelPropagate(probe, dy, dx, geometry.wavelength_m, defocus_m);
}

Image<cfloat> zonePlateProbe(std::size_t size, const DetectorGeometry& geometry, double diameter_m,
                             double focalDistance_m, double defocus_m) {
  if (size == 0) throw InputError("zone plate probe", "size", "must be positive");
  if (!positiveFinite(diameter_m)) {
    throw InputError("zone plate probe", "diameter", "must be positive");
  }
  if (!positiveFinite(focalDistance_m)) {
    throw InputError("zone plate probe", "focal distance", "must be positive");
  }
  if (!std::isfinite(defocus_m)) throw InputError("zone plate probe", "defocus", "must be finite");
  const double dy = objectPixelSizeY(geometry, size);
  const double dx = objectPixelSizeX(geometry, size);
  const double lambda = geometry.wavelength_m;

  // Model: an ideal thin lens of diameter D and focal distance f. The field in its focal plane
  // is the Fourier transform of the pupil, so the spectrum of the focus is a uniform disc of
  // radius NA / lambda (NA = D / 2f) in spatial frequency; its inverse transform is the Airy
  // spot. Defocus multiplies that spectrum by the Fresnel transfer function.
  const double pupilRadius = diameter_m / (2.0 * focalDistance_m * lambda);  // 1/m
  const double dfy = 1.0 / (static_cast<double>(size) * dy);
  const double dfx = 1.0 / (static_cast<double>(size) * dx);
  const double radiusInPixels = pupilRadius / std::max(dfy, dfx);
  if (pupilRadius > 0.5 / std::max(dy, dx)) {
    throw InputError("zone plate probe", "diameter",
                     "NA = D/(2f) = " + std::to_string(diameter_m / (2.0 * focalDistance_m)) +
                         " is larger than the detector samples (the focus would be aliased)");
  }
  if (radiusInPixels < 0.5) {
    throw InputError("zone plate probe", "diameter",
                     "NA = D/(2f) = " + std::to_string(diameter_m / (2.0 * focalDistance_m)) +
                         " makes the focus wider than the probe window");
  }

  Image<cfloat> spectrum(size, size);
  for (std::size_t r = 0; r < size; ++r) {
    const double fy = frequency(r, size, dy);
    for (std::size_t c = 0; c < size; ++c) {
      const double fx = frequency(c, size, dx);
      const double t = ellipseCoverage(fy, fx, dfy / 2.0, dfx / 2.0, pupilRadius, pupilRadius);
      if (t > 0.0) spectrum(r, c) = toFloat(t * fresnelTransfer(fy, fx, lambda, defocus_m));
    }
  }
  const Fft2 fft(size, size);
  fft.inverse(spectrum);  // focus at pixel (0, 0); the scale is arbitrary (normaliseProbe)
  return fftshift(spectrum);
}

Image<double> meanIntensity(const Scan& scan) {
  const std::size_t n = scan.frameCount();
  const std::size_t rows = scan.magnitudes.rows();
  const std::size_t cols = scan.magnitudes.cols();
  if (n == 0 || rows == 0 || cols == 0)
    throw InputError("scan", "frames", "the scan has no frames");
  const bool masked = !scan.mask.empty();
  if (masked && (scan.mask.rows() != rows || scan.mask.cols() != cols)) {
    throw InputError("scan", "mask", "shape differs from the frames");
  }

  Image<double> mean(rows, cols, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    const auto frame = scan.magnitudes.frame(j);
    for (std::size_t i = 0; i < frame.size(); ++i) {
      mean.span()[i] += static_cast<double>(frame[i]) * frame[i];
    }
  }
  for (double& v : mean.span()) v /= static_cast<double>(n);
  if (!masked) return mean;

  // Masked pixels were not measured. Grow the measured region into them, one ring of pixels per
  // pass, each from the mean of its known neighbours: a dead pixel in the bright field or a
  // beam stop then does not punch a hole into the far field, nor a detector gap lower the
  // energy.
  std::vector<std::uint8_t> known(scan.mask.size());
  std::vector<std::size_t> unknown;
  for (std::size_t i = 0; i < known.size(); ++i) {
    known[i] = scan.mask.span()[i] == 0 ? 1 : 0;
    if (known[i] == 0) unknown.push_back(i);
  }
  if (unknown.size() == known.size()) {
    throw InputError("scan", "mask", "every detector pixel is masked");
  }
  while (!unknown.empty()) {
    std::vector<std::pair<std::size_t, double>> filled;
    std::vector<std::size_t> still;
    for (const std::size_t i : unknown) {
      const std::size_t r = i / cols;
      const std::size_t c = i % cols;
      double sum = 0.0;
      int count = 0;
      for (std::size_t rr = r == 0 ? 0 : r - 1; rr <= std::min(rows - 1, r + 1); ++rr) {
        for (std::size_t cc = c == 0 ? 0 : c - 1; cc <= std::min(cols - 1, c + 1); ++cc) {
          if (known[rr * cols + cc] != 0) {
            sum += mean(rr, cc);
            ++count;
          }
        }
      }
      if (count > 0) {
        filled.emplace_back(i, sum / count);
      } else {
        still.push_back(i);
      }
    }
    for (const auto& [i, value] : filled) {
      mean.span()[i] = value;
      known[i] = 1;
    }
    unknown = std::move(still);
  }
  return mean;
}

Image<cfloat> probeFromMeanDiffraction(const Scan& scan) {
  const Image<double> mean = meanIntensity(scan);
  const std::size_t rows = mean.rows();
  const std::size_t cols = mean.cols();
  // sqrt(mean intensity) with a flat phase in the detector plane, back to the sample plane.
  Image<cfloat> farField(rows, cols);
  for (std::size_t i = 0; i < farField.size(); ++i) {
    farField.span()[i] = {static_cast<float>(std::sqrt(mean.span()[i])), 0.0F};
  }
  Image<cfloat> probe = ifftshift(farField);
  const Fft2 fft(rows, cols);
  fft.inverse(probe);
  // Dividing by rows*cols makes F(P) equal the measured magnitude (unnormalised forward FFT),
  // which is already the energy normaliseProbe asks for.
  const auto scale = static_cast<float>(1.0 / static_cast<double>(rows * cols));
  for (cfloat& v : probe.span()) v = scale * v;
  return fftshift(probe);
}

double meanFrameEnergy(const Scan& scan) {
  const Image<double> mean = meanIntensity(scan);  // named: a span of a temporary would dangle
  double total = 0.0;
  for (const double v : mean.span()) total += v;
  return total;
}

void normaliseProbe(Image<cfloat>& probe, const Scan& scan) {
  requireSquare(probe, "normaliseProbe");
  const double target = meanFrameEnergy(scan) / static_cast<double>(scan.magnitudes.frameSize());
  if (!(target > 0.0)) {
    throw InputError("scan", "frames", "every frame is zero, so the probe cannot be scaled");
  }
  double energy = 0.0;
  for (const cfloat v : probe.span()) energy += static_cast<double>(norm2(v));
  if (!(energy > 0.0) || !std::isfinite(energy)) {
    throw Error("normaliseProbe: the probe is zero or not finite");
  }
  const auto scale = static_cast<float>(std::sqrt(target / energy));
  for (cfloat& v : probe.span()) v = scale * v;
}

}  // namespace ptyx
