#pragma once
// Running the real `ptyx` binary from a test, as a user would: its path comes from the
// environment CTest sets (PTYX_BIN); stdout and stderr are captured through files in the test's
// scratch directory.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ptyx::testing {

struct Outcome {
  int code = -1;  ///< exit code, or -1 when the process did not exit normally
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string ptyxBin() {
  const char* bin = std::getenv("PTYX_BIN");
  return bin != nullptr ? bin : "ptyx";
}

/// Runs `ptyx ARGS` through the shell (ARGS is the test's own text, never user input), with
/// optional environment assignments ("NAME=value ...") before it.
inline Outcome runPtyx(const std::string& args, const std::string& environment = "") {
  const std::string cmd = (environment.empty() ? "" : environment + " ") + ptyxBin() + " " + args +
                          " >stdout.txt 2>stderr.txt";
  const int status = std::system(cmd.c_str());
  Outcome o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = slurp("stdout.txt");
  o.err = slurp("stderr.txt");
  return o;
}

}  // namespace ptyx::testing
