#pragma once
// Tokens drawn as chips that wrap like text: the prompt as the model sees it. Optional
// per-token weights tint each chip (the token view's "highlighted text"); clicking a chip
// selects that position. One widget paints every chip, so 2048 tokens cost one paint.
#include <QStringList>
#include <QWidget>
#include <vector>

namespace attnlab::gui {

class TokenChips : public QWidget {
  Q_OBJECT
 public:
  explicit TokenChips(QWidget* parent = nullptr);

  void set_tokens(const QStringList& labels, const std::vector<int>& ids = {});
  void set_weights(const std::vector<double>& w);  // empty: no tint; values scaled by their max
  void set_selected(int i);
  int selected() const { return selected_; }
  int count() const { return labels_.size(); }
  QRect chip_rect(int i) const;
  // The shading of a chip at fraction f of the largest weight (white to amber), and a legend
  // (swatches from 0 to wmax) saying what the shading shows.
  static QColor tint(double f);
  static QString legend_html(double wmax, const QString& what);

  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int w) const override;
  QSize sizeHint() const override;

 signals:
  void chip_clicked(int i);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* ev) override;
  void resizeEvent(QResizeEvent*) override;

 private:
  void relayout(int width);
  QStringList labels_;
  std::vector<int> ids_;
  std::vector<double> weights_;
  std::vector<QRect> rects_;
  int selected_ = -1;
  int laid_out_width_ = -1;
};

}  // namespace attnlab::gui
