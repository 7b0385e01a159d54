#pragma once
// Exceptions used inside the engine. The edges (CLI main, agent job status, GUI dialog) turn
// them into messages and exit codes; the engine itself never exits.
#include <stdexcept>
#include <string>

namespace ptyx {

/// Anything that went wrong inside the engine.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input: a file or one of its fields, or a parameter. The message names both.
class InputError : public Error {
 public:
  InputError(const std::string& where, const std::string& field, const std::string& what)
      : Error(where + (field.empty() ? "" : ": " + field) + ": " + what),
        where_(where),
        field_(field) {}
  [[nodiscard]] const std::string& where() const { return where_; }
  [[nodiscard]] const std::string& field() const { return field_; }

 private:
  std::string where_;
  std::string field_;
};

}  // namespace ptyx
