#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "backend/Backend.hpp"
#include "cli/Commands.hpp"
#include "cli/Progress.hpp"
#include "comm/Communicator.hpp"
#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "params/ParameterSchema.hpp"
#include "recon/Reconstructor.hpp"
#include "render/Render.hpp"

namespace ptyx::cli {
namespace {

// Ctrl-C or SIGTERM stops after the current iteration and saves what was reached. The handler
// only stores to a lock-free atomic, which is async-signal-safe.
std::atomic<Reconstructor*> gRunning{nullptr};
extern "C" void onStopSignal(int /*signal*/) {
  if (Reconstructor* r = gRunning.load()) r->requestStop();
}

struct ReconOptions {
  std::string input;
  std::string output;
  std::string pngDir;
  std::string backend = "cpu";
  ProgressStyle progress = ProgressStyle::Auto;
  ReadOptions orientation;
  std::vector<std::pair<const ParameterSpec*, CLI::Option*>> parameterOptions;
  std::vector<std::string> values;  // one per schema entry, filled by CLI11
};

std::string describe(const ParameterSpec& spec) {
  std::ostringstream help;
  help << spec.help;
  if (!spec.unit.empty()) help << " [" << spec.unit << "]";
  if (spec.kind == ParameterSpec::Kind::Integer || spec.kind == ParameterSpec::Kind::Real) {
    help << " (" << spec.minimum << " to " << spec.maximum << ")";
  }
  return help.str();
}

ReconParams parametersFrom(const ReconOptions& o) {
  ReconParams params;
  // The algorithm's preset first, then every parameter the user gave, whatever their order.
  for (std::size_t i = 0; i < o.parameterOptions.size(); ++i) {
    const auto& [spec, option] = o.parameterOptions[i];
    if (spec->name == "algorithm" && option->count() > 0) {
      spec->set(params, o.values[i]);
      applyPreset(params, params.algorithm);
    }
  }
  for (std::size_t i = 0; i < o.parameterOptions.size(); ++i) {
    const auto& [spec, option] = o.parameterOptions[i];
    if (option->count() > 0) spec->set(params, o.values[i]);
  }
  validate(params);
  return params;
}

}  // namespace

Runner addRecon(CLI::App& app, const std::string& commandLine) {
  auto* sub = app.add_subcommand("recon", "Reconstruct object and probe from a scan file");
  auto o = std::make_shared<ReconOptions>();
  sub->add_option("scan", o->input, "Scan file (CXI)")->required();
  sub->add_option("-o,--output", o->output, "Result file (CXI); default: <scan>-result.cxi");
  sub->add_option("--png", o->pngDir, "Directory for PNG pictures of object, probe and errors");
  sub->add_option("--backend", o->backend, "Compute backend")->capture_default_str();
  const std::map<std::string, ProgressStyle> styles{{"auto", ProgressStyle::Auto},
                                                    {"text", ProgressStyle::Text},
                                                    {"json", ProgressStyle::Json},
                                                    {"none", ProgressStyle::None}};
  sub->add_option("--progress", o->progress,
                  "Progress: text (live line with rate and ETA), json (JSON lines on stdout), none")
      ->transform(CLI::CheckedTransformer(styles, CLI::ignore_case))
      ->default_str("auto");
  sub->add_flag("--flip-x", o->orientation.flipX, "Negate the x translations of the file");
  sub->add_flag("--flip-y", o->orientation.flipY, "Negate the y translations of the file");
  sub->add_flag("--swap-xy", o->orientation.swapXY, "Exchange x and y translations of the file");

  const auto& schema = reconParameterSchema();
  o->values.resize(schema.size());
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const auto& spec = schema[i];
    auto* option = sub->add_option(spec.flag(), o->values[i], describe(spec));
    option->default_str(spec.defaultText())->group(spec.group);
    if (spec.kind == ParameterSpec::Kind::Choice) option->check(CLI::IsMember(spec.choices));
    o->parameterOptions.emplace_back(&spec, option);
  }

  return [o, commandLine] {
    const ReconParams params = parametersFrom(*o);
    Scan scan = readScan(o->input, o->orientation);
    const std::string output =
        o->output.empty() ? std::filesystem::path(o->input).replace_extension("").string() + "-result.cxi"
                          : o->output;

    auto backend = makeBackend(o->backend, {params.threads});
    SerialCommunicator communicator;
    Reconstructor reconstructor(scan, params, *backend, communicator);
    scan.magnitudes = {};  // the backend holds its own copy

    ProgressReporter progress(o->progress, params.iterations, std::cerr, std::cout);
    reconstructor.addObserver(&progress);
    gRunning.store(&reconstructor);
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    const auto start = std::chrono::steady_clock::now();
    reconstructor.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    gRunning.store(nullptr);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    progress.finish();

    Reconstruction result = reconstructor.result();
    result.provenance.version = PTYX_VERSION;
    result.provenance.date = isoNow();
    result.provenance.commandLine = commandLine;
    result.provenance.inputPath = std::filesystem::absolute(o->input).string();
    result.provenance.inputHash = scan.sourceHash;
    writeResult(result, output);
    if (!o->pngDir.empty()) renderResultPngs(result, o->pngDir);

    if (o->progress != ProgressStyle::Json) {
      std::ostream& out = std::cerr;
      out << "ptyx recon: " << reconstructor.iteration() << " iterations of "
          << toString(params.algorithm) << " in " << std::fixed << std::setprecision(1) << seconds
          << " s";
      if (!result.history.empty()) {
        const auto& last = result.history.back();
        out << std::scientific << std::setprecision(2) << "; fourier error " << last.fourierError;
        if (std::isfinite(last.objectError)) out << ", object error " << last.objectError;
      }
      out << "\n  result: " << output << "\n";
      if (!o->pngDir.empty()) out << "  pictures: " << o->pngDir << "/\n";
      if (reconstructor.stopped()) out << "  (stopped early by a signal; the result holds what was reached)\n";
    }
    return 0;
  };
}

}  // namespace ptyx::cli
