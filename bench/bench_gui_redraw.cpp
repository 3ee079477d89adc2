// How fluid the attention map is: time to switch heads (materialize the head's T x T map,
// colour it, side panels, replot) and to redraw the map after a zoom/pan, at T = 512 and 2048.
// Target: under 50 ms each. Models: stories260K-shaped (5 layers x 8 heads, d_model 64), random
// weights, context 2048, so both lengths use the same model. Usage: bench_gui_redraw [reps]
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <qcustomplot.h>

#include "core/model/transformer.h"
#include "core/tensor/rng.h"
#include "experiments/figures/export.h"
#include "gui/attention_capture.h"
#include "gui/attention_map_view.h"
#include "gui/pattern_image.h"

using namespace attnlab;
using namespace attnlab::gui;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(3, std::atoi(argv[1])) : 9;
  fig::ensure_qt_app();
  ModelConfig c = preset_config("tiny");
  c.vocab_size = 512;
  c.d_model = 64;
  c.n_layers = 5;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.d_ff = 172;
  c.context = 2048;
  auto model = std::make_shared<Transformer>(c);
  model->init_weights(1);

  AttentionMapView view;
  view.resize(1000, 900);
  view.show();
  QApplication::processEvents();

  std::printf("attention map redraw, %s, view %dx%d, median of %d\n", "5 layers x 8 heads, d_model 64",
              view.width(), view.height(), reps);
  std::printf("%6s %12s %12s %12s %12s %12s\n", "T", "pattern ms", "image ms", "switch ms", "redraw ms", "zoomed ms");
  for (int T : {512, 2048}) {
    Rng rng(T);
    std::vector<int32_t> tokens(T);
    for (int32_t& t : tokens) t = int32_t(rng.below(c.vocab_size));
    auto run = CapturedForward::run(model, tokens);
    QStringList labels;
    for (int i = 0; i < T; ++i) labels << QString("t%1").arg(tokens[i]);
    view.set_tokens(labels);
    view.set_pattern(std::make_shared<HeadPattern>(run->pattern(0, 0)), "warm-up");
    QApplication::processEvents();

    std::vector<double> pat, img, sw, redraw, zoomed;
    QElapsedTimer timer;
    for (int r = 0; r < reps; ++r) {
      const int layer = (r + 1) % c.n_layers, head = (3 * r + 1) % c.n_heads;
      // Head switch as the window does it: materialize, then show (image, panels, replot).
      timer.start();
      auto p = std::make_shared<HeadPattern>(run->pattern(layer, head));
      const double t_pattern = timer.nsecsElapsed() / 1e6;
      view.set_pattern(p, QString("L%1 H%2").arg(layer).arg(head));
      const double t_switch = timer.nsecsElapsed() / 1e6;
      pat.push_back(t_pattern);
      sw.push_back(t_switch);

      timer.start();
      build_pattern_image(*p, auto_scale(*p, r % 2 == 1));
      img.push_back(timer.nsecsElapsed() / 1e6);

      // Redraw of the whole map (a pan by a fraction of a cell keeps the full view).
      QCustomPlot* plot = view.plot();
      timer.start();
      plot->replot(QCustomPlot::rpImmediateRefresh);
      redraw.push_back(timer.nsecsElapsed() / 1e6);

      // Zoomed into a 64 x 64 corner, as after a few wheel steps.
      view.reset_zoom();
      for (QCPAxis* a : plot->axisRects().first()->axes())
        if (a->visible() && a->axisType() != QCPAxis::atRight) a->setRange(T / 2.0, T / 2.0 + 64);
      timer.start();
      plot->replot(QCustomPlot::rpImmediateRefresh);
      zoomed.push_back(timer.nsecsElapsed() / 1e6);
      view.reset_zoom();
    }
    std::printf("%6d %12.1f %12.1f %12.1f %12.1f %12.1f\n", T, median(pat), median(img), median(sw),
                median(redraw), median(zoomed));
  }
  std::printf("switch = materialize the head + image + side panels + replot; target < 50 ms\n");
  return 0;
}
