#include "params/ParameterSchema.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/Error.hpp"

namespace ptyx {
namespace {

const std::string kWhere = "parameters";

double parseNumber(const ParameterSpec& spec, const std::string& text) {
  double value = 0.0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || end != last || !std::isfinite(value)) {
    throw InputError(kWhere, spec.name, "'" + text + "' is not a number");
  }
  if (spec.kind == ParameterSpec::Kind::Integer && value != std::floor(value)) {
    throw InputError(kWhere, spec.name, "'" + text + "' is not a whole number");
  }
  if (value < spec.minimum || value > spec.maximum) {
    std::ostringstream msg;
    msg << text << " is outside [" << spec.minimum << ", " << spec.maximum << "]"
        << (spec.unit.empty() ? "" : " " + spec.unit);
    throw InputError(kWhere, spec.name, msg.str());
  }
  return value;
}

// The shortest text that reads back to the same double ("0.05", not "0.050000000000000003").
std::string formatNumber(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return {text, end};
}

// Builders keep each schema entry to a few lines.
ParameterSpec real(std::string name, std::string group, std::string unit, double lo, double hi,
                   double ReconParams::*field, std::string help) {
  ParameterSpec s;
  s.name = std::move(name);
  s.kind = ParameterSpec::Kind::Real;
  s.group = std::move(group);
  s.unit = std::move(unit);
  s.minimum = lo;
  s.maximum = hi;
  s.help = std::move(help);
  s.get = [field](const ReconParams& p) { return formatNumber(p.*field); };
  s.set = [field, spec = s](ReconParams& p, const std::string& t) {
    p.*field = parseNumber(spec, t);
  };
  return s;
}

template <class Int>
ParameterSpec integer(std::string name, std::string group, double lo, double hi,
                      Int ReconParams::*field, std::string help) {
  ParameterSpec s;
  s.name = std::move(name);
  s.kind = ParameterSpec::Kind::Integer;
  s.group = std::move(group);
  s.minimum = lo;
  s.maximum = hi;
  s.help = std::move(help);
  s.get = [field](const ReconParams& p) { return std::to_string(p.*field); };
  s.set = [field, spec = s](ReconParams& p, const std::string& t) {
    p.*field = static_cast<Int>(parseNumber(spec, t));
  };
  return s;
}

ParameterSpec text(std::string name, std::string group, std::string ReconParams::*field,
                   std::string help) {
  ParameterSpec s;
  s.name = std::move(name);
  s.kind = ParameterSpec::Kind::Text;
  s.group = std::move(group);
  s.help = std::move(help);
  s.get = [field](const ReconParams& p) { return p.*field; };
  s.set = [field](ReconParams& p, const std::string& t) { p.*field = t; };
  return s;
}

template <class Enum>
ParameterSpec choice(std::string name, std::string group, Enum ReconParams::*field,
                     std::initializer_list<Enum> values, std::string help) {
  ParameterSpec s;
  s.name = std::move(name);
  s.kind = ParameterSpec::Kind::Choice;
  s.group = std::move(group);
  s.help = std::move(help);
  for (Enum v : values) s.choices.push_back(toString(v));
  s.get = [field](const ReconParams& p) { return toString(p.*field); };
  std::vector<Enum> list(values);
  s.set = [field, list, spec = s](ReconParams& p, const std::string& t) {
    auto it = std::find(spec.choices.begin(), spec.choices.end(), t);
    if (it == spec.choices.end()) {
      std::string all;
      for (const auto& c : spec.choices) all += (all.empty() ? "" : ", ") + c;
      throw InputError(kWhere, spec.name, "'" + t + "' is not one of: " + all);
    }
    p.*field = list[static_cast<std::size_t>(it - spec.choices.begin())];
  };
  return s;
}

std::vector<ParameterSpec> buildSchema() {
  using A = Algorithm;
  using PI = ProbeInit;
  using OI = ObjectInit;
  return {
      choice("algorithm", "Algorithm", &ReconParams::algorithm, {A::DM, A::RAAR, A::HIO, A::ER},
             "Projection algorithm; sets beta (and gammas for dm) to its preset unless given: "
             "dm = difference map (beta 1), raar (beta 0.8), hio (beta 0.9), er = error "
             "reduction"),
      real("beta", "Algorithm", "", 0.01, 2.0, &ReconParams::beta,
           "Relaxation: DM's beta, RAAR's beta (at most 1), Fienup's HIO feedback; unused by er"),
      real("gamma_a", "Algorithm", "", -2.0, 2.0, &ReconParams::gammaA,
           "dm only: f_a = (1+gamma_a) pi_a - gamma_a; -1 (default) takes the fast path"),
      real("gamma_o", "Algorithm", "", -2.0, 2.0, &ReconParams::gammaO,
           "dm only: f_o = (1+gamma_o) pi_o - gamma_o; 1 is Thibault's DM"),
      integer("iterations", "Algorithm", 0, 1e7, &ReconParams::iterations,
              "Number of iterations to run"),
      integer("overlap_inner", "Algorithm", 1, 50, &ReconParams::overlapInner,
              "Object/probe refinements per overlap projection"),
      integer("probe_update_start", "Algorithm", 0, 1e7, &ReconParams::probeUpdateStart,
              "Iteration (0-based) from which the probe is refined"),
      real("object_regularisation", "Algorithm", "", 0.0, 1.0, &ReconParams::objectRegularisation,
           "Object update regulariser, relative to the largest illumination"),
      real("probe_regularisation", "Algorithm", "", 0.0, 1.0, &ReconParams::probeRegularisation,
           "Probe update regulariser, relative to the largest object intensity"),
      choice("probe_init", "Probe", &ReconParams::probeInit,
             {PI::Auto, PI::Gaussian, PI::Aperture, PI::ZonePlate, PI::DataMean, PI::File},
             "Initial probe: auto (the probe the scan file carries, else data-mean), gaussian, "
             "aperture, zoneplate (focus, with defocus), data-mean (back-propagated mean "
             "diffraction pattern, without the probe's phase curvature), file (probe_file)"),
      real("probe_sigma", "Probe", "px", 0.5, 1e4, &ReconParams::probeSigmaPixels,
           "Gaussian probe: standard deviation in object pixels"),
      real("aperture_diameter", "Probe", "m", 0.0, 1.0, &ReconParams::apertureDiameter_m,
           "Aperture or zone-plate diameter; 0 = half the field of view"),
      real("focal_distance", "Probe", "m", 0.0, 100.0, &ReconParams::focalDistance_m,
           "Zone-plate focal distance"),
      real("defocus", "Probe", "m", -100.0, 100.0, &ReconParams::defocus_m,
           "Propagation distance from the focus (zone plate) or aperture to the sample"),
      text("probe_file", "Probe", &ReconParams::probeFile,
           "CXI file holding a probe (a result, or a scan's source_1/illumination)"),
      choice("object_init", "Object", &ReconParams::objectInit,
             {OI::Constant, OI::Random, OI::File},
             "Initial object: constant, random (seeded), file (object_file)"),
      real("object_amplitude", "Object", "", 1e-6, 1e6, &ReconParams::objectAmplitude,
           "Amplitude of the initial object"),
      text("object_file", "Object", &ReconParams::objectFile, "CXI result holding an object"),
      integer("seed", "Object", 0, 9007199254740992.0, &ReconParams::seed,
              "Seed of every random choice; equal seeds give equal runs"),
      integer("threads", "Execution", 0, 1024, &ReconParams::threads,
              "CPU threads per rank; 0 = all cores"),
      real("snapshot_interval", "Execution", "s", 0.0, 3600.0, &ReconParams::snapshotInterval_s,
           "Minimum time between live snapshots of object and probe (the views, a job's "
           "snapshot.cxi); 0 = every iteration. The workbench starts at 0.05 s, jobs at 0.5 s"),
  };
}

}  // namespace

std::string ParameterSpec::flag() const {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

std::string ParameterSpec::defaultText() const {
  return get(ReconParams{});
}

const std::vector<ParameterSpec>& reconParameterSchema() {
  static const std::vector<ParameterSpec> schema = buildSchema();
  return schema;
}

const ParameterSpec& findParameter(const std::string& name) {
  for (const auto& spec : reconParameterSchema()) {
    if (spec.name == name) return spec;
  }
  throw InputError(kWhere, name, "no such parameter");
}

void setParameter(ReconParams& params, const std::string& name, const std::string& textValue) {
  findParameter(name).set(params, textValue);
}

void validate(const ReconParams& params) {
  // Round-trip every field through its own parser: one source of truth for bounds.
  ReconParams copy = params;
  for (const auto& spec : reconParameterSchema()) spec.set(copy, spec.get(params));
  if (params.algorithm == Algorithm::RAAR && params.beta > 1.0) {
    throw InputError(kWhere, "beta", "RAAR needs beta in (0, 1], got " + formatNumber(params.beta));
  }
  if (params.probeInit == ProbeInit::File && params.probeFile.empty()) {
    throw InputError(kWhere, "probe_file", "probe_init is 'file' but no probe_file is given");
  }
  if (params.objectInit == ObjectInit::File && params.objectFile.empty()) {
    throw InputError(kWhere, "object_file", "object_init is 'file' but no object_file is given");
  }
}

std::string toJson(const ReconParams& params) {
  nlohmann::ordered_json json;
  for (const auto& spec : reconParameterSchema()) {
    const std::string value = spec.get(params);
    switch (spec.kind) {
      case ParameterSpec::Kind::Integer:
        json[spec.name] = std::stoll(value);
        break;
      case ParameterSpec::Kind::Real:
        json[spec.name] = std::stod(value);
        break;
      default:
        json[spec.name] = value;
        break;
    }
  }
  return json.dump();
}

ReconParams paramsFromJson(const std::string& text, const std::string& where) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(where, "", std::string("not valid JSON: ") + e.what());
  }
  if (!json.is_object()) throw InputError(where, "", "parameters must be a JSON object");
  ReconParams params;
  if (json.contains("algorithm")) {
    setParameter(params, "algorithm", json["algorithm"].get<std::string>());
    applyPreset(params, params.algorithm);
  }
  for (const auto& [key, value] : json.items()) {
    try {
      const auto& spec = findParameter(key);
      if (value.is_string()) {
        spec.set(params, value.get<std::string>());
      } else if (value.is_number()) {
        spec.set(params, value.is_number_float() ? formatNumber(value.get<double>())
                                                 : std::to_string(value.get<long long>()));
      } else {
        throw InputError(kWhere, key, "must be a number or a string");
      }
    } catch (const InputError& e) {
      throw InputError(where, key, e.what());
    }
  }
  validate(params);
  return params;
}

}  // namespace ptyx
