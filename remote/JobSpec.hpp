#pragma once
// JobSpec version 1: what a client sends to POST /jobs (docs/AGENT.md). Parsing validates every
// field; the launcher turns a parsed spec into an argument list for `ptyx recon` (never a shell
// string). No Qt here.
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace ptyx::agent {

/// A client error: the message goes back with 400.
class SpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// ^[A-Za-z0-9._-]{1,100}$ starting with a letter or digit (so not ".", "..", a hidden name or
/// an option). Names of jobs and of uploaded files.
bool validName(const std::string& name);

constexpr int kMaxRanks = 64;
constexpr int kMaxGpus = 64;

struct JobSpec {
  int version = 1;
  std::string name;
  std::string scan;           ///< an uploaded file's name
  nlohmann::json parameters;  ///< validated through paramsFromJson; keys of the schema
  int ranks = 1;
  std::string launcher = "local";                             ///< a name of launcherNames()
  nlohmann::json launcherOptions = nlohmann::json::object();  ///< validated per launcher
  int gpus = 0;         ///< devices the job needs (local: from the pool)
  std::string backend;  ///< "", auto, cpu, cuda ("": cuda with GPUs)

  [[nodiscard]] nlohmann::json toJson() const;
  /// The uploaded files the job needs (the scan, probe_file, object_file).
  [[nodiscard]] std::vector<std::string> inputs() const;
  /// `recon <inputs>/<scan> --job-dir <jobDir> -o <result> [--backend=B] --name=value ...`
  [[nodiscard]] std::vector<std::string> reconArguments(const std::string& inputDir,
                                                        const std::string& jobDir,
                                                        const std::string& result) const;
};

/// Throws SpecError naming the offending field.
JobSpec parseJobSpec(const std::string& body);

/// A control command for a running job ({"command": "pause"|"resume"|"stop"|"set", "set": {..}}),
/// validated and re-serialised in the form the control file takes (docs/JOBS.md).
std::string parseControl(const std::string& body);

}  // namespace ptyx::agent
