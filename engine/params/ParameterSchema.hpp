#pragma once
// One description of every reconstruction parameter: name, kind, default, bounds, unit, help.
// The CLI builds its flags and --help from it, the job file and result provenance serialise
// through it, and the GUI generates its form from it. Adding a parameter means one entry here.
#include <functional>
#include <string>
#include <vector>

#include "params/Parameters.hpp"

namespace ptyx {

struct ParameterSpec {
  enum class Kind { Integer, Real, Choice, Text };

  std::string name;  ///< key in files; the CLI flag is --name with '_' spelled '-'
  Kind kind = Kind::Real;
  std::string group;  ///< "Algorithm", "Probe", "Object", "Execution"
  std::string unit;   ///< "" when dimensionless
  std::string help;
  double minimum = 0.0;  ///< Integer and Real
  double maximum = 0.0;
  std::vector<std::string> choices;  ///< Choice
  std::function<std::string(const ReconParams&)> get;
  /// Parses and range-checks `text`; throws InputError naming the parameter when invalid.
  std::function<void(ReconParams&, const std::string& text)> set;

  [[nodiscard]] std::string flag() const;         ///< "--probe-update-start"
  [[nodiscard]] std::string defaultText() const;  ///< value in a default ReconParams
};

const std::vector<ParameterSpec>& reconParameterSchema();
const ParameterSpec& findParameter(const std::string& name);  ///< throws InputError if unknown

/// Sets one parameter by name from text, with the schema's validation.
void setParameter(ReconParams& params, const std::string& name, const std::string& text);
/// Checks every field against the schema's bounds; throws InputError naming the first bad one.
void validate(const ReconParams& params);

/// {"name": value, ...} with numbers as numbers; used by result provenance and job files.
std::string toJson(const ReconParams& params);
/// Starts from defaults, applies the algorithm's preset if given, then every key present.
/// Unknown keys are an error naming the key; `where` names the source in messages.
ReconParams paramsFromJson(const std::string& json, const std::string& where);

}  // namespace ptyx
