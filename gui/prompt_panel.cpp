#include "gui/prompt_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QVBoxLayout>

#include "core/tensor/error.h"
#include "datasets/task_registry.h"
#include "gui/task_at_context.h"
#include "gui/token_chips.h"

namespace attnlab::gui {

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
  auto* open = new QPushButton("Open model…");
  connect(open, &QPushButton::clicked, this, &PromptPanel::open_requested);
  model_label_ = new QLabel("No model open. Open a checkpoint, GGUF, llama2.c .bin or HF folder, "
                            "or drop one on the window.");
  model_label_->setWordWrap(true);
  edit_ = new QPlainTextEdit;
  edit_->setPlaceholderText("Type a prompt…");
  edit_->setMaximumHeight(90);
  task_box_ = new QComboBox;
  task_box_->setToolTip("Draw one sequence from a synthetic task instead of typing");
  for (const TaskInfo& t : task_catalog()) {
    task_box_->addItem(QString::fromStdString(t.name));
    task_box_->setItemData(task_box_->count() - 1, QString::fromStdString(t.summary), Qt::ToolTipRole);
  }
  auto* draw = new QPushButton("Draw sample");
  draw->setEnabled(task_box_->count() > 0);
  connect(draw, &QPushButton::clicked, this, [this] { draw_task_sample(task_box_->currentText()); });
  status_ = new QLabel;
  status_->setWordWrap(true);
  chips_ = new TokenChips;
  auto* scroll = new QScrollArea;
  scroll->setWidget(chips_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumHeight(60);
  connect(chips_, &TokenChips::chip_clicked, this, &PromptPanel::token_clicked);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(250);
  connect(edit_, &QPlainTextEdit::textChanged, this, [this] {
    retokenize();
    debounce_->start();
  });
  connect(debounce_, &QTimer::timeout, this, [this] {
    if (!tokens_.empty()) emit tokens_ready(tokens_, labels_);
  });

  auto* row = new QHBoxLayout;
  row->addWidget(task_box_, 1);
  row->addWidget(draw);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(open);
  layout->addWidget(model_label_);
  layout->addWidget(new QLabel("Prompt"));
  layout->addWidget(edit_);
  layout->addLayout(row);
  layout->addWidget(status_);
  layout->addWidget(scroll, 1);
}

void PromptPanel::set_model(const QString& summary, std::shared_ptr<const TokenCodec> codec, int context, int bos) {
  model_label_->setText(summary);
  codec_ = std::move(codec);
  context_ = context;
  bos_ = bos;
  retokenize();
  // A newly opened model analyses the prompt already there at once.
  if (!tokens_.empty()) emit tokens_ready(tokens_, labels_);
}

void PromptPanel::set_prompt(const QString& text) { edit_->setPlainText(text); }
QString PromptPanel::prompt() const { return edit_->toPlainText(); }

void PromptPanel::publish(std::vector<int32_t> tokens, QStringList labels, const QString& note) {
  tokens_ = std::move(tokens);
  labels_ = std::move(labels);
  chips_->set_tokens(labels_);
  status_->setStyleSheet("");
  status_->setText(note);
}

void PromptPanel::retokenize() {
  if (!codec_) {
    publish({}, {}, "Open a model to tokenize the prompt.");
    return;
  }
  std::vector<int32_t> ids;
  try {
    ids = codec_->encode(edit_->toPlainText().toStdString());
  } catch (const std::exception& e) {
    publish({}, {}, "");
    status_->setStyleSheet("color: #b00020;");
    status_->setText(QString::fromStdString(e.what()));
    return;
  }
  if (bos_ >= 0 && !ids.empty()) ids.insert(ids.begin(), bos_);
  QString note = QString("%1 tokens").arg(ids.size());
  if (context_ > 0 && int(ids.size()) > context_) {
    note += QString(", cut to the model's context of %1").arg(context_);
    ids.resize(context_);
  }
  QStringList labels;
  for (int32_t id : ids)
    labels << QString::fromStdString(display_label(codec_->piece(id)));
  publish(std::move(ids), std::move(labels), note);
}

void PromptPanel::set_tokens(std::vector<int32_t> ids, const QString& note) {
  if (!codec_ || ids.empty()) return;
  QStringList labels;
  std::string text;
  for (int32_t id : ids) {
    const std::string piece = codec_->piece(id);
    labels << QString::fromStdString(display_label(piece));
    if (id != bos_) text += piece;
  }
  edit_->blockSignals(true);
  edit_->setPlainText(QString::fromStdString(text).trimmed());
  edit_->blockSignals(false);
  debounce_->stop();
  publish(std::move(ids), std::move(labels), note);
  emit tokens_ready(tokens_, labels_);
}

void PromptPanel::submit_now() {
  debounce_->stop();
  if (!tokens_.empty()) emit tokens_ready(tokens_, labels_);
}

void PromptPanel::draw_task_sample(const QString& task_spec) {
  try {
    std::unique_ptr<Task> task = make_task_at_context(task_spec.toStdString(), context_);
    Batch batch;
    task->next(batch);
    std::vector<int32_t> ids(batch.tokens.begin(), batch.tokens.begin() + batch.T);
    QString note = QString("sample of %1: %2 tokens").arg(task_spec).arg(ids.size());
    if (context_ > 0 && int(ids.size()) > context_) {
      note += QString(", cut to the model's context of %1").arg(context_);
      ids.resize(context_);
    }
    QStringList labels;
    for (int32_t id : ids) labels << QString::fromStdString(display_label(task->token_text(id)));
    edit_->blockSignals(true);
    edit_->clear();
    edit_->blockSignals(false);
    publish(std::move(ids), std::move(labels), note);
    emit tokens_ready(tokens_, labels_);
  } catch (const std::exception& e) {
    status_->setStyleSheet("color: #b00020;");
    status_->setText(QString::fromStdString(e.what()));
  }
}

}  // namespace attnlab::gui
