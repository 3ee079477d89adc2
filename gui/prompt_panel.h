#pragma once
// The model and input panel: which model is open, the prompt (tokenized live, tokens shown as
// chips), or a sample drawn from a task. Emits the tokens to analyse after typing pauses.
#include <QStringList>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/token_codec.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTimer;

namespace attnlab::gui {

class TokenChips;

class PromptPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PromptPanel(QWidget* parent = nullptr);

  // The open model's codec, context and BOS policy (bos < 0: none prepended).
  void set_model(const QString& summary, std::shared_ptr<const TokenCodec> codec, int context, int bos);
  void set_prompt(const QString& text);  // as if typed; analysed after the debounce
  QString prompt() const;
  // One sequence of a task drawn at the model's context (the task's len set to it where the
  // task has one and the spec does not).
  void draw_task_sample(const QString& task_spec);
  // Tokens from elsewhere (the model's own text): shown as text and chips, then analysed now.
  void set_tokens(std::vector<int32_t> ids, const QString& note);
  // Analyses the current tokens now instead of after the typing pause (scripted mode).
  void submit_now();

  const std::vector<int32_t>& tokens() const { return tokens_; }
  const QStringList& labels() const { return labels_; }
  TokenChips* chips() const { return chips_; }
  QPlainTextEdit* editor() const { return edit_; }

 signals:
  void open_requested();
  void tokens_ready(const std::vector<int32_t>& tokens, const QStringList& labels);
  void token_clicked(int i);

 private:
  void retokenize();
  void publish(std::vector<int32_t> tokens, QStringList labels, const QString& note);

  QLabel* model_label_;
  QPlainTextEdit* edit_;
  QComboBox* task_box_;
  QLabel* status_;
  TokenChips* chips_;
  QTimer* debounce_;
  std::shared_ptr<const TokenCodec> codec_;
  int context_ = 0, bos_ = -1;
  std::vector<int32_t> tokens_;
  QStringList labels_;
};

}  // namespace attnlab::gui
