#include "BatchTemplate.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace ptyx::agent {

namespace {

const std::regex& placeholderPattern() {
  static const std::regex pattern("XXX([A-Za-z0-9_]+?)XXX");
  return pattern;
}

}  // namespace

const std::vector<std::string>& BatchTemplate::placeholders() {
  static const std::vector<std::string> names{
      "job_name", "job_id", "ranks",   "nodes", "gpus",   "partition", "wall_time",
      "account",  "qos",    "job_dir", "log",   "mpirun", "command"};
  return names;
}

BatchTemplate BatchTemplate::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the Slurm batch template");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

BatchTemplate BatchTemplate::parse(const std::string& text, const std::string& where) {
  BatchTemplate t;
  std::istringstream in(text);
  std::string line;
  bool command = false;
  const auto& known = placeholders();
  for (int number = 1; std::getline(in, line); ++number) {
    for (auto it = std::sregex_iterator(line.begin(), line.end(), placeholderPattern());
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) {
          if (!list.empty()) list += ", ";
          list += "XXX" + k + "XXX";
        }
        throw std::runtime_error(where + ":" + std::to_string(number) +
                                 ": unknown placeholder XXX" + name + "XXX (known: " + list + ")");
      }
      command = command || name == "command";
    }
    t.lines_.push_back(line);
  }
  if (!command) throw std::runtime_error(where + ": the template has no XXXcommandXXX placeholder");
  return t;
}

std::string BatchTemplate::fill(const std::map<std::string, std::string>& values) const {
  std::string out;
  for (const std::string& line : lines_) {
    std::string filled;
    bool keep = true;
    std::size_t last = 0;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), placeholderPattern());
         it != std::sregex_iterator(); ++it) {
      const auto found = values.find((*it)[1]);
      const std::string value = found != values.end() ? found->second : "";
      keep = keep && !value.empty();
      filled += line.substr(last, static_cast<std::size_t>(it->position()) - last) + value;
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    if (keep) out += filled + line.substr(last) + "\n";
  }
  return out;
}

std::string shellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace ptyx::agent
