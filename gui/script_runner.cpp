#include "gui/script_runner.h"

#include <QApplication>
#include <QMessageBox>
#include <QTabWidget>
#include <QTimer>

#include "core/tensor/error.h"
#include "gui/attention_map_view.h"
#include "gui/head_dashboard.h"
#include "gui/head_grid_view.h"
#include "gui/main_window.h"
#include "gui/model_view.h"
#include "gui/prompt_panel.h"
#include "gui/token_view.h"

namespace attnlab::gui {
namespace {

// Throws the error a step left in the window's error dialog.
void check(MainWindow& w, const char* step) {
  if (!w.wait_idle(120000)) throw Error(std::string(step) + ": timed out");
  if (w.error_box() && w.error_box()->isVisible()) {
    const std::string text = w.error_box()->text().toStdString();
    w.error_box()->close();
    throw Error(std::string(step) + ": " + text);
  }
}

void check_head(MainWindow& w, const HeadRef& h) {
  const auto& c = w.capture();
  if (h.layer >= c->n_layers() || h.head >= c->n_heads())
    throw Error("--head L" + std::to_string(h.layer) + "H" + std::to_string(h.head) +
                ": the model has " + std::to_string(c->n_layers()) + " layers x " +
                std::to_string(c->n_heads()) + " heads");
}

// --metric colours the head grid when it names a grid metric and ranks the dashboard when it
// names a row metric; an error only when it names neither.
void select_metric(MainWindow& w, const QString& name) {
  bool used = false;
  std::string grid_error;
  try {
    w.grid_view()->select_metric_matching(name);
    used = true;
  } catch (const Error& e) {
    grid_error = e.what();
  }
  const auto& rows = row_metric_names();
  for (size_t i = 0; i < rows.size(); ++i)
    if (QString::fromStdString(rows[i]).contains(name, Qt::CaseInsensitive)) {
      w.dashboard()->set_metric(RowMetric(i));
      used = true;
      break;
    }
  if (!used) {
    std::string names;
    for (const auto& r : rows) names += (names.empty() ? "" : ", ") + r;
    throw Error(grid_error + "; the dashboard's metrics are: " + names);
  }
}

}  // namespace

int run_script(MainWindow& w, const ScriptOptions& o, QTextStream& err) {
  try {
    w.set_export_size(FigureSize{o.width_in, 0, o.dpi});
    w.open_model(o.model);
    check(w, "open model");
    if (o.log_scale) w.set_log_scale(true);
    if (!o.prompt.isEmpty()) {
      w.prompt_panel()->set_prompt(o.prompt);
      w.prompt_panel()->submit_now();
    } else if (!o.task.isEmpty()) {
      w.prompt_panel()->draw_task_sample(o.task);
    }
    check(w, "analyse the prompt");
    if (!w.capture()) throw Error("the prompt gave no tokens to analyse");
    if (!o.compare_model.isEmpty()) {
      w.open_second_model(o.compare_model);
      check(w, "open the second model");
    }
    if (o.head) check_head(w, *o.head);
    const HeadRef a = o.head.value_or(HeadRef{});
    w.select_head(a.layer, a.head);
    if (o.compare_head) {
      check_head(w, *o.compare_head);
      w.compare_head(o.compare_head->layer, o.compare_head->head);
    } else if (!o.compare_model.isEmpty()) {
      w.set_compare(true);
      w.compare_head(a.layer, a.head);
    }
    if (!o.pattern.isEmpty()) {
      w.map_view()->set_pattern_spec(o.pattern);
      check(w, "apply the sparse pattern");
    }
    if (!o.metric.isEmpty()) select_metric(w, o.metric);
    if (!o.scan.isEmpty()) {
      w.dashboard()->set_source(o.scan);
      w.dashboard()->set_windows(o.scan_windows);
      w.dashboard()->start_scan();
      if (!w.dashboard()->wait_idle(600000)) throw Error("dashboard scan: timed out");
      if (!w.dashboard()->error().isEmpty())
        throw Error("dashboard scan: " + w.dashboard()->error().toStdString());
    }
    if (o.query >= 0) {
      if (o.query >= w.capture()->T())
        throw Error("--query " + std::to_string(o.query) + ": the prompt has " +
                    std::to_string(w.capture()->T()) + " tokens");
      w.token_view()->set_query(o.query);
    }
    // The screenshot shows the view asked for.
    if (o.view == "model") w.tabs()->setCurrentWidget(w.model_view());
    if (o.view == "dashboard" || (!o.scan.isEmpty() && o.view == "map"))
      w.tabs()->setCurrentWidget(w.dashboard());
    check(w, "draw the heads");
    if (!w.token_view()->wait_idle()) throw Error("token view: timed out");
    QApplication::processEvents();
    if (!o.screenshot.isEmpty()) {
      if (!w.grab().toImage().save(o.screenshot, "PNG"))
        throw Error("cannot write '" + o.screenshot.toStdString() + "'");
    }
    if (!o.export_path.isEmpty()) w.export_named_view(o.view, o.export_path);
    return 0;
  } catch (const std::exception& e) {
    err << "attnlab-gui: " << e.what() << "\n";
    err.flush();
    return 1;
  }
}

void apply_options_async(MainWindow& w, const ScriptOptions& o) {
  if (o.model.isEmpty()) return;
  // Interactive: the same steps, each started once the window is idle, errors in its dialogs.
  QTimer::singleShot(0, &w, [&w, o] {
    QTextStream err(stderr);
    ScriptOptions interactive = o;
    interactive.screenshot.clear();
    interactive.export_path.clear();
    if (run_script(w, interactive, err) != 0) return;
  });
}

}  // namespace attnlab::gui
