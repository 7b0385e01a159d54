#include "SubmitJobDialog.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QVBoxLayout>

#include "CommandBus.hpp"
#include "RemoteJobs.hpp"
#include "params/Parameters.hpp"
#include "recon/MemoryPlanner.hpp"

namespace ptyx::app {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kDefaultGpuGiB = 80.0;  // an H100's memory; the user states the cluster's
}  // namespace

SubmitJobDialog::SubmitJobDialog(RemoteJobs& jobs, CommandBus& bus, QWidget* parent)
    : QDialog(parent), jobs_(jobs), bus_(bus) {
  setObjectName(QStringLiteral("submitJobDialog"));
  setWindowTitle(tr("Submit a job"));
  auto* form = new QFormLayout;
  agent_ = new QComboBox(this);
  agent_->setObjectName(QStringLiteral("agentCombo"));
  form->addRow(tr("Agent"), agent_);
  agentInfo_ = new QLabel(this);
  agentInfo_->setObjectName(QStringLiteral("agentInfo"));
  agentInfo_->setWordWrap(true);
  form->addRow(QString(), agentInfo_);
  launcher_ = new QComboBox(this);
  launcher_->setObjectName(QStringLiteral("launcherCombo"));
  launcher_->addItems({QStringLiteral("local"), QStringLiteral("slurm")});
  launcher_->setToolTip(
      tr("local: mpirun on the agent's machine; slurm: sbatch from the site's template"));
  form->addRow(tr("Launcher"), launcher_);
  ranks_ = new QSpinBox(this);
  ranks_->setObjectName(QStringLiteral("ranksSpin"));
  ranks_->setRange(1, 64);
  form->addRow(tr("MPI ranks"), ranks_);
  gpus_ = new QSpinBox(this);
  gpus_->setObjectName(QStringLiteral("gpusSpin"));
  gpus_->setRange(0, 64);
  gpus_->setToolTip(tr("GPUs for the job, one per rank (0: the CPU backend)"));
  form->addRow(tr("GPUs"), gpus_);
  partition_ = new QLineEdit(this);
  partition_->setObjectName(QStringLiteral("partitionEdit"));
  form->addRow(tr("Partition"), partition_);
  wallTime_ = new QLineEdit(this);
  wallTime_->setObjectName(QStringLiteral("wallTimeEdit"));
  wallTime_->setPlaceholderText(QStringLiteral("HH:MM:SS"));
  wallTime_->setValidator(new QRegularExpressionValidator(
      QRegularExpression(QStringLiteral(R"((\d{1,3}:)?\d{1,2}:\d{2}:\d{2})")), wallTime_));
  form->addRow(tr("Wall time"), wallTime_);
  name_ = new QLineEdit(this);
  name_->setObjectName(QStringLiteral("nameEdit"));
  name_->setValidator(new QRegularExpressionValidator(
      QRegularExpression(QStringLiteral("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")), name_));
  form->addRow(tr("Job name"), name_);
  snapshotInterval_ = new QDoubleSpinBox(this);
  snapshotInterval_->setObjectName(QStringLiteral("snapshotIntervalSpin"));
  snapshotInterval_->setRange(0.0, 3600.0);
  snapshotInterval_->setDecimals(2);
  snapshotInterval_->setSuffix(QStringLiteral(" s"));
  snapshotInterval_->setValue(ReconParams{}.snapshotInterval_s);
  snapshotInterval_->setToolTip(
      tr("How often the job writes snapshot.cxi and streams it to a watching window "
         "(0: every iteration). The window's own runs use the form's value."));
  form->addRow(tr("Snapshot every"), snapshotInterval_);
  capacity_ = new QDoubleSpinBox(this);
  capacity_->setObjectName(QStringLiteral("capacitySpin"));
  capacity_->setRange(0.1, 4096.0);
  capacity_->setDecimals(1);
  capacity_->setSuffix(QStringLiteral(" GiB"));
  capacity_->setToolTip(tr("Memory each rank may use: RAM per rank, or each GPU's memory"));
  form->addRow(tr("Memory per rank"), capacity_);
  estimate_ = new QLabel(this);
  estimate_->setObjectName(QStringLiteral("memoryEstimate"));
  estimate_->setWordWrap(true);
  form->addRow(tr("Estimate"), estimate_);
  watch_ = new QCheckBox(tr("Open in the live views"), this);
  watch_->setObjectName(QStringLiteral("watchCheck"));
  watch_->setChecked(true);
  form->addRow(QString(), watch_);
  problem_ = new QLabel(this);
  problem_->setObjectName(QStringLiteral("submitProblem"));
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b00020"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  submit_ = buttons->addButton(tr("Submit"), QDialogButtonBox::AcceptRole);
  submit_->setObjectName(QStringLiteral("submitButton"));
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(submit_, &QPushButton::clicked, this, [this] {
    if (submit()) accept();
  });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(problem_);
  layout->addWidget(buttons);

  connect(launcher_, &QComboBox::currentIndexChanged, this, &SubmitJobDialog::updateLauncher);
  connect(agent_, &QComboBox::currentIndexChanged, this, [this] {
    // Memory per rank: this machine's for the local agent; the user's figure otherwise.
    const AgentProfile* p = jobs_.profiles().find(agent());
    if (p && p->local && gpus_->value() == 0) {
      capacity_->setValue(static_cast<double>(availableHostBytes()) / kGiB / ranks_->value());
    }
    askAgent();
    updateEstimate();
  });
  for (auto* spin : {ranks_, gpus_}) {
    connect(spin, &QSpinBox::valueChanged, this, &SubmitJobDialog::updateEstimate);
  }
  connect(gpus_, &QSpinBox::valueChanged, this, [this](int gpus) {
    if (gpus > 0) {
      capacity_->setValue(kDefaultGpuGiB);
      if (ranks_->value() < gpus) ranks_->setValue(gpus);
    }
  });
  connect(capacity_, &QDoubleSpinBox::valueChanged, this, &SubmitJobDialog::updateEstimate);
  capacity_->setValue(static_cast<double>(availableHostBytes()) / kGiB);
  refresh();
  updateLauncher();
}

void SubmitJobDialog::refresh() {
  const QString current = agent();
  agent_->clear();
  for (const auto& p : jobs_.profiles().profiles()) agent_->addItem(p.name);
  // The loopback agent is always offered: "Run locally" creates its profile on demand.
  const QString local = QString::fromLatin1(AgentProfiles::kLocalName);
  if (agent_->findText(local) < 0) agent_->addItem(local);
  if (!current.isEmpty()) setAgent(current);
  askAgent();
  const QString scan = bus_.workbench().scanPath();
  if (name_->text().isEmpty() && !scan.isEmpty()) {
    name_->setText(RemoteJobs::agentName(QFileInfo(scan).completeBaseName()));
  }
  updateEstimate();
}

void SubmitJobDialog::setAgent(const QString& name) {
  const int i = agent_->findText(name);
  if (i >= 0) agent_->setCurrentIndex(i);
}

void SubmitJobDialog::setRanks(int ranks) {
  ranks_->setValue(ranks);
}

QString SubmitJobDialog::agent() const {
  return agent_->currentText();
}

QString SubmitJobDialog::estimate() const {
  return estimate_->text();
}

bool SubmitJobDialog::watchLive() const {
  return watch_->isChecked();
}

void SubmitJobDialog::askAgent() {
  const int asked = ++asked_;
  const AgentProfile* p = jobs_.profiles().find(agent());
  // The loopback agent is asked once it runs; until then it offers what every agent has.
  if (!p || (p->local && !jobs_.localAgent().isRunning())) {
    agentInfo_->setText(p && p->local ? tr("Started on this machine when the job is submitted.")
                                      : QString());
    return;
  }
  agentInfo_->setText(tr("Asking %1…").arg(p->url.toString()));
  jobs_.client(p->name)->health(
      [this, asked](const client::AgentResult& r) {
        if (asked != asked_) return;
        if (!r.ok) {
          agentInfo_->setText(r.error);
          return;
        }
        QStringList launchers =
            r.json.value(QStringLiteral("launchers")).toVariant().toStringList();
        if (launchers.isEmpty()) launchers = {QStringLiteral("local")};
        const QString current = launcher_->currentText();
        launcher_->clear();
        launcher_->addItems(launchers);
        if (launchers.contains(current)) launcher_->setCurrentText(current);
        const int gpus = static_cast<int>(r.json.value(QStringLiteral("gpus")).toArray().size());
        agentInfo_->setText(tr("ptyx-agent %1: launchers %2; %3 GPU(s) in its local pool")
                                .arg(r.json.value(QStringLiteral("version")).toString(),
                                     launchers.join(QStringLiteral(", ")))
                                .arg(gpus));
      },
      this);
}

void SubmitJobDialog::updateLauncher() {
  const bool slurm = launcher_->currentText() == QLatin1String("slurm");
  partition_->setEnabled(slurm);
  wallTime_->setEnabled(slurm);
}

void SubmitJobDialog::updateEstimate() {
  const auto scan = bus_.workbench().scan();
  fits_ = false;
  if (!scan) {
    estimate_->setText(tr("No scan is open."));
    submit_->setEnabled(false);
    return;
  }
  submit_->setEnabled(true);
  const int ranks = ranks_->value();
  const MemoryCase c = bus_.workbench().memoryCase(
      gpus_->value() > 0 ? MemoryTarget::CudaDevice : MemoryTarget::CpuRam, ranks);
  const auto capacity = static_cast<std::size_t>(capacity_->value() * kGiB);
  const PlanVerdict verdict = checkPlan(c, ranks, capacity);
  fits_ = verdict.fits;
  const QString per = c.target == MemoryTarget::CudaDevice ? tr("per GPU") : tr("per rank");
  estimate_->setText(tr("%1 %2 (%3 frames of %4 × %4 on each of %5 ranks) of %6: %7")
                         .arg(QString::fromStdString(formatBytes(verdict.plan.perRank())), per)
                         .arg(verdict.plan.framesPerRank)
                         .arg(scan->frameSize())
                         .arg(ranks)
                         .arg(QString::fromStdString(formatBytes(capacity)))
                         .arg(verdict.fits ? tr("fits") : QString::fromStdString(verdict.message)));
}

bool SubmitJobDialog::submit() {
  problem_->clear();
  JobOptions o;
  o.name = name_->text();
  o.launcher = launcher_->currentText();
  o.ranks = ranks_->value();
  o.gpus = gpus_->value();
  o.partition = partition_->text();
  o.wallTime = wallTime_->text();
  o.snapshotInterval_s = snapshotInterval_->value();
  if (!bus_.workbench().scan()) {
    problem_->setText(tr("Open a scan first."));
    return false;
  }
  QString why;
  QMetaObject::Connection rejected =
      connect(&bus_, &CommandBus::commandRejected, this,
              [&why](const QString&, const QString& reason) { why = reason; });
  const bool ok = bus_.submitJob(jobs_.submitArguments(agent(), o));
  disconnect(rejected);
  if (!ok) problem_->setText(why);
  return ok;
}

}  // namespace ptyx::app
