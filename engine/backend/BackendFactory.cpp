#include "backend/Backend.hpp"
#include "backend/cpu/CpuBackend.hpp"
#include "core/Error.hpp"

namespace ptyx {

std::unique_ptr<Backend> makeBackend(const std::string& name, const BackendOptions& options) {
  if (name == "cpu" || name == "auto") return std::make_unique<CpuBackend>(options);
  throw InputError("backend", name, "unknown backend (available: cpu)");
}

}  // namespace ptyx
