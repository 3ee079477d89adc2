#include "experiments/figures/paper_style.h"

#include <vector>

#include "core/tensor/error.h"

namespace attnlab::fig {

namespace {

// Nine evenly spaced samples of each map (matplotlib's viridis and magma, ColorBrewer RdBu
// reversed so that low = red, high = blue as in matplotlib); QCPColorGradient interpolates.
const std::vector<const char*> kViridis = {"#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
                                           "#28ae80", "#5ec962", "#addc30", "#fde725"};
const std::vector<const char*> kMagma = {"#000004", "#1c1044", "#4f127b", "#812581", "#b5367a",
                                         "#e55064", "#fb8761", "#fec287", "#fcfdbf"};
const std::vector<const char*> kRdBu = {"#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
                                        "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"};
const char* kTab10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const std::vector<const char*>& stops(const std::string& name) {
  if (name == "viridis") return kViridis;
  if (name == "magma") return kMagma;
  if (name == "RdBu" || name == "rdbu") return kRdBu;
  throw Error("unknown colour map '" + name + "' (viridis, magma, RdBu)");
}

QFont font(const PaperStyle& s, double pt) {
  QFont f(s.font_family);
  f.setPointSizeF(pt);
  return f;
}

}  // namespace

const PaperStyle& paper_style() {
  static const PaperStyle s;
  return s;
}

void style_axis(QCPAxis* axis, const PaperStyle& s) {
  QPen pen(Qt::black, s.axis_width);
  axis->setBasePen(pen);
  axis->setTickPen(pen);
  axis->setSubTickPen(pen);
  axis->setTickLabelFont(font(s, s.tick_pt));
  axis->setLabelFont(font(s, s.label_pt));
  axis->setTickLengthIn(3);
  axis->setSubTickLengthIn(1);
  axis->grid()->setPen(QPen(QColor(0, 0, 0, 30), 0.5, Qt::SolidLine));
  axis->grid()->setSubGridVisible(false);
}

void apply_paper_style(QCustomPlot& plot, const PaperStyle& s) {
  plot.setBackground(Qt::white);
  plot.setFont(font(s, s.tick_pt));
  for (QCPAxisRect* rect : plot.axisRects())
    for (QCPAxis* a : rect->axes()) style_axis(a, s);
  plot.legend->setFont(font(s, s.legend_pt));
  plot.legend->setBorderPen(QPen(QColor(0, 0, 0, 60), 0.5));
  plot.legend->setBrush(QColor(255, 255, 255, 220));
  plot.legend->setIconSize(14, 6);
}

QColor series_color(int i) { return QColor(kTab10[((i % 10) + 10) % 10]); }

QCPColorGradient colormap(const std::string& name) {
  const auto& st = stops(name);
  QCPColorGradient g;
  g.clearColorStops();
  for (size_t i = 0; i < st.size(); ++i) g.setColorStopAt(double(i) / (st.size() - 1), QColor(st[i]));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  g.setLevelCount(256);
  return g;
}

QColor colormap_color(const std::string& name, double t) {
  const auto& st = stops(name);
  t = std::clamp(t, 0.0, 1.0) * (st.size() - 1);
  size_t i = std::min(st.size() - 2, size_t(t));
  double f = t - i;
  QColor a(st[i]), b(st[i + 1]);
  return QColor::fromRgbF(a.redF() + f * (b.redF() - a.redF()), a.greenF() + f * (b.greenF() - a.greenF()),
                          a.blueF() + f * (b.blueF() - a.blueF()));
}

}  // namespace attnlab::fig
