#include "JobSpec.hpp"

#include <regex>
#include <sstream>

#include "launch/LauncherOptions.hpp"
#include "params/ParameterSchema.hpp"

namespace ptyx::agent {

namespace {

// Parameters naming files: their values must be names of uploaded files, resolved inside the
// job's input directory by the agent; a client can never point ptyx at an arbitrary path.
bool isFileParameter(const std::string& key) {
  return key == "probe_file" || key == "object_file";
}

std::string valueText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::ostringstream out;
  out.precision(17);  // as paramsFromJson formats it, so the CLI parses the same double
  if (value.is_number_float()) {
    out << value.get<double>();
  } else if (value.is_number_unsigned()) {
    out << value.get<unsigned long long>();
  } else {
    out << value.get<long long>();
  }
  return out.str();
}

nlohmann::json parseObject(const std::string& body) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw SpecError(std::string("not valid JSON: ") + e.what());
  }
  if (!json.is_object()) throw SpecError("the body must be a JSON object");
  return json;
}

/// Every value a number or a string; file parameters valid names; then the schema's checks.
void checkParameters(const nlohmann::json& parameters, const std::string& where) {
  if (!parameters.is_object()) throw SpecError(where + " must be a JSON object");
  for (const auto& [key, value] : parameters.items()) {
    if (!value.is_string() && !value.is_number()) {
      throw SpecError(where + ": " + key + " must be a number or a string");
    }
    if (isFileParameter(key) && !validName(value.get<std::string>())) {
      throw SpecError(where + ": " + key +
                      " must name an uploaded file ([A-Za-z0-9][A-Za-z0-9._-]{0,99})");
    }
  }
  try {
    (void)paramsFromJson(parameters.dump(), where);
  } catch (const std::exception& e) {  // InputError, or nlohmann's type_error for "algorithm"
    throw SpecError(e.what());
  }
}

}  // namespace

bool validName(const std::string& name) {
  // The first character a letter or digit: never "." or "..", never a hidden name (the agent's
  // temporary files start with '.'), never something a program could take for an option.
  static const std::regex pattern("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$");
  return std::regex_match(name, pattern);
}

nlohmann::json JobSpec::toJson() const {
  nlohmann::json j = {{"version", version},       {"name", name},   {"scan", scan},
                      {"parameters", parameters}, {"ranks", ranks}, {"launcher", launcher}};
  if (!launcherOptions.empty()) j["launcher_options"] = launcherOptions;
  if (gpus > 0) j["gpus"] = gpus;
  if (!backend.empty()) j["backend"] = backend;
  return j;
}

std::vector<std::string> JobSpec::inputs() const {
  std::vector<std::string> files{scan};
  for (const auto& [key, value] : parameters.items()) {
    if (isFileParameter(key)) files.push_back(value.get<std::string>());
  }
  return files;
}

std::vector<std::string> JobSpec::reconArguments(const std::string& inputDir,
                                                 const std::string& jobDir,
                                                 const std::string& result) const {
  std::vector<std::string> args{"recon", inputDir + "/" + scan, "--job-dir", jobDir, "-o", result};
  // A job given GPUs runs on them unless it names its backend.
  const std::string b = !backend.empty() ? backend : gpus > 0 ? "cuda" : "";
  if (!b.empty()) args.push_back("--backend=" + b);
  for (const auto& [key, value] : parameters.items()) {
    std::string text = valueText(value);
    if (isFileParameter(key)) text = inputDir + "/" + text;
    // --flag=value: a value is never taken for an option ("-1" included).
    args.push_back(findParameter(key).flag() + "=" + text);
  }
  return args;
}

JobSpec parseJobSpec(const std::string& body) {
  const nlohmann::json json = parseObject(body);
  static const std::vector<std::string> known{"version",          "name",  "scan",
                                              "parameters",       "ranks", "launcher",
                                              "launcher_options", "gpus",  "backend"};
  for (const auto& [key, value] : json.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw SpecError("unknown field '" + key + "'");
    }
  }
  JobSpec spec;
  if (!json.contains("version") || !json["version"].is_number_integer() || json["version"] != 1) {
    throw SpecError("version: must be 1");
  }
  if (!json.contains("scan") || !json["scan"].is_string() ||
      !validName(json["scan"].get<std::string>())) {
    throw SpecError("scan: must name an uploaded file ([A-Za-z0-9][A-Za-z0-9._-]{0,99})");
  }
  spec.scan = json["scan"].get<std::string>();
  spec.name = spec.scan;
  if (json.contains("name")) {
    if (!json["name"].is_string() || !validName(json["name"].get<std::string>())) {
      throw SpecError("name: must match [A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    }
    spec.name = json["name"].get<std::string>();
  }
  if (json.contains("ranks")) {
    const auto& r = json["ranks"];
    if (!r.is_number_integer() || r.get<long long>() < 1 || r.get<long long>() > kMaxRanks) {
      throw SpecError("ranks: must be a whole number in [1, " + std::to_string(kMaxRanks) + "]");
    }
    spec.ranks = r.get<int>();
  }
  if (json.contains("launcher")) {
    if (!json["launcher"].is_string()) throw SpecError("launcher: must be \"local\" or \"slurm\"");
    spec.launcher = json["launcher"].get<std::string>();
  }
  if (json.contains("launcher_options")) spec.launcherOptions = json["launcher_options"];
  validateLauncherOptions(spec.launcher, spec.launcherOptions);
  if (json.contains("gpus")) {
    const auto& g = json["gpus"];
    if (!g.is_number_integer() || g.get<long long>() < 0 || g.get<long long>() > kMaxGpus) {
      throw SpecError("gpus: must be a whole number in [0, " + std::to_string(kMaxGpus) + "]");
    }
    spec.gpus = g.get<int>();
  }
  if (json.contains("backend")) {
    const auto& b = json["backend"];
    if (!b.is_string() || (b != "auto" && b != "cpu" && b != "cuda")) {
      throw SpecError("backend: must be auto, cpu or cuda");
    }
    spec.backend = b.get<std::string>();
  }
  spec.parameters = json.value("parameters", nlohmann::json::object());
  checkParameters(spec.parameters, "parameters");
  return spec;
}

std::string parseControl(const std::string& body) {
  const nlohmann::json json = parseObject(body);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : json.items()) {
    if (key != "command" && key != "set") throw SpecError("unknown field '" + key + "'");
  }
  if (json.contains("command")) {
    const auto& c = json["command"];
    if (!c.is_string() || (c != "pause" && c != "resume" && c != "stop" && c != "set")) {
      throw SpecError("command: must be pause, resume, stop or set");
    }
    if (c != "set") out["command"] = c;
  }
  if (json.contains("set")) {
    checkParameters(json["set"], "set");
    for (const auto& [key, value] : json["set"].items()) {
      if (isFileParameter(key)) throw SpecError("set: " + key + " cannot change while running");
    }
    out["set"] = json["set"];
  } else if (json.value("command", "") == "set") {
    throw SpecError("command set needs a \"set\" object");
  }
  if (out.empty()) throw SpecError("nothing to do: give a command or set");
  return out.dump();
}

}  // namespace ptyx::agent
