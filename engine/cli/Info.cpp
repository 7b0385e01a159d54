#include <cmath>
#include <iomanip>
#include <iostream>

#include "cli/Commands.hpp"
#include "io/Formats.hpp"
#include "recon/Layout.hpp"
#include "recon/MemoryEstimate.hpp"
#include "recon/MemoryPlanner.hpp"

namespace ptyx::cli {
namespace {

std::string mebibytes(std::size_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0)
      << " MiB";
  return out.str();
}

}  // namespace

Runner addInfo(CLI::App& app) {
  auto* sub =
      app.add_subcommand("info", "Summarise a scan file: frames, geometry, object size, memory");
  auto path = std::make_shared<std::string>();
  sub->add_option("scan", *path, "Scan file (CXI)")->required();
  return [path] {
    const Scan scan = readScan(*path);
    const auto& g = scan.geometry;
    const std::size_t m = scan.frameSize();
    const ObjectLayout layout = layoutFor(scan);
    const double psx = objectPixelSize(g, m, g.pixelSizeX_m);
    const double psy = objectPixelSize(g, m, g.pixelSizeY_m);
    constexpr double hc = 1.98644586e-25;  // J m
    std::size_t masked = 0;
    for (auto v : scan.mask.span()) masked += v != 0 ? 1 : 0;
    const auto memory = estimateMemory(scan.frameCount(), m, layout.rows, layout.cols, 1, false);
    std::cout << std::setprecision(4) << "file:              " << scan.sourcePath << "\n"
              << "frames:            " << scan.frameCount() << " of " << m << " x " << m
              << " pixels\n"
              << "energy:            " << hc / g.wavelength_m / 1.602176634e-19 / 1000.0 << " keV"
              << " (wavelength " << g.wavelength_m * 1e9 << " nm)\n"
              << "distance:          " << g.distance_m << " m\n"
              << "detector pixel:    " << g.pixelSizeX_m * 1e6 << " x " << g.pixelSizeY_m * 1e6
              << " um\n"
              << "object pixel:      " << psx * 1e9 << " x " << psy * 1e9 << " nm\n"
              << "object:            " << layout.rows << " x " << layout.cols << " pixels ("
              << static_cast<double>(layout.rows) * psy * 1e6 << " x "
              << static_cast<double>(layout.cols) * psx * 1e6 << " um)\n"
              << "masked pixels:     " << masked << "\n"
              << "initial probe:     " << (scan.probe ? "in file" : "none") << "\n"
              << "ground truth:      " << (scan.truth ? "yes (simulated)" : "no") << "\n"
              << "memory (1 rank):   " << mebibytes(memory.total()) << " (frames "
              << mebibytes(memory.frames) << ", exit waves " << mebibytes(memory.exitWaves) << ")\n"
              << "sha256:            " << scan.sourceHash << "\n";
    // The planner's per-rank figures (docs/CUDA.md): host RAM for the cpu backend with one
    // thread, GPU memory for the cuda backend; DM as preset (HIO / general DM add a wave stack).
    MemoryCase plan{scan.frameCount(), m, layout.rows, layout.cols, 1, false, MemoryTarget::CpuRam};
    for (const auto target : {MemoryTarget::CpuRam, MemoryTarget::CudaDevice}) {
      plan.target = target;
      std::cout << (target == MemoryTarget::CpuRam ? "RAM per rank (cpu): "
                                                   : "GPU per rank (cuda):");
      for (const int ranks : {1, 2, 4, 8}) {
        std::cout << (ranks == 1 ? " " : ", ") << ranks << ": "
                  << formatBytes(planRank(plan, ranks).perRank());
      }
      std::cout << "\n";
    }
    return 0;
  };
}

}  // namespace ptyx::cli
