// ptyx: headless ptychographic reconstruction. Exceptions stop here and become messages and
// exit codes; the engine below never exits.
#include <iostream>
#include <map>

#include "cli/Commands.hpp"
#include "core/Error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Ptyx: ptychographic reconstruction (simulate, reconstruct, inspect, benchmark)",
               "ptyx"};
  app.set_version_flag("--version", std::string("ptyx ") + PTYX_VERSION);
  app.require_subcommand(1);
  std::map<const CLI::App*, ptyx::cli::Runner> runners;
  auto add = [&](const char* name, ptyx::cli::Runner runner) {
    runners[app.get_subcommand(name)] = std::move(runner);
  };
  add("simulate", ptyx::cli::addSimulate(app));
  add("recon", ptyx::cli::addRecon(app, ptyx::cli::joinCommandLine(argc, argv)));
  add("info", ptyx::cli::addInfo(app));
  add("bench", ptyx::cli::addBench(app));
  add("devices", ptyx::cli::addDevices(app));
  add("replay", ptyx::cli::addReplay(app));
  add("stream-replay", ptyx::cli::addStreamReplay(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    for (const auto* sub : app.get_subcommands()) return runners.at(sub)();
  } catch (const ptyx::InputError& e) {
    std::cerr << "ptyx: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ptyx: error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
