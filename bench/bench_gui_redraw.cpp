// How fluid the attention map is: time to switch heads (materialize the head's T x T map,
// colour it, side panels, replot; the first two on a worker thread as the window does) and to
// redraw the map after a zoom/pan, at T = 512 and 2048.
// Target: under 50 ms each. Models: stories260K-shaped (5 layers x 8 heads, d_model 64), random
// weights, context 2048, so both lengths use the same model. Usage: bench_gui_redraw [reps]
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
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
// "median (min)": on a shared machine the minimum is the cost without interference.
std::string cell(const std::vector<double>& v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f (%.1f)", median(v), *std::min_element(v.begin(), v.end()));
  return buf;
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

  std::printf("attention map redraw, %s, view %dx%d, ms as median (min) of %d\n",
              "5 layers x 8 heads, d_model 64", view.width(), view.height(), reps);
  std::printf("%6s %14s %14s %14s %14s %14s %14s\n", "T", "pattern", "prepare", "UI thread", "switch", "redraw",
              "zoomed");
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

    std::vector<double> pat, prep, ui, sw, redraw, zoomed;
    QElapsedTimer timer;
    for (int r = 0; r < reps; ++r) {
      const int layer = (r + 1) % c.n_layers, head = (3 * r + 1) % c.n_heads;
      // A head switch as the window does it: the head's map and its image and side panels are
      // prepared on a worker thread, then handed to the view (the only part on the UI thread).
      timer.start();
      auto p = std::make_shared<const HeadPattern>(run->pattern(layer, head));
      pat.push_back(timer.nsecsElapsed() / 1e6);
      const bool log = r % 2 == 1;  // alternate linear and log colour scales
      view.set_log_scale(log);
      timer.start();
      PreparedMap m = prepare_map(p, log);
      prep.push_back(timer.nsecsElapsed() / 1e6);
      timer.start();
      view.show_prepared(m, QString("L%1 H%2").arg(layer).arg(head));
      ui.push_back(timer.nsecsElapsed() / 1e6);
      sw.push_back(pat.back() + prep.back() + ui.back());

      // Redraw of the whole map (what every pan step or resize costs).
      QCustomPlot* plot = view.plot();
      timer.start();
      plot->replot(QCustomPlot::rpImmediateRefresh);
      redraw.push_back(timer.nsecsElapsed() / 1e6);

      // Zoomed into a 64 x 64 block, as after a few wheel steps.
      for (QCPAxis* a : plot->axisRects().first()->axes())
        if (a->visible() && a->axisType() != QCPAxis::atRight) a->setRange(T / 2.0, T / 2.0 + 64);
      timer.start();
      plot->replot(QCustomPlot::rpImmediateRefresh);
      zoomed.push_back(timer.nsecsElapsed() / 1e6);
      view.reset_zoom();
    }
    std::printf("%6d %14s %14s %14s %14s %14s %14s\n", T, cell(pat).c_str(), cell(prep).c_str(), cell(ui).c_str(),
                cell(sw).c_str(), cell(redraw).c_str(), cell(zoomed).c_str());
  }
  std::printf("pattern: the variant's T x T map (worker); prepare: image + alpha_k + entropy (worker);\n"
              "UI thread: hand-over + replot; switch = all three; redraw: full-map replot; target < 50 ms\n");
  return 0;
}
