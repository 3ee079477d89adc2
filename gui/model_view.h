#pragma once
// The model view (bertviz's, as one figure): every head's pattern as a thumbnail in a layers x
// heads grid, all on one colour scale, so heads compare at a glance; click opens a head,
// Ctrl+click opens it as the comparison's B. The thumbnails (max-pooled |weights|, TilePooler)
// are computed once per prompt on a worker thread with progress and cancel; afterwards drawing is
// one pixmap, so the view stays fluid at T = 512 on a 12 x 12 model.
#include <QImage>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/attention_capture.h"
#include "gui/pattern_image.h"

class QCustomPlot;
class QCPColorScale;
class QCPItemPixmap;
class QCPItemRect;
class QCPTextElement;
class QLabel;
class QProgressBar;
class QPushButton;

namespace attnlab::gui {

class JobRunner;

// One thumbnail per head, side `side` pixels, coloured with one shared scale.
struct ModelThumbnails {
  int n_layers = 0, n_heads = 0, T = 0, side = 0;
  ColorScale scale;              // shared: the largest of the heads' auto-scale tops
  std::vector<double> head_top;  // [layer * n_heads + head]: each head's own top
  std::vector<QImage> images;    // [layer * n_heads + head]
  const QImage& at(int layer, int head) const { return images[size_t(layer * n_heads + head)]; }
};

// Every head of `run` pooled to at most `max_side` pixels a side. Polls `cancel` per head.
ModelThumbnails compute_thumbnails(const CapturedForward& run, int max_side, bool log,
                                   const std::atomic<bool>* cancel = nullptr,
                                   const std::function<void(double)>& progress = {});

class ModelView : public QWidget {
  Q_OBJECT
 public:
  explicit ModelView(QWidget* parent = nullptr);

  void set_source(std::shared_ptr<const CapturedForward> run);  // computes in the background
  void set_log_scale(bool log);
  void mark_selected(int layer, int head);
  void clear();
  const ModelThumbnails& thumbnails() const { return thumbs_; }
  QCustomPlot* plot() const { return plot_; }
  QPoint cell_center(int layer, int head) const;  // in plot() coordinates
  bool wait_idle(int timeout_ms = 30000);
  JobRunner* jobs() const { return jobs_; }
  QString csv() const;  // layer,head,own_top

 signals:
  void head_clicked(int layer, int head);
  void compare_clicked(int layer, int head);

 private:
  void recompute();
  void show_thumbnails(ModelThumbnails t);
  bool cell_at(const QPointF& pos, int& layer, int& head) const;

  std::shared_ptr<const CapturedForward> run_;
  bool log_ = false;
  ModelThumbnails thumbs_;
  JobRunner* jobs_;
  QCustomPlot* plot_;
  QCPTextElement* title_;
  QCPColorScale* scale_;
  QCPItemPixmap* mosaic_;
  QCPItemRect* selection_;
  QProgressBar* progress_;
  QPushButton* cancel_;
  QLabel* status_;
};

}  // namespace attnlab::gui
