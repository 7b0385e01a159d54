#pragma once
// Remote ▸ Agents…: add, edit, remove and test (GET /health) agent profiles. The token field
// never echoes; OK saves the profiles file (0600).
#include <QDialog>
#include <QList>

#include "AgentProfiles.hpp"

class QLabel;
class QLineEdit;
class QListWidget;

namespace ptyx::app {

class RemoteJobs;

class AgentProfilesDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AgentProfilesDialog(RemoteJobs& jobs, QWidget* parent = nullptr);
  /// Checks the profile being edited with GET /health; the answer shows below the form.
  void test();
  [[nodiscard]] QString testResult() const;

 private:
  void showProfile(int row);
  void storeProfile();
  [[nodiscard]] AgentProfile edited() const;
  void save();

  RemoteJobs& jobs_;
  QList<AgentProfile> profiles_;
  int current_ = -1;
  QListWidget* list_ = nullptr;
  QLineEdit* name_ = nullptr;
  QLineEdit* url_ = nullptr;
  QLineEdit* token_ = nullptr;
  QLineEdit* pin_ = nullptr;
  QLineEdit* caFile_ = nullptr;
  QLabel* result_ = nullptr;
};

}  // namespace ptyx::app
