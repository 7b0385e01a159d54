#pragma once
// The parameter form, generated from the engine's schema (one source of truth for the CLI flags,
// the job file and this form): a group box per spec.group, a spin box with the schema's bounds
// and unit per number, a combo box per choice, a line edit (with a file browser) per text; the
// help text is the tooltip. The form is passive: it reports edits and shows values.
#include <QString>
#include <QWidget>

#include <map>
#include <string>

#include "params/Parameters.hpp"

namespace ptyx::app {

class ParameterForm : public QWidget {
  Q_OBJECT
 public:
  explicit ParameterForm(QWidget* parent = nullptr);

  /// Shows `params` without reporting edits.
  void setValues(const ReconParams& params);
  /// The editor of a parameter (object name "param_<name>"); null for an unknown name.
  [[nodiscard]] QWidget* editor(const std::string& name) const;

 signals:
  /// The user changed a parameter; `value` is text the schema parses.
  void edited(const QString& name, const QString& value);

 private:
  void report(const std::string& name, const QString& value);
  std::map<std::string, QWidget*> editors_;
  bool updating_ = false;
};

}  // namespace ptyx::app
