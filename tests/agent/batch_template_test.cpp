// The slurm launcher's pieces that need neither Slurm nor root: the batch template (placeholder
// checks with file and line, lines left out for empty values, one-pass filling), the shell
// quoting of paths and commands (round-tripped through a real /bin/sh, hostile strings
// included, and no command in them runs), and the normalisation of launcher options.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "JobSpec.hpp"
#include "launch/BatchTemplate.hpp"
#include "launch/LauncherOptions.hpp"

using namespace ptyx::agent;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string errorOf(const std::string& text) {
  try {
    (void)BatchTemplate::parse(text, "site.sbatch");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(BatchTemplate, UnknownPlaceholdersAndAMissingCommandAreErrorsWithFileAndLine) {
  EXPECT_EQ(errorOf("#!/bin/bash\n#SBATCH -n XXXranksXXX\n#SBATCH --mem=XXXmemXXX\nXXXcommandXXX\n")
                .rfind("site.sbatch:3: unknown placeholder XXXmemXXX", 0),
            0u);
  EXPECT_EQ(errorOf("#!/bin/bash\nmpirun XXXranksXXX\n"),
            "site.sbatch: the template has no XXXcommandXXX placeholder");
  EXPECT_EQ(errorOf("XXXcommandXXX\n"), "");
  EXPECT_NE(errorOf("XXXcommandXXX XXXCommandXXX\n").find(":1: unknown placeholder XXXCommandXXX"),
            std::string::npos)
      << "names are case-sensitive";
}

TEST(BatchTemplate, LinesWithAnEmptyValueAreLeftOutAndValuesAreNotExpandedAgain) {
  const BatchTemplate t = BatchTemplate::parse(
      "#!/bin/bash\n#SBATCH --account=XXXaccountXXX\n#SBATCH --job-name=XXXjob_nameXXX\n"
      "#SBATCH --time=XXXwall_timeXXX\nXXXmpirunXXX -np XXXranksXXX XXXcommandXXX\n",
      "t");
  const std::string script = t.fill({{"account", ""},
                                     {"job_name", "XXXcommandXXX"},
                                     {"wall_time", "01:30:00"},
                                     {"mpirun", "'/usr/bin/mpirun'"},
                                     {"ranks", "2"},
                                     {"command", "'ptyx' 'recon'"}});
  EXPECT_EQ(script,
            "#!/bin/bash\n#SBATCH --job-name=XXXcommandXXX\n#SBATCH --time=01:30:00\n"
            "'/usr/bin/mpirun' -np 2 'ptyx' 'recon'\n");
}

TEST(ShellQuote, HostileWordsReachTheProgramUnchangedAndRunNothing) {
  const std::string marker = fs::absolute("quote-marker").string();
  fs::remove(marker);
  const std::vector<std::string> words{"plain",
                                       "with space",
                                       "it's",
                                       "'",
                                       "''",
                                       "\"double\"",
                                       "$(touch " + marker + ")",
                                       "`touch " + marker + "`",
                                       "; touch " + marker,
                                       "a\nb\n",
                                       "back\\slash",
                                       "$HOME ${PATH} $((1+1))",
                                       "*",
                                       "-rf",
                                       "tab\there",
                                       "\xc3\xa9t\xc3\xa9"};
  for (const std::string& word : words) {
    fs::remove("quoted.out");
    // The word goes through the shell exactly as the batch script would hold it.
    const std::string script = "printf '%s' " + shellQuote(word) + " > quoted.out\n";
    std::ofstream("quote.sh") << script;
    const int status = std::system("/bin/sh quote.sh");
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << script;
    EXPECT_EQ(slurp("quoted.out"), word) << script;
  }
  EXPECT_FALSE(fs::exists(marker)) << "a quoted word ran a command";
}

TEST(LauncherOptions, SlurmOptionsAreNormalisedAndStrict) {
  const SlurmOptions o = parseSlurmOptions({{"partition", "gpu-a100"},
                                            {"account", "mx1234"},
                                            {"qos", "normal"},
                                            {"wall_time", 90},
                                            {"nodes", 2}});
  EXPECT_EQ(o.partition, "gpu-a100");
  EXPECT_EQ(o.account, "mx1234");
  EXPECT_EQ(o.qos, "normal");
  EXPECT_EQ(o.wallTime, "01:30:00");
  EXPECT_EQ(o.nodes, 2);
  EXPECT_EQ(parseSlurmOptions({{"wall_time", "2880"}}).wallTime, "48:00:00");
  EXPECT_EQ(parseSlurmOptions({{"wall_time", "100:00:00"}}).wallTime, "100:00:00");
  EXPECT_THROW(parseSlurmOptions({{"wall_time", "9000:00:00"}}), SpecError) << "over 366 days";
  EXPECT_THROW(parseSlurmOptions({{"partition", "gpu a100"}}), SpecError);
  EXPECT_THROW(parseSlurmOptions({{"mem", "4G"}}), SpecError) << "unknown option";
  EXPECT_NO_THROW(validateLauncherOptions("local", nlohmann::json::object()));
  EXPECT_THROW(validateLauncherOptions("local", {{"partition", "x"}}), SpecError);
  EXPECT_THROW(validateLauncherOptions("pbs", nlohmann::json::object()), SpecError);
  EXPECT_EQ(launcherNames(), (std::vector<std::string>{"local", "slurm"}));
}

}  // namespace
