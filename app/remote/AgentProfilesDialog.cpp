#include "AgentProfilesDialog.hpp"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "RemoteJobs.hpp"

namespace ptyx::app {

AgentProfilesDialog::AgentProfilesDialog(RemoteJobs& jobs, QWidget* parent)
    : QDialog(parent), jobs_(jobs), profiles_(jobs.profiles().profiles()) {
  setObjectName(QStringLiteral("agentProfilesDialog"));
  setWindowTitle(tr("Agents"));
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("profileList"));
  for (const auto& p : profiles_) list_->addItem(p.name);
  auto* add = new QPushButton(tr("Add"), this);
  add->setObjectName(QStringLiteral("addProfileButton"));
  auto* remove = new QPushButton(tr("Remove"), this);
  remove->setObjectName(QStringLiteral("removeProfileButton"));
  auto* left = new QVBoxLayout;
  left->addWidget(list_, 1);
  auto* listButtons = new QHBoxLayout;
  listButtons->addWidget(add);
  listButtons->addWidget(remove);
  left->addLayout(listButtons);

  auto* form = new QFormLayout;
  name_ = new QLineEdit(this);
  name_->setObjectName(QStringLiteral("profileName"));
  url_ = new QLineEdit(this);
  url_->setObjectName(QStringLiteral("profileUrl"));
  url_->setPlaceholderText(QStringLiteral("https://head-node.example.org:8470"));
  token_ = new QLineEdit(this);
  token_->setObjectName(QStringLiteral("profileToken"));
  token_->setEchoMode(QLineEdit::Password);
  token_->setPlaceholderText(tr("printed by ptyx-agent token add"));
  pin_ = new QLineEdit(this);
  pin_->setObjectName(QStringLiteral("profilePin"));
  pin_->setPlaceholderText(tr("SHA-256 of the agent's certificate (hex), optional"));
  caFile_ = new QLineEdit(this);
  caFile_->setObjectName(QStringLiteral("profileCaFile"));
  auto* browse = new QPushButton(tr("…"), this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("CA certificates (PEM)"), QString(),
                                                   tr("PEM (*.pem *.crt);;All files (*)"));
    if (!f.isEmpty()) caFile_->setText(f);
  });
  auto* caRow = new QHBoxLayout;
  caRow->addWidget(caFile_, 1);
  caRow->addWidget(browse);
  form->addRow(tr("Name"), name_);
  form->addRow(tr("URL"), url_);
  form->addRow(tr("Token"), token_);
  form->addRow(tr("Pinned certificate"), pin_);
  form->addRow(tr("CA file"), caRow);
  auto* testButton = new QPushButton(tr("Test"), this);
  testButton->setObjectName(QStringLiteral("testProfileButton"));
  result_ = new QLabel(this);
  result_->setObjectName(QStringLiteral("testResult"));
  result_->setWordWrap(true);
  auto* right = new QVBoxLayout;
  right->addLayout(form);
  right->addWidget(testButton);
  right->addWidget(result_);
  right->addStretch(1);

  auto* columns = new QHBoxLayout;
  columns->addLayout(left, 1);
  columns->addLayout(right, 2);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(columns);
  layout->addWidget(buttons);

  connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
    storeProfile();
    showProfile(row);
  });
  connect(add, &QPushButton::clicked, this, [this] {
    storeProfile();
    AgentProfile p;
    p.name = tr("agent-%1").arg(profiles_.size() + 1);
    p.url = QUrl(QStringLiteral("https://"));
    profiles_.append(p);
    list_->addItem(p.name);
    list_->setCurrentRow(list_->count() - 1);
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    const int row = list_->currentRow();
    if (row < 0) return;
    current_ = -1;
    profiles_.removeAt(row);
    delete list_->takeItem(row);
    showProfile(list_->currentRow());
  });
  connect(testButton, &QPushButton::clicked, this, &AgentProfilesDialog::test);
  connect(buttons, &QDialogButtonBox::accepted, this, &AgentProfilesDialog::save);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  if (!profiles_.isEmpty()) list_->setCurrentRow(0);
  resize(720, 360);
}

AgentProfile AgentProfilesDialog::edited() const {
  AgentProfile p =
      current_ >= 0 && current_ < profiles_.size() ? profiles_[current_] : AgentProfile{};
  p.name = name_->text().trimmed();
  p.url = QUrl(url_->text().trimmed());
  p.token = token_->text().trimmed().toUtf8();
  p.pinnedCertSha256 = pin_->text().trimmed().toLatin1();
  p.caFile = caFile_->text().trimmed();
  return p;
}

void AgentProfilesDialog::storeProfile() {
  if (current_ < 0 || current_ >= profiles_.size()) return;
  profiles_[current_] = edited();
  if (auto* item = list_->item(current_)) item->setText(profiles_[current_].name);
}

void AgentProfilesDialog::showProfile(int row) {
  current_ = row;
  const bool valid = row >= 0 && row < profiles_.size();
  const AgentProfile p = valid ? profiles_[row] : AgentProfile{};
  for (auto* e : {name_, url_, token_, pin_, caFile_}) e->setEnabled(valid);
  name_->setText(p.name);
  url_->setText(p.url.toString());
  token_->setText(QString::fromUtf8(p.token));
  pin_->setText(QString::fromLatin1(p.pinnedCertSha256));
  caFile_->setText(p.caFile);
  result_->clear();
}

void AgentProfilesDialog::test() {
  const AgentProfile p = edited();
  if (!p.url.isValid() || p.url.host().isEmpty()) {
    result_->setText(tr("The URL is not valid."));
    return;
  }
  result_->setText(tr("Asking %1…").arg(p.url.toString()));
  auto* client = new client::AgentClient(p.endpoint(), p.name, this);
  client->health(
      [this, client](const client::AgentResult& r) {
        result_->setText(r.ok ? tr("OK: ptyx-agent %1, launchers %2")
                                    .arg(r.json.value(QStringLiteral("version")).toString(),
                                         r.json.value(QStringLiteral("launchers"))
                                             .toVariant()
                                             .toStringList()
                                             .join(QStringLiteral(", ")))
                              : r.error);
        client->deleteLater();
      },
      this);
}

QString AgentProfilesDialog::testResult() const {
  return result_->text();
}

void AgentProfilesDialog::save() {
  storeProfile();
  QStringList names;
  for (const auto& p : profiles_) {
    if (p.name.isEmpty() || names.contains(p.name) || !p.url.isValid() || p.url.host().isEmpty() ||
        (p.url.scheme() != QLatin1String("http") && p.url.scheme() != QLatin1String("https"))) {
      result_->setText(
          tr("Each profile needs its own name and an http:// or https:// URL ('%1').").arg(p.name));
      return;
    }
    names.append(p.name);
  }
  jobs_.profiles().setProfiles(profiles_);
  QString why;
  if (!jobs_.saveProfiles(&why)) {
    result_->setText(why);
    return;
  }
  accept();
}

}  // namespace ptyx::app
