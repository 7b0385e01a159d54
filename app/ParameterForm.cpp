#include "ParameterForm.hpp"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <cmath>

#include "params/ParameterSchema.hpp"

namespace ptyx::app {
namespace {

// A spin box that shows numbers the way the schema writes them (1e-05, 0.0001, 300) instead of
// a fixed count of decimals, so that metres and regularisation constants both read well.
class NumberSpinBox final : public QDoubleSpinBox {
 public:
  explicit NumberSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
    setDecimals(15);
    setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  }
  [[nodiscard]] QString textFromValue(double value) const override {
    return QString::number(value, 'g', 6);
  }
  [[nodiscard]] double valueFromText(const QString& text) const override {
    QString t = text;
    if (!suffix().isEmpty() && t.endsWith(suffix())) t.chop(suffix().size());
    return t.trimmed().toDouble();
  }
  QValidator::State validate(QString& text, int& /*pos*/) const override {
    QString t = text;
    if (!suffix().isEmpty() && t.endsWith(suffix())) t.chop(suffix().size());
    t = t.trimmed();
    if (t.isEmpty() || t == QLatin1String("-") || t.endsWith(QLatin1Char('e')) ||
        t.endsWith(QLatin1String("e-"))) {
      return QValidator::Intermediate;
    }
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok) return QValidator::Invalid;
    return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
  }
};

QString text(const std::string& s) {
  return QString::fromStdString(s);
}

}  // namespace

ParameterForm::ParameterForm(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  std::map<std::string, QFormLayout*> groups;
  for (const auto& spec : reconParameterSchema()) {
    auto& form = groups[spec.group];
    if (!form) {
      auto* box = new QGroupBox(text(spec.group), this);
      box->setObjectName(text("group_" + spec.group));
      form = new QFormLayout(box);
      form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
      outer->addWidget(box);
    }
    const std::string name = spec.name;
    const QString unit = spec.unit.empty() ? QString() : QStringLiteral(" ") + text(spec.unit);
    QWidget* editor = nullptr;
    QWidget* row = nullptr;
    switch (spec.kind) {
      case ParameterSpec::Kind::Integer: {
        auto* box = new QSpinBox(this);
        box->setRange(static_cast<int>(std::max<double>(spec.minimum, INT_MIN)),
                      static_cast<int>(std::min<double>(spec.maximum, INT_MAX)));
        box->setSuffix(unit);
        box->setKeyboardTracking(false);
        connect(box, &QSpinBox::valueChanged, this,
                [this, name](int v) { report(name, QString::number(v)); });
        editor = box;
        break;
      }
      case ParameterSpec::Kind::Real: {
        auto* box = new NumberSpinBox(this);
        box->setRange(spec.minimum, spec.maximum);
        box->setSuffix(unit);
        box->setKeyboardTracking(false);
        connect(box, &QDoubleSpinBox::valueChanged, this, [this, name](double v) {
          // The shortest text that reads back to v: "0.85", not "0.84999999999999998".
          report(name, QString::number(v, 'g', QLocale::FloatingPointShortest));
        });
        editor = box;
        break;
      }
      case ParameterSpec::Kind::Choice: {
        auto* box = new QComboBox(this);
        for (const auto& c : spec.choices) box->addItem(text(c));
        connect(box, &QComboBox::currentTextChanged, this,
                [this, name](const QString& v) { report(name, v); });
        editor = box;
        break;
      }
      case ParameterSpec::Kind::Text: {
        auto* edit = new QLineEdit(this);
        connect(edit, &QLineEdit::editingFinished, this,
                [this, name, edit] { report(name, edit->text()); });
        auto* browse = new QToolButton(this);
        browse->setText(QStringLiteral("…"));
        browse->setToolTip(tr("Choose a file"));
        connect(browse, &QToolButton::clicked, this, [this, name, edit] {
          const QString path =
              QFileDialog::getOpenFileName(this, tr("Choose a file"), edit->text(),
                                           tr("CXI/HDF5 (*.cxi *.h5 *.hdf5);;All files (*)"));
          if (path.isEmpty()) return;
          edit->setText(path);
          report(name, path);
        });
        row = new QWidget(this);
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        h->addWidget(edit);
        h->addWidget(browse);
        editor = edit;
        break;
      }
    }
    editor->setObjectName(text("param_" + name));
    const QString help =
        text(spec.help) +
        (spec.unit.empty() ? QString() : QStringLiteral(" [%1]").arg(text(spec.unit)));
    editor->setToolTip(help);
    editors_[name] = editor;
    auto* label = new QLabel(text(name), this);
    label->setToolTip(help);
    form->addRow(label, row ? row : editor);
  }
  outer->addStretch(1);
  setValues(ReconParams{});
}

QWidget* ParameterForm::editor(const std::string& name) const {
  const auto it = editors_.find(name);
  return it == editors_.end() ? nullptr : it->second;
}

void ParameterForm::report(const std::string& name, const QString& value) {
  if (!updating_) emit edited(QString::fromStdString(name), value);
}

void ParameterForm::setValues(const ReconParams& params) {
  updating_ = true;
  for (const auto& spec : reconParameterSchema()) {
    QWidget* w = editors_.at(spec.name);
    const QString value = QString::fromStdString(spec.get(params));
    if (auto* i = qobject_cast<QSpinBox*>(w)) {
      i->setValue(value.toInt());
    } else if (auto* d = qobject_cast<QDoubleSpinBox*>(w)) {
      d->setValue(value.toDouble());
    } else if (auto* c = qobject_cast<QComboBox*>(w)) {
      c->setCurrentText(value);
    } else if (auto* e = qobject_cast<QLineEdit*>(w)) {
      if (e->text() != value) e->setText(value);
    }
  }
  updating_ = false;
}

}  // namespace ptyx::app
