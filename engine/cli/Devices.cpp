// `ptyx devices`: the CUDA devices this process can use, with their memory, or why there are
// none. Exits 0 either way: "no GPU" is an answer, not a failure.
#include <iomanip>
#include <iostream>

#include "backend/Devices.hpp"
#include "cli/Commands.hpp"

namespace ptyx::cli {

Runner addDevices(CLI::App& app) {
  app.add_subcommand("devices", "List the CUDA devices usable by the cuda backend, with memory");
  return [] {
    const DeviceStatus s = queryDevices();
    if (!s.compiled) {
      std::cout << "compiled without CUDA: only the cpu backend is available\n";
      return 0;
    }
    if (s.devices.empty() || !s.usable) {
      std::cout << "no CUDA device: " << s.reason << "\n";
      if (s.devices.empty()) return 0;
    }
    constexpr double kMiB = 1024.0 * 1024.0;
    for (const auto& d : s.devices) {
      std::cout << "device " << d.index << ": " << d.name << ", compute capability " << d.major
                << "." << d.minor << ", " << std::fixed << std::setprecision(0)
                << static_cast<double>(d.totalBytes) / kMiB << " MiB total, "
                << static_cast<double>(d.freeBytes) / kMiB << " MiB free\n";
    }
    const int local = localRank();
    if (local >= 0)
      std::cout << "this rank (local rank " << local << ") would use device "
                << chooseDevice(-1, static_cast<int>(s.devices.size())) << "\n";
    return 0;
  };
}

}  // namespace ptyx::cli
