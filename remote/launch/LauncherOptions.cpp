#include "LauncherOptions.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "../JobSpec.hpp"

namespace ptyx::agent {

namespace {

constexpr long long kMaxWallMinutes = 366LL * 24 * 60;
constexpr int kMaxNodes = 1024;

std::string hhmmss(long long minutes) {
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:00", minutes / 60, minutes % 60);
  return text;
}

/// "HH:MM:SS" (hours up to 8784) or a whole number of minutes (a JSON number or digits).
std::string wallTime(const nlohmann::json& value) {
  const std::string why = "launcher_options.wall_time: must be HH:MM:SS or whole minutes (1 to " +
                          std::to_string(kMaxWallMinutes) + ")";
  if (value.is_number_integer()) {
    const long long m = value.get<long long>();
    if (m < 1 || m > kMaxWallMinutes) throw SpecError(why);
    return hhmmss(m);
  }
  if (!value.is_string()) throw SpecError(why);
  const std::string text = value.get<std::string>();
  static const std::regex minutes("^[0-9]{1,6}$");
  static const std::regex clock("^([0-9]{1,4}):([0-5][0-9]):([0-5][0-9])$");
  std::smatch m;
  if (std::regex_match(text, minutes)) {
    const long long n = std::stoll(text);
    if (n < 1 || n > kMaxWallMinutes) throw SpecError(why);
    return hhmmss(n);
  }
  if (std::regex_match(text, m, clock)) {
    const long long seconds = std::stoll(m[1]) * 3600 + std::stoll(m[2]) * 60 + std::stoll(m[3]);
    if (seconds < 1 || seconds > kMaxWallMinutes * 60) throw SpecError(why);
    return text;
  }
  throw SpecError(why);
}

}  // namespace

const std::vector<std::string>& launcherNames() {
  static const std::vector<std::string> names{"local", "slurm"};
  return names;
}

bool validSlurmName(const std::string& text) {
  static const std::regex pattern("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  return std::regex_match(text, pattern);
}

SlurmOptions parseSlurmOptions(const nlohmann::json& options) {
  if (!options.is_object()) throw SpecError("launcher_options must be a JSON object");
  SlurmOptions out;
  for (const auto& [key, value] : options.items()) {
    const std::string where = "launcher_options." + key;
    if (key == "partition" || key == "account" || key == "qos") {
      if (!value.is_string() || !validSlurmName(value.get<std::string>())) {
        throw SpecError(where + ": must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
      }
      (key == "partition" ? out.partition
       : key == "account" ? out.account
                          : out.qos) = value.get<std::string>();
    } else if (key == "wall_time") {
      out.wallTime = wallTime(value);
    } else if (key == "nodes") {
      if (!value.is_number_integer() || value.get<long long>() < 1 ||
          value.get<long long>() > kMaxNodes) {
        throw SpecError(where + ": must be a whole number in [1, " + std::to_string(kMaxNodes) +
                        "]");
      }
      out.nodes = value.get<int>();
    } else {
      throw SpecError("unknown launcher option '" + key +
                      "' for slurm (partition, wall_time, account, qos, nodes)");
    }
  }
  return out;
}

void validateLauncherOptions(const std::string& launcher, const nlohmann::json& options) {
  const auto& names = launcherNames();
  if (std::find(names.begin(), names.end(), launcher) == names.end()) {
    throw SpecError("launcher: must be \"local\" or \"slurm\"");
  }
  if (!options.is_object()) throw SpecError("launcher_options must be a JSON object");
  if (launcher == "local") {
    if (!options.empty()) {
      throw SpecError("unknown launcher option '" + options.begin().key() +
                      "' for local (it takes none)");
    }
    return;
  }
  (void)parseSlurmOptions(options);
}

}  // namespace ptyx::agent
