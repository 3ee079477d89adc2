#pragma once
// The explorer window: model and prompt panel, head grid and token view in docks, the
// attention map (and a second one to compare) in the centre, training and sweeps in tabs.
// All model work goes through the JobRunner, with progress and cancel in the status bar.
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <map>
#include <memory>
#include <tuple>

#include "gui/attention_capture.h"
#include "gui/comparison_figure.h"
#include "gui/figure_export.h"
#include "gui/head_metrics.h"
#include "gui/model_loading.h"
#include "gui/pattern_image.h"

class QAction;
class QDockWidget;
class QTabWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QSplitter;
class QCustomPlot;

namespace attnlab::gui {

class AttentionMapView;
class HeadGridView;
class JobRunner;
class ModelView;
class HeadDashboard;
class PromptPanel;
class SweepBrowser;
class TokenView;
class TrainPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  void open_model(const QString& path);   // in the background; errors become a dialog
  void select_head(int layer, int head);  // opens the head in the main map
  void compare_head(int layer, int head); // opens it in the second map
  void set_compare(bool on);
  void set_log_scale(bool on);
  // A second model (same tokenizer) whose heads the comparison map shows for the same prompt.
  void open_second_model(const QString& path);
  void close_second_model();
  std::shared_ptr<const CapturedForward> second_capture() const { return second_capture_; }

  // Exports a view's figure (pdf/svg/png, plus the .csv beside it) or its CSV alone, at
  // export_size() whatever the window's size.
  void export_view(QCustomPlot* plot, const QString& csv, const QString& path);
  // A, B and A - B side by side in one figure at a fixed aspect (width x width / 3).
  ComparisonLayout export_comparison(const QString& path);
  // By name (script_views(): map, compare, grid, model, tokens, dashboard); throws attnlab::Error.
  void export_named_view(const QString& view, const QString& path);
  void set_export_size(const FigureSize& size) { export_size_ = size; }
  const FigureSize& export_size() const { return export_size_; }

  AttentionMapView* map_view() const { return map_; }
  AttentionMapView* compare_view() const { return compare_; }
  AttentionMapView* difference_view() const { return diff_; }
  QTabWidget* tabs() const { return tabs_; }
  const QList<QDockWidget*>& docks() const { return docks_; }
  // The comparison's head B (layer -1 when none).
  std::pair<int, int> compare_head_shown() const { return {compare_layer_, compare_head_}; }
  HeadGridView* grid_view() const { return grid_; }
  PromptPanel* prompt_panel() const { return prompt_; }
  TokenView* token_view() const { return tokens_; }
  ModelView* model_view() const { return model_view_; }
  HeadDashboard* dashboard() const { return dashboard_; }
  TrainPanel* train_panel() const { return train_; }
  SweepBrowser* sweep_browser() const { return sweeps_; }
  JobRunner* jobs() const { return jobs_; }
  // Waits until no model work and no head drawing is pending (tests, benchmarks).
  bool wait_idle(int timeout_ms = 30000);
  QMessageBox* error_box() const { return error_box_; }
  std::shared_ptr<const CapturedForward> capture() const { return capture_; }
  const OpenedModel& model() const { return model_; }

 protected:
  void dragEnterEvent(QDragEnterEvent* ev) override;
  void dropEvent(QDropEvent* ev) override;
  void closeEvent(QCloseEvent* ev) override;

 private:
  void build_menus();
  void show_error(const QString& title, const QString& text);
  void run_prompt(const std::vector<int32_t>& tokens, const QStringList& labels);
  void add_recent(const QString& path);
  void refresh_recent_menu();
  void export_dialog(QCustomPlot* plot, std::function<QString()> csv, const QString& name);
  // Shows a head in `view`: from the cache at once, else prepared on `runner`'s worker thread.
  void show_head(AttentionMapView* view, JobRunner* runner, int layer, int head, bool second);
  // After A or B changed: one colour scale for both, the difference map, B in the token view.
  void update_comparison();
  // The sparse pattern chosen above the map: its kept keys outlined on the shown head, and its
  // recall per head added to the head grid (sparse_overlay.h).
  void apply_sparse_pattern(const QString& spec);
  void update_sparse_overlay();
  void update_sparse_grid();
  void write_default_prompt();     // the model's own text, when a model opens without a prompt
  void on_tab_changed(int index);  // side panels hide on the Train and Sweeps tabs
  double export_height_in(QCustomPlot* plot, double width_in) const;
  QString head_title(int layer, int head) const;

  JobRunner* jobs_;
  JobRunner* map_jobs_;      // head drawing, one runner per map so they never cancel each other
  JobRunner* compare_jobs_;
  PromptPanel* prompt_;
  HeadGridView* grid_;
  TokenView* tokens_;
  TrainPanel* train_;
  SweepBrowser* sweeps_;
  AttentionMapView* map_;
  AttentionMapView* compare_;
  AttentionMapView* diff_;
  ModelView* model_view_;
  HeadDashboard* dashboard_;
  QSplitter* maps_;
  QTabWidget* tabs_;
  QList<QDockWidget*> docks_;
  QList<bool> docks_were_visible_;
  bool docks_hidden_for_tab_ = false;
  FigureSize export_size_;
  int compare_layer_ = -1, compare_head_ = -1;
  bool compare_on_ = false;  // A | B | A - B shown (the views' isVisible() is false on other tabs)
  QProgressBar* progress_;
  QPushButton* cancel_;
  QLabel* status_label_;
  QMenu* recent_menu_;
  QAction* compare_action_;
  QAction* log_action_;
  QPointer<QMessageBox> error_box_;

  OpenedModel model_, second_model_;
  std::shared_ptr<const CapturedForward> capture_, second_capture_;
  QStringList labels_;
  int layer_ = 0, head_ = 0;
  // Recently drawn heads of the current captures (layer, head, log scale, second model), so flipping
  // between heads is instant.
  std::map<std::tuple<int, int, bool, bool>, std::shared_ptr<const PreparedMap>> pattern_cache_;
  QString sparse_spec_;  // "" when no sparse pattern is chosen
};

}  // namespace attnlab::gui
