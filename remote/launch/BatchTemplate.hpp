#pragma once
// A site-editable batch script with RELION-style named placeholders (XXXranksXXX, …), filled by
// the slurm launcher (docs/AGENT.md §The slurm launcher). No Qt.
#include <map>
#include <string>
#include <vector>

namespace ptyx::agent {

class BatchTemplate {
 public:
  /// Reads and checks a template: every XXXnameXXX must be a known placeholder and
  /// XXXcommandXXX must occur. Throws std::runtime_error "FILE:LINE: …".
  static BatchTemplate load(const std::string& path);
  static BatchTemplate parse(const std::string& text, const std::string& where);
  /// The placeholder names, without the XXX.
  static const std::vector<std::string>& placeholders();

  /// The script with every placeholder replaced. A line holding a placeholder whose value is
  /// empty is left out (so `#SBATCH --account=XXXaccountXXX` vanishes when none was given).
  /// Values are inserted as given: callers quote or validate them.
  [[nodiscard]] std::string fill(const std::map<std::string, std::string>& values) const;

 private:
  std::vector<std::string> lines_;
};

/// One word for a POSIX shell, whatever it holds: '…' with every ' written as '\''.
std::string shellQuote(const std::string& word);

}  // namespace ptyx::agent
