// renderResultPngs: the figures `ptyx recon --png DIR` leaves for the user.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/Error.hpp"
#include "render/Render.hpp"

namespace ptyx {
namespace {

/// ", 12.3 nm pixels" for the titles, or nothing when the pixel size is unknown.
std::string pixelSizeSuffix(double metres) {
  if (!(metres > 0.0) || !std::isfinite(metres)) return "";
  double value = metres * 1e9;
  const char* unit = "nm";
  if (value >= 1000.0) {
    value /= 1000.0;
    unit = "\u00B5m";
  }
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, ", %.3g %s pixels", value, unit);
  return buffer;
}

/// Pixels whose amplitude reaches `fraction` of the maximum.
Image<std::uint8_t> brightPixels(const Image<cfloat>& field, float fraction) {
  float peak = 0.0F;
  for (const cfloat v : field.span()) peak = std::max(peak, norm2(v));
  Image<std::uint8_t> mask(field.rows(), field.cols());
  const float threshold = fraction * fraction * peak;
  for (std::size_t i = 0; i < field.size(); ++i)
    mask.data()[i] = norm2(field.data()[i]) >= threshold ? 1 : 0;
  return mask;
}

}  // namespace

void renderResultPngs(const Reconstruction& result, const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) throw Error("cannot create directory " + directory + ": " + ec.message());
  const fs::path dir(directory);
  const auto out = [&](const char* name) { return (dir / name).string(); };

  const std::string pixels = pixelSizeSuffix(result.objectPixelSize_m);
  const auto write = [&](const Image<cfloat>& field, const Image<std::uint8_t>* region,
                         const std::string& title, ComplexPart part, const char* name) {
    ImageRenderOptions options;
    options.title = title;
    options.part = part;
    options.colormap = part == ComplexPart::Phase ? Colormap::Cyclic : Colormap::Sequential;
    options.region = region;
    options.fitPhaseRange = true;
    writePng(renderComplex(field, options), out(name));
  };
  // The object's colour range comes from its well-lit pixels, the probe phase from where the
  // probe carries light: elsewhere both are noise.
  const Image<std::uint8_t>* lit =
      result.illuminated.size() == result.object.size() ? &result.illuminated : nullptr;
  const Image<std::uint8_t> probeLit = brightPixels(result.probe, 0.05F);
  write(result.object, lit, "Object amplitude" + pixels, ComplexPart::Amplitude,
        "object_amplitude.png");
  write(result.object, lit, "Object phase (rad)" + pixels, ComplexPart::Phase, "object_phase.png");
  write(result.probe, nullptr, "Probe amplitude" + pixels, ComplexPart::Amplitude,
        "probe_amplitude.png");
  write(result.probe, &probeLit, "Probe phase (rad)" + pixels, ComplexPart::Phase,
        "probe_phase.png");

  const std::size_t n = result.history.size();
  const std::string errorsTitle =
      n == 0 ? "Reconstruction errors"
             : "Reconstruction errors, " + std::to_string(result.history.back().iteration) +
                   (result.history.back().iteration == 1 ? " iteration" : " iterations");
  writePng(renderErrorCurves(result.history, errorsTitle), out("errors.png"));
}

}  // namespace ptyx
