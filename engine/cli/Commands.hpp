#pragma once
// The `ptyx` command line: one function per subcommand, each registering its options on a
// CLI11 subcommand and returning the callback that runs it. Exit codes: 0 success, 1 failure
// while running, 2 bad input or usage.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ptyx::cli {

using Runner = std::function<int()>;

Runner addSimulate(CLI::App& app);
Runner addRecon(CLI::App& app, const std::string& commandLine);
Runner addInfo(CLI::App& app);
Runner addBench(CLI::App& app);
Runner addDevices(CLI::App& app);
Runner addReplay(CLI::App& app);
Runner addStreamReplay(CLI::App& app);

/// ptyx bench --follow-latency RATES (FollowBench.cpp): frame arrival to first use when
/// following a growing scan fed by stream-replay at each rate.
int runFollowLatencyBench(const std::vector<double>& rates, std::size_t frames, std::size_t size,
                          int threads, const std::string& algorithm);

/// argv joined with shell-style quoting, for provenance.
std::string joinCommandLine(int argc, char** argv);
/// Current UTC time, ISO 8601.
std::string isoNow();

}  // namespace ptyx::cli
