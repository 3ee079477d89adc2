#include "gui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>

#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "gui/attention_map_view.h"
#include "gui/comparison_figure.h"
#include "gui/sparse_overlay.h"
#include "gui/figure_export.h"
#include "gui/head_dashboard.h"
#include "gui/head_grid_view.h"
#include "gui/job_runner.h"
#include "gui/model_view.h"
#include "gui/prompt_panel.h"
#include "gui/sweep_browser.h"
#include "gui/token_view.h"
#include "gui/train_panel.h"

namespace attnlab::gui {
namespace {
constexpr int kMaxRecent = 8;
constexpr size_t kPatternCache = 6;
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("attnlab");
  setAcceptDrops(true);
  resize(1400, 900);
  jobs_ = new JobRunner(this);
  map_jobs_ = new JobRunner(this);
  compare_jobs_ = new JobRunner(this);

  map_ = new AttentionMapView;
  compare_ = new AttentionMapView;
  diff_ = new AttentionMapView;
  compare_->hide();
  diff_->hide();
  compare_->set_pattern_chooser_visible(false);
  diff_->set_pattern_chooser_visible(false);
  connect(map_, &AttentionMapView::pattern_requested, this, &MainWindow::apply_sparse_pattern);
  maps_ = new QSplitter(Qt::Horizontal);
  // Equal widths for A, B and A - B: the splitter ignores each view's size hint (which follows
  // its labels) so the three maps come out the same size.
  for (AttentionMapView* v : {map_, compare_, diff_}) {
    v->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    maps_->addWidget(v);
  }
  for (int i = 0; i < 3; ++i) maps_->setStretchFactor(i, 1);
  train_ = new TrainPanel;
  sweeps_ = new SweepBrowser;
  tabs_ = new QTabWidget;
  model_view_ = new ModelView;
  tabs_->addTab(maps_, "Explore");
  tabs_->addTab(model_view_, "Model");
  dashboard_ = new HeadDashboard;
  tabs_->addTab(dashboard_, "Head dashboard");
  tabs_->addTab(train_, "Train");
  tabs_->addTab(sweeps_, "Sweeps");
  setCentralWidget(tabs_);
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::on_tab_changed);

  prompt_ = new PromptPanel;
  grid_ = new HeadGridView;
  tokens_ = new TokenView;
  auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(title);
    d->setWidget(w);
    d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                   QDockWidget::DockWidgetClosable);
    addDockWidget(area, d);
    docks_ << d;
    return d;
  };
  dock("Model and prompt", prompt_, Qt::LeftDockWidgetArea);
  dock("Heads", grid_, Qt::LeftDockWidgetArea);
  dock("Token view", tokens_, Qt::RightDockWidgetArea);

  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(220);
  progress_->setTextVisible(false);
  progress_->hide();
  cancel_ = new QPushButton("Cancel");
  cancel_->hide();
  status_label_ = new QLabel("Open a model to start (File › Open, drag and drop, or a path on the command line).");
  statusBar()->addWidget(status_label_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, jobs_, &JobRunner::cancel);
  connect(jobs_, &JobRunner::started, this, [this](const QString& label) {
    status_label_->setText(label + "…");
    progress_->setValue(0);
    progress_->show();
    cancel_->show();
  });
  connect(jobs_, &JobRunner::progress, this, [this](double f) { progress_->setValue(int(f * 1000)); });
  connect(jobs_, &JobRunner::idle, this, [this] {
    progress_->hide();
    cancel_->hide();
  });

  connect(prompt_, &PromptPanel::open_requested, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open model", QString(),
                                                      QString::fromStdString(model_file_filter()));
    if (!path.isEmpty()) open_model(path);
  });
  connect(prompt_, &PromptPanel::tokens_ready, this, &MainWindow::run_prompt);
  connect(prompt_, &PromptPanel::token_clicked, tokens_, &TokenView::set_query);
  connect(grid_, &HeadGridView::head_clicked, this, &MainWindow::select_head);
  connect(grid_, &HeadGridView::compare_clicked, this, &MainWindow::compare_head);
  connect(model_view_, &ModelView::head_clicked, this, [this](int l, int h) {
    select_head(l, h);
    tabs_->setCurrentWidget(maps_);
  });
  connect(model_view_, &ModelView::compare_clicked, this, [this](int l, int h) {
    compare_head(l, h);
    tabs_->setCurrentWidget(maps_);
  });
  for (AttentionMapView* v : {map_, compare_, diff_}) {
    connect(v, &AttentionMapView::failed, this, [this](const QString& e) { show_error("Cannot draw the head", e); });
    connect(v, &AttentionMapView::hovered, status_label_, &QLabel::setText);
    // One crosshair across A, B and A - B.
    connect(v, &AttentionMapView::cell_hovered, this, [this, v](int t, int j) {
      for (AttentionMapView* other : {map_, compare_, diff_})
        if (other != v && other->isVisible()) other->set_crosshair(t, j);
    });
    connect(v, &AttentionMapView::cell_clicked, this, [this](int t, int j) {
      tokens_->set_key(j);
      tokens_->set_query(t);
    });
  }
  connect(sweeps_, &SweepBrowser::open_checkpoint, this, &MainWindow::open_model);
  connect(train_, &TrainPanel::open_checkpoint, this, &MainWindow::open_model);
  connect(train_, &TrainPanel::failed, this, [this](const QString& e) { show_error("Training failed", e); });
  connect(sweeps_, &SweepBrowser::failed, this, [this](const QString& e) { show_error("Cannot read the store", e); });

  build_menus();
}

MainWindow::~MainWindow() = default;

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  QAction* open = file->addAction("&Open model…", this, [this] { emit prompt_->open_requested(); });
  open->setShortcut(QKeySequence::Open);
  recent_menu_ = file->addMenu("Open &recent");
  refresh_recent_menu();
  file->addAction("Open a second model to &compare…", this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open a second model", QString(),
                                                      QString::fromStdString(model_file_filter()));
    if (!path.isEmpty()) open_second_model(path);
  });
  file->addAction("Close the second model", this, &MainWindow::close_second_model);
  file->addSeparator();
  QMenu* exp = file->addMenu("&Export figure");
  QMenu* copy = file->addMenu("&Copy figure");
  struct View {
    QString name;
    std::function<QCustomPlot*()> plot;
    std::function<QString()> csv;
  };
  const QList<View> views = {
      {"attention map", [this] { return map_->plot(); }, [this] { return map_->csv(); }},
      {"comparison map (B)", [this] { return compare_->plot(); },
       [this] { return compare_->csv(); }},
      {"difference map (A − B)", [this] { return diff_->plot(); }, [this] { return diff_->csv(); }},
      {"head grid", [this] { return grid_->plot(); }, [this] { return grid_->csv(); }},
      {"token view", [this] { return tokens_->plot(); }, [this] { return tokens_->csv(); }},
      {"model view", [this] { return model_view_->plot(); }, [this] { return model_view_->csv(); }},
      {"training curves", [this] { return train_->plot(); }, [this] { return train_->csv(); }},
      {"sweep plot", [this] { return sweeps_->plot(); }, [this] { return sweeps_->csv(); }},
  };
  for (const View& v : views) {
    exp->addAction(v.name + "…", this, [this, v] { export_dialog(v.plot(), v.csv, v.name); });
    copy->addAction(v.name, this, [v] { copy_plot_to_clipboard(v.plot()); });
  }
  exp->addAction("comparison: A, B and A − B…", this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Export the comparison",
                                                      "comparison.pdf", figure_file_filter());
    if (path.isEmpty()) return;
    try {
      export_comparison(path);
      status_label_->setText("Exported " + path);
    } catch (const std::exception& e) {
      show_error("Export failed", e.what());
    }
  });
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  QMenu* view = menuBar()->addMenu("&View");
  log_action_ = view->addAction("&Log colour scale");
  log_action_->setCheckable(true);
  connect(log_action_, &QAction::toggled, this, &MainWindow::set_log_scale);
  compare_action_ = view->addAction("&Compare two heads");
  compare_action_->setCheckable(true);
  connect(compare_action_, &QAction::toggled, this, &MainWindow::set_compare);
  view->addAction("&Fit maps", this, [this] {
    for (AttentionMapView* v : {map_, compare_, diff_}) v->reset_zoom();
  });
  view->addSeparator();
  QMenu* panels = view->addMenu("Side &panels");
  for (QDockWidget* d : docks_) panels->addAction(d->toggleViewAction());
  QMenu* size = view->addMenu("Export &size");
  auto* sizes = new QActionGroup(this);
  for (auto [name, inches] : {std::pair{"single column (3.5 in)", kSingleColumnIn},
                              std::pair{"double column (7 in)", kDoubleColumnIn}}) {
    QAction* a =
        size->addAction(name, this, [this, inches = inches] { export_size_.width_in = inches; });
    a->setCheckable(true);
    a->setChecked(inches == export_size_.width_in);
    sizes->addAction(a);
  }
  size->addSeparator();
  auto* dpis = new QActionGroup(this);
  for (int dpi : {150, 300, 600}) {
    QAction* a = size->addAction(QString("PNG at %1 dpi").arg(dpi), this,
                                 [this, dpi] { export_size_.dpi = dpi; });
    a->setCheckable(true);
    a->setChecked(dpi == export_size_.dpi);
    dpis->addAction(a);
  }
}

void MainWindow::show_error(const QString& title, const QString& text) {
  // Non-blocking: the app keeps running (and tests can find and close the box).
  if (error_box_) error_box_->close();
  auto* box = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setWindowModality(Qt::WindowModal);
  error_box_ = box;
  box->open();
  status_label_->setText(title + ": " + text);
}

void MainWindow::open_model(const QString& path) {
  auto result = std::make_shared<OpenedModel>();
  const std::string p = path.toStdString();
  jobs_->submit(
      "Opening " + QFileInfo(path).fileName(),
      [result, p](JobControl& c) {
        c.progress(0.1);
        *result = open_model_file(p);
        c.progress(1.0);
      },
      [this, result, path](const QString& error, bool cancelled) {
        if (cancelled) return;
        if (!error.isEmpty()) return show_error("Cannot open model", error);
        model_ = std::move(*result);
        capture_.reset();
        pattern_cache_.clear();
        grid_->clear();
        model_view_->clear();
        for (AttentionMapView* v : {map_, compare_, diff_}) v->clear();
        tokens_->set_source(nullptr, {});
        if (error_box_) error_box_->close();  // an earlier failure no longer applies
        add_recent(path);
        setWindowTitle("attnlab — " + QFileInfo(path).fileName());
        status_label_->setText("Opened " + QString::fromStdString(model_.summary));
        const ModelConfig& c = model_.model->config();
        prompt_->set_model(QString::fromStdString(model_.summary), model_.codec, c.context, model_.bos);
        dashboard_->set_model(model_.model, model_.codec, model_.bos);
        if (prompt_->tokens().empty()) write_default_prompt();
      });
}

void MainWindow::write_default_prompt() {
  auto model = model_.model;
  if (!model) return;
  const int bos = model_.bos >= 0 ? model_.bos : 0;
  const int context = model->config().context;
  auto ids = std::make_shared<std::vector<int32_t>>();
  jobs_->submit(
      "Writing a default prompt",
      [model, bos, context, ids](JobControl&) {
        SampleOptions o;
        o.max_new = std::min(context - 1, 40);
        o.temperature = 0.8f;
        o.seed = 7;
        *ids = {bos};
        const std::vector<int32_t> text = generate(*model, *ids, o);
        ids->insert(ids->end(), text.begin(), text.end());
      },
      [this, model, ids](const QString& error, bool cancelled) {
        if (cancelled || model != model_.model || !prompt_->tokens().empty())
          return;  // typed meanwhile
        if (!error.isEmpty()) return show_error("Cannot write a default prompt", error);
        prompt_->set_tokens(
            *ids,
            QString(
                "%1 tokens of the model's own text (sampled at temperature 0.8); type to replace")
                .arg(ids->size()));
      });
}

void MainWindow::open_second_model(const QString& path) {
  auto result = std::make_shared<OpenedModel>();
  const std::string p = path.toStdString();
  jobs_->submit(
      "Opening " + QFileInfo(path).fileName() + " to compare",
      [result, p](JobControl&) { *result = open_model_file(p); },
      [this, result](const QString& error, bool cancelled) {
        if (cancelled) return;
        if (!error.isEmpty()) return show_error("Cannot open the second model", error);
        second_model_ = std::move(*result);
        second_capture_.reset();
        pattern_cache_.clear();
        status_label_->setText("Comparing with " + QString::fromStdString(second_model_.summary));
        run_prompt(prompt_->tokens(), prompt_->labels());  // opens the comparison when done
      });
}

void MainWindow::close_second_model() {
  second_model_ = OpenedModel{};
  second_capture_.reset();
  pattern_cache_.clear();
  compare_->clear();
  set_compare(false);
}

void MainWindow::run_prompt(const std::vector<int32_t>& tokens, const QStringList& labels) {
  if (!model_.model || tokens.empty()) return;
  struct Result {
    std::shared_ptr<const CapturedForward> capture, second;
    MetricGrid grid;
  };
  auto result = std::make_shared<Result>();
  auto model = model_.model;
  auto second = second_model_.model;
  jobs_->submit(
      QString("Analysing %1 tokens").arg(tokens.size()),
      [result, model, second, tokens](JobControl& c) {
        result->capture = CapturedForward::run(model, tokens, &c.cancel, [&c](double f) { c.progress(0.3 * f); });
        result->grid = compute_metric_grid(*result->capture, &c.cancel, [&c](double f) { c.progress(0.3 + 0.6 * f); });
        if (second) {
          for (int32_t t : tokens)
            if (t >= second->config().vocab_size)
              throw Error("the second model's vocabulary has " + std::to_string(second->config().vocab_size) +
                          " tokens; this prompt uses token " + std::to_string(t));
          result->second = CapturedForward::run(second, tokens, &c.cancel);
        }
      },
      [this, result, labels](const QString& error, bool cancelled) {
        if (cancelled) return;
        if (!error.isEmpty()) return show_error("Cannot analyse the prompt", error);
        capture_ = result->capture;
        second_capture_ = result->second;
        labels_ = labels;
        pattern_cache_.clear();
        map_->set_tokens(labels_);
        compare_->set_tokens(labels_);
        diff_->set_tokens(labels_);
        grid_->set_grid(result->grid);
        update_sparse_grid();  // a chosen pattern's recall, on the new prompt
        model_view_->set_source(capture_);
        tokens_->set_source(capture_, labels_);
        layer_ = std::min(layer_, capture_->n_layers() - 1);
        head_ = std::min(head_, capture_->n_heads() - 1);
        select_head(layer_, head_);  // with a second model open, B follows
        if (second_capture_ && !compare_on_)
          set_compare(true);
        else if (compare_on_ && !second_capture_ && compare_layer_ >= 0)
          compare_head(compare_layer_, compare_head_);
        status_label_->setText(QString("%1 tokens analysed: %2 layers × %3 heads")
                                   .arg(capture_->T()).arg(capture_->n_layers()).arg(capture_->n_heads()));
      });
}

void MainWindow::show_head(AttentionMapView* view, JobRunner* runner, int layer, int head, bool second) {
  auto capture = second ? second_capture_ : capture_;
  if (!capture) return;
  if (layer >= capture->n_layers() || head >= capture->n_heads())
    return show_error("No such head", QString("the %1 model has %2 layers × %3 heads")
                                          .arg(second ? "second" : "open").arg(capture->n_layers()).arg(capture->n_heads()));
  QString title = head_title(layer, head);
  // Side by side, titles must fit a third of the width.
  if (compare_on_)
    title = QString("%1 · L%2 H%3").arg(view == map_ ? "A" : "B").arg(layer).arg(head);
  if (second) title += " · " + QFileInfo(QString::fromStdString(second_model_.path)).fileName();
  if (capture->T() > kMaterializedMapMaxT) {  // never T x T: overview and tiles, recomputed
    runner->cancel();
    view->show_long(make_map_tile_source(capture), layer, head, title);
    return;
  }
  const auto key = std::make_tuple(layer, head, view->log_scale(), second);
  auto it = pattern_cache_.find(key);
  if (it != pattern_cache_.end()) {
    runner->cancel();
    view->show_prepared(*it->second, title);
    update_comparison();
    return;
  }
  auto out = std::make_shared<PreparedMap>();
  const bool log = view->log_scale();
  QPointer<AttentionMapView> target(view);
  runner->submit(
      QString("Drawing layer %1, head %2").arg(layer).arg(head),
      [capture, out, layer, head, log](JobControl&) {
        *out = prepare_map(std::make_shared<const HeadPattern>(capture->pattern(layer, head)), log);
      },
      [this, capture, out, key, target, title, second](const QString& error, bool cancelled) {
        if (cancelled || capture != (second ? second_capture_ : capture_)) return;  // superseded
        if (!error.isEmpty()) return show_error("Cannot draw the head", error);
        if (pattern_cache_.size() >= kPatternCache) pattern_cache_.erase(pattern_cache_.begin());
        pattern_cache_[key] = out;
        if (target) target->show_prepared(*out, title);
        update_comparison();
      });
}

void MainWindow::update_comparison() {
  if (!compare_on_) {
    map_->set_shared_top(0);
    return;
  }
  auto a = map_->pattern(), b = compare_->pattern();
  if (!a || !b || a->T != b->T) return diff_->clear();
  const double top = std::max(map_->own_top(), compare_->own_top());
  map_->set_shared_top(top);
  compare_->set_shared_top(top);
  QString name_b = QString("L%1H%2").arg(b->layer).arg(b->head);
  if (second_capture_)
    name_b += " of " + QFileInfo(QString::fromStdString(second_model_.path)).fileName();
  diff_->show_difference(a, b,
                         QString("A − B · L%1H%2 − %3").arg(a->layer).arg(a->head).arg(name_b));
}

void MainWindow::set_log_scale(bool on) {
  if (log_action_->isChecked() != on)
    return log_action_->setChecked(on);  // comes back through toggled
  for (AttentionMapView* v : {map_, compare_, diff_}) v->set_log_scale(on);
  model_view_->set_log_scale(on);
  // Cached heads were coloured at the other setting: redraw A and B on their workers.
  if (capture_) select_head(layer_, head_);
  if (compare_on_ && compare_layer_ >= 0) compare_head(compare_layer_, compare_head_);
}

void MainWindow::on_tab_changed(int index) {
  // The model and prompt, heads and token panels serve the Explore and Model tabs only.
  const bool explore = tabs_->widget(index) != train_ && tabs_->widget(index) != sweeps_;
  if (!explore && !docks_hidden_for_tab_) {
    docks_were_visible_.clear();
    for (QDockWidget* d : docks_) {
      docks_were_visible_ << d->isVisible();
      d->hide();
    }
    docks_hidden_for_tab_ = true;
  } else if (explore && docks_hidden_for_tab_) {
    for (int i = 0; i < docks_.size(); ++i)
      docks_[i]->setVisible(docks_were_visible_.value(i, true));
    docks_hidden_for_tab_ = false;
  }
}

bool MainWindow::wait_idle(int timeout_ms) {
  return jobs_->wait_idle(timeout_ms) && map_jobs_->wait_idle(timeout_ms) &&
         model_view_->wait_idle(timeout_ms) && compare_jobs_->wait_idle(timeout_ms) &&
         map_->wait_idle(timeout_ms) && compare_->wait_idle(timeout_ms) &&
         jobs_->wait_idle(timeout_ms);
}

QString MainWindow::head_title(int layer, int head) const {
  return QString("Layer %1, head %2 · %3 tokens").arg(layer).arg(head).arg(capture_ ? capture_->T() : 0);
}

void MainWindow::select_head(int layer, int head) {
  if (!capture_ || layer < 0 || head < 0 || layer >= capture_->n_layers() || head >= capture_->n_heads()) return;
  layer_ = layer;
  head_ = head;
  show_head(map_, map_jobs_, layer, head, false);
  if (second_capture_ && compare_on_) compare_head(layer, head);
  grid_->mark_selected(layer, head);
  model_view_->mark_selected(layer, head);
  dashboard_->set_head(layer, head);
  tokens_->set_head(layer, head);
  update_sparse_overlay();
}

void MainWindow::apply_sparse_pattern(const QString& spec) {
  sparse_spec_ = spec;
  update_sparse_overlay();
  update_sparse_grid();
}

void MainWindow::update_sparse_overlay() {
  if (sparse_spec_.isEmpty() || !capture_) {
    map_->set_key_overlay({});
    map_->set_pattern_summary({});
    return;
  }
  if (capture_->T() > kMaterializedMapMaxT) {
    map_->set_key_overlay({});
    map_->set_pattern_summary("Sparse patterns are drawn up to " + QString::number(kMaterializedMapMaxT) +
                              " tokens; measure longer prompts with attnlab analyze --probe sparsity");
    return;
  }
  try {
    KeySelection sel = select_keys(*capture_, layer_, head_, sparse_spec_.toStdString());
    map_->set_pattern_summary(QString::fromStdString(describe_selection(sel)));
    map_->set_key_overlay(std::move(sel.keys), std::move(sel.recall));
  } catch (const std::exception& e) {
    map_->set_key_overlay({});
    map_->set_pattern_summary({});
    sparse_spec_.clear();
    show_error("Cannot apply the sparse pattern", e.what());
  }
}

void MainWindow::update_sparse_grid() {
  if (sparse_spec_.isEmpty() || !capture_ || capture_->T() > kMaterializedMapMaxT) return;
  // Every head's recall: L x H selections, on a worker.
  auto capture = capture_;
  auto grid = std::make_shared<MetricGrid>(grid_->grid());
  auto metric = std::make_shared<std::string>();
  const std::string spec = sparse_spec_.toStdString();
  jobs_->submit(
      QString("Recall of %1 per head").arg(sparse_spec_),
      [capture, grid, metric, spec](JobControl& c) { *metric = add_recall_metric(*grid, *capture, spec, &c.cancel); },
      [this, capture, grid, metric](const QString& error, bool cancelled) {
        if (cancelled || capture != capture_) return;
        if (!error.isEmpty()) return show_error("Cannot measure the sparse pattern", error);
        grid_->set_grid(*grid);
        const QString name = QString::fromStdString(*metric);
        grid_->select_metric(name);
        status_label_->setText("The head grid shows " + name + " per head");
      });
}

void MainWindow::compare_head(int layer, int head) {
  if (!capture_ || layer < 0 || head < 0) return;
  if (!compare_action_->isChecked()) compare_action_->setChecked(true);
  compare_layer_ = layer;
  compare_head_ = head;
  auto run = second_capture_ ? second_capture_ : capture_;
  if (layer >= run->n_layers() || head >= run->n_heads())
    return show_head(compare_, compare_jobs_, layer, head, second_capture_ != nullptr);
  if (!second_capture_) grid_->mark_compare(layer, head);
  QString name = QString("L%1 H%2").arg(layer).arg(head);
  if (second_capture_)
    name += " of " + QFileInfo(QString::fromStdString(second_model_.path)).fileName();
  tokens_->set_second(run, layer, head, name);
  show_head(compare_, compare_jobs_, layer, head, second_capture_ != nullptr);
}

void MainWindow::set_compare(bool on) {
  const bool was = compare_on_;
  if (on == was) return;  // also the echo of compare_action_'s toggled signal
  compare_on_ = on;
  for (AttentionMapView* v : {map_, compare_, diff_}) v->set_compact(on);
  compare_->setVisible(on);
  diff_->setVisible(on);
  if (compare_action_->isChecked() != on) compare_action_->setChecked(on);
  if (on != was) maps_->setSizes(on ? QList<int>{1000, 1000, 1000} : QList<int>{1000, 0, 0});
  if (!on) {
    compare_layer_ = compare_head_ = -1;
    grid_->mark_compare(-1, -1);
    tokens_->set_second(nullptr, -1, -1, {});
    diff_->clear();
    update_comparison();
    if (capture_ && was) select_head(layer_, head_);  // drop the "A ·" from the title
    return;
  }
  if (capture_ && !was) select_head(layer_, head_);  // "A ·" in the title
  if (on && second_capture_) {
    compare_head(layer_, head_);  // the same head in the second model
  } else if (on && !compare_->has_head() && capture_) {
    // Start the comparison with the next head, so the two maps differ.
    const int H = capture_->n_heads();
    const int next = layer_ * H + head_ + 1;
    const int total = capture_->n_layers() * H;
    compare_head((next % total) / H, (next % total) % H);
  }
}

double MainWindow::export_height_in(QCustomPlot* plot, double width_in) const {
  // A map keeps its cells square whatever the page: as high as the map and its panels need.
  if (plot == map_->plot() || plot == compare_->plot() || plot == diff_->plot())
    return fitted_height(plot, int(width_in * 96 + 0.5)) / 96.0;
  if (plot == grid_->plot()) return width_in * 0.8;
  if (plot == model_view_->plot()) return width_in * 0.9;
  if (plot == tokens_->plot()) return width_in * 0.55;
  return width_in * 0.62;
}

ComparisonLayout MainWindow::export_comparison(const QString& path) {
  if (!compare_on_ || !compare_->has_head() || !diff_->has_head())
    throw Error(
        "no comparison to export: open a second head (Ctrl+click in the head grid) or a second "
        "model");
  const ComparisonLayout layout = export_comparison_figure(map_, compare_, diff_, path, export_size_);
  const QFileInfo info(path);
  export_csv(diff_->csv(), info.dir().filePath(info.completeBaseName() + ".csv"));
  return layout;
}

void MainWindow::export_named_view(const QString& view, const QString& path) {
  if (view == "compare") {
    export_comparison(path);
    return;
  }
  if (view == "dashboard") {
    if (QFileInfo(path).suffix().toLower() == "csv") return export_csv(dashboard_->csv(), path);
    export_widget(dashboard_, path, export_size_);
    const QFileInfo info(path);
    return export_csv(dashboard_->csv(), info.dir().filePath(info.completeBaseName() + ".csv"));
  }
  QCustomPlot* plot = nullptr;
  QString csv;
  if (view == "map")
    plot = map_->plot(), csv = map_->csv();
  else if (view == "grid")
    plot = grid_->plot(), csv = grid_->csv();
  else if (view == "tokens")
    plot = tokens_->plot(), csv = tokens_->csv();
  else if (view == "model")
    plot = model_view_->plot(), csv = model_view_->csv();
  else
    throw Error("view '" + view.toStdString() + "' cannot be exported");
  export_view(plot, csv, path);
}

void MainWindow::export_view(QCustomPlot* plot, const QString& csv, const QString& path) {
  if (QFileInfo(path).suffix().toLower() == "csv") return export_csv(csv, path);
  const bool map = plot == map_->plot() || plot == compare_->plot() || plot == diff_->plot();
  if (map)
    for (AttentionMapView* v : {map_, compare_, diff_}) v->set_crosshair(-1, -1);  // not the hover
  FigureSize size = export_size_;
  {
    PaperFonts fonts({plot});
    if (size.height_in <= 0) size.height_in = export_height_in(plot, size.width_in);
    export_plot(plot, path, size);
  }
  const QFileInfo info(path);
  export_csv(csv, info.dir().filePath(info.completeBaseName() + ".csv"));
}

void MainWindow::export_dialog(QCustomPlot* plot, std::function<QString()> csv, const QString& name) {
  QString filter;
  QString path = QFileDialog::getSaveFileName(this, "Export " + name, QString(name).replace(' ', '_') + ".pdf",
                                              figure_file_filter(), &filter);
  if (path.isEmpty()) return;
  try {
    export_view(plot, csv(), path);
    status_label_->setText("Exported " + path);
  } catch (const std::exception& e) {
    show_error("Export failed", e.what());
  }
}

void MainWindow::add_recent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value("recent").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue("recent", recent);
  refresh_recent_menu();
}

void MainWindow::refresh_recent_menu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value("recent").toStringList();
  for (const QString& p : recent) recent_menu_->addAction(p, this, [this, p] { open_model(p); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* ev) {
  if (ev->mimeData()->hasUrls()) ev->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* ev) {
  const QList<QUrl> urls = ev->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile()) {
    open_model(urls.first().toLocalFile());
    ev->acceptProposedAction();
  }
}

void MainWindow::closeEvent(QCloseEvent* ev) {
  jobs_->cancel();
  train_->stop();
  QMainWindow::closeEvent(ev);
}

}  // namespace attnlab::gui
