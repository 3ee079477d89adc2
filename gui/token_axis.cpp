#include "gui/token_axis.h"

#include <QFontMetrics>
#include <cmath>

namespace attnlab::gui {

QString token_tick_label(int position, const QString& token) {
  return QString("%1:«%2»").arg(position).arg(token);
}

int token_label_pitch(const QCPAxis* axis) {
  return QFontMetrics(axis->tickLabelFont()).height() + 3;
}

bool update_token_ticks(QCPAxis* axis, const QStringList& labels) {
  auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(axis->ticker());
  if (!ticker) {
    ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    axis->setTicker(ticker);
  }
  const int T = labels.size();
  if (T == 0) {
    const bool changed = !ticker->ticks().isEmpty();
    ticker->clear();
    return changed;
  }
  const QCPRange r = axis->range();
  const double pixels = axis->orientation() == Qt::Horizontal ? axis->axisRect()->width()
                                                              : axis->axisRect()->height();
  const double visible = std::max(1.0, r.size());
  const int fit = std::max(1, int(pixels / token_label_pitch(axis)));
  // Steps of 1, 2, 5, 10, 20, 50, ... keep the labelled positions easy to read.
  int step = 1;
  for (int base = 1; visible / step > fit; base *= 10) {
    for (int m : {1, 2, 5}) {
      step = m * base;
      if (visible / step <= fit) break;
    }
  }
  const int first = std::max(0, int(std::ceil(r.lower / step)) * step);
  const int last = std::min(T - 1, int(std::floor(r.upper)));
  QMap<double, QString> ticks;
  for (int i = first; i <= last; i += step) {
    const QString& tok = labels[i];
    ticks.insert(i, token_tick_label(i, tok));
  }
  if (ticks == ticker->ticks()) return false;
  ticker->setTicks(ticks);
  return true;
}

}  // namespace attnlab::gui
