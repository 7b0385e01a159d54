#include <iostream>
#include <map>

#include "cli/Commands.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "recon/MemoryPlanner.hpp"
#include "sim/Simulator.hpp"

namespace ptyx::cli {

Runner addSimulate(CLI::App& app) {
  auto* sub = app.add_subcommand("simulate", "Simulate a scan with its ground truth and write CXI");
  auto opts = std::make_shared<SimulationOptions>();
  auto output = std::make_shared<std::string>();
  sub->add_option("--frames", opts->frames, "Number of diffraction frames")->capture_default_str();
  sub->add_option("--size", opts->frameSize, "Frame size M (frames are M x M pixels)")
      ->capture_default_str();
  sub->add_option("--photons", opts->photons,
                  "Mean photons per frame (Poisson noise); 0 = noise-free")
      ->capture_default_str();
  sub->add_option("--seed", opts->seed, "Seed for positions jitter, noise and bad pixels")
      ->capture_default_str();
  const std::map<std::string, ScanPattern> patterns{{"fermat", ScanPattern::Fermat},
                                                    {"raster", ScanPattern::Raster},
                                                    {"jitter", ScanPattern::JitteredRaster}};
  sub->add_option("--scan", opts->pattern, "Scan pattern: fermat (spiral), raster, jitter")
      ->transform(CLI::CheckedTransformer(patterns, CLI::ignore_case).description(""))
      ->type_name("{fermat,raster,jitter}")
      ->default_str("fermat");
  sub->add_option("--overlap", opts->overlap, "Overlap: 1 - mean step / probe diameter")
      ->capture_default_str();
  sub->add_option("--jitter", opts->jitter, "Jittered raster: jitter as a fraction of the step")
      ->capture_default_str();
  sub->add_option(
         "--object", opts->object,
         "Built-in object (" +
             [] {
               std::string names;
               for (const auto& n : builtinObjects()) names += (names.empty() ? "" : ", ") + n;
               return names;
             }() +
             ") or an image file (PGM/PNG) for the amplitude")
      ->capture_default_str();
  sub->add_option("--object-phase", opts->objectPhase, "Image file (PGM/PNG) for the object phase");
  sub->add_option("--max-phase", opts->maxPhase, "Phase range of the object, radians")
      ->capture_default_str();
  sub->add_option("--min-amplitude", opts->minAmplitude, "Object amplitude spans [this, 1]")
      ->capture_default_str();
  const std::map<std::string, ProbeShape> shapes{{"gaussian", ProbeShape::Gaussian},
                                                 {"aperture", ProbeShape::Aperture},
                                                 {"zoneplate", ProbeShape::ZonePlate}};
  sub->add_option("--probe", opts->probe, "Probe: zoneplate (focus + defocus), aperture, gaussian")
      ->transform(CLI::CheckedTransformer(shapes, CLI::ignore_case).description(""))
      ->type_name("{zoneplate,aperture,gaussian}")
      ->default_str("zoneplate");
  sub->add_option("--probe-diameter", opts->probeDiameter_m,
                  "Aperture / zone-plate diameter, m (0 = default)");
  sub->add_option("--focal-distance", opts->focalDistance_m,
                  "Zone-plate focal distance, m (0 = default)");
  sub->add_option("--defocus", opts->defocus_m, "Sample distance from the focus, m (0 = default)");
  sub->add_option("--energy", opts->energy_eV, "Photon energy, eV")->capture_default_str();
  sub->add_option("--distance", opts->distance_m, "Sample to detector distance, m")
      ->capture_default_str();
  sub->add_option("--detector-pixel", opts->detectorPixel_m, "Detector pixel size, m")
      ->capture_default_str();
  sub->add_option("--bad-pixels", opts->badPixels, "Number of random bad pixels in the mask")
      ->capture_default_str();
  const std::map<std::string, bool> starts{{"none", false}, {"nominal", true}};
  sub->add_option("--initial-probe", opts->nominalProbe,
                  "Starting probe stored in the scan: none, or nominal (the zone plate or aperture "
                  "with its defocus 17 % off, as known at the start of a shift; `ptyx recon`'s "
                  "default probe_init auto starts from it)")
      ->transform(CLI::CheckedTransformer(starts, CLI::ignore_case).description(""))
      ->type_name("{none,nominal}")
      ->default_str("none");
  sub->add_option("-o,--output", *output, "Output CXI file")->required();

  return [opts, output] {
    // The frames (float) and the complex wave they are made from, per frame, at least: refuse a
    // scan this machine cannot hold instead of being killed half-way through.
    const std::size_t pixels = checkedProduct(opts->frameSize, opts->frameSize, "simulate: --size");
    const std::size_t bytes = checkedProduct(
        checkedProduct(opts->frames, pixels, "simulate: --frames"), 8, "simulate: --frames");
    const std::size_t available = availableHostBytes();
    if (available > 0 && bytes > available) {
      throw InputError("simulate", "frames",
                       std::to_string(opts->frames) + " frames of " +
                           std::to_string(opts->frameSize) + "x" + std::to_string(opts->frameSize) +
                           " need at least " + formatBytes(bytes) + ", more than the " +
                           formatBytes(available) + " available");
    }
    const Scan scan = simulate(*opts);
    writeScan(scan, *output);
    std::cout << "ptyx simulate: wrote " << *output << " (" << scan.frameCount() << " frames of "
              << scan.frameSize() << "x" << scan.frameSize() << ", object "
              << scan.truth->object.rows() << "x" << scan.truth->object.cols() << ")\n";
    return 0;
  };
}

}  // namespace ptyx::cli
