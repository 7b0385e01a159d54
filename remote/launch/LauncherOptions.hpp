#pragma once
// The launchers a JobSpec may name and the options each accepts (docs/AGENT.md §Launchers).
// Validation only, no Qt: every value that can reach a batch template or a command line is
// checked here against a strict character class, so nothing a client sends is ever raw text in
// a script.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ptyx::agent {

/// "local", "slurm": the registry's names, in the order /health lists them.
const std::vector<std::string>& launcherNames();

/// Throws SpecError naming the field when `options` is not valid for `launcher`.
void validateLauncherOptions(const std::string& launcher, const nlohmann::json& options);

/// The slurm launcher's options, validated and normalised ("" or 0: not given).
struct SlurmOptions {
  std::string partition;
  std::string account;
  std::string qos;
  std::string wallTime;  ///< HH:MM:SS (minutes are converted)
  int nodes = 0;
};

/// Validates (SpecError) and normalises.
SlurmOptions parseSlurmOptions(const nlohmann::json& options);

/// A Slurm name (partition, account, QOS): ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$.
bool validSlurmName(const std::string& text);

}  // namespace ptyx::agent
