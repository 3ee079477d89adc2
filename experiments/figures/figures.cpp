#include "experiments/figures/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "analysis/sequence_mean.h"
#include "core/io/atomic_write.h"
#include "core/tensor/error.h"
#include "experiments/figures/export.h"
#include "experiments/figures/paper_style.h"
#include "experiments/store/export.h"

namespace attnlab::fig {

using exp::HeadRow;
using exp::RunRecord;
using exp::Store;

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.8g", v);
  return buf;
}

std::vector<RunRecord> selected(Store& store, const FigureRequest& req) {
  auto runs = exp::select_runs(store, req.filters);
  if (runs.empty()) throw Error("no runs in " + store.path() + " match the filters");
  return runs;
}

std::string group_field(const std::vector<RunRecord>& runs, const FigureRequest& req) {
  if (!req.group_by.empty()) return req.group_by;
  for (const std::string& f : exp::varying_fields(runs))
    if (f != "seed") return f;
  return "";
}

// One run's series of `metric`: scalars as stored, per-head metrics reduced over heads
// (or one head if layer/head are given).
std::map<int64_t, double> series(Store& store, const std::string& run, const FigureRequest& req) {
  std::map<int64_t, double> out;
  auto sc = store.scalars(run, req.metric);
  if (!sc.empty()) {
    for (const auto& s : sc) out[s.step] = s.value;
    return out;
  }
  std::map<int64_t, std::vector<double>> by_step;
  for (const HeadRow& h : store.head_metrics(run, req.metric)) {
    if (req.layer >= 0 && h.layer != req.layer) continue;
    if (req.head >= 0 && h.head != req.head) continue;
    by_step[h.step].push_back(h.value);
  }
  for (const auto& [step, v] : by_step) {
    if (req.reduce == "max")
      out[step] = *std::max_element(v.begin(), v.end());
    else if (req.reduce == "mean")
      out[step] = exp::stat_of(v).mean;
    else
      throw Error("--reduce must be mean or max, got '" + req.reduce + "'");
  }
  return out;
}

struct Spread {
  double mean, lo, hi;
  int n;
};

Spread spread(const std::vector<double>& v, const std::string& band) {
  exp::Stat s = exp::stat_of(v);
  if (band == "ci95") {
    // The 95 % t-interval of the mean over seeds; one seed has none (drawn as the line alone).
    const double h = s.n >= 2 ? ci95_half_width(s.sd, s.n) : 0.0;
    return {s.mean, s.mean - h, s.mean + h, s.n};
  }
  if (band == "sd") return {s.mean, s.mean - s.sd, s.mean + s.sd, s.n};
  if (band == "minmax") return {s.mean, s.min, s.max, s.n};
  if (band == "none") return {s.mean, s.mean, s.mean, s.n};
  throw Error("--band must be ci95, sd, minmax or none, got '" + band + "'");
}

struct LineData {
  std::string field;
  std::vector<std::string> groups;
  std::vector<std::vector<std::pair<int64_t, Spread>>> points;  // per group
};

LineData line_data(Store& store, const FigureRequest& req, bool final_only) {
  exp::check_metrics(store, {req.metric});
  auto runs = selected(store, req);
  LineData d;
  d.field = group_field(runs, req);
  std::map<std::string, std::map<int64_t, std::vector<double>>> acc;
  std::vector<std::string> order;
  for (const RunRecord& r : runs) {
    std::string g = d.field.empty() ? "all" : exp::field_value(r, d.field);
    if (!acc.count(g)) order.push_back(g);
    auto s = series(store, r.id, req);
    if (s.empty()) continue;
    if (final_only)
      acc[g][0].push_back(s.rbegin()->second);
    else
      for (const auto& [step, v] : s) acc[g][step].push_back(v);
  }
  for (const std::string& g : order) {
    d.groups.push_back(g);
    std::vector<std::pair<int64_t, Spread>> pts;
    for (const auto& [step, v] : acc[g]) pts.emplace_back(step, spread(v, req.band));
    d.points.push_back(pts);
  }
  return d;
}

struct Grid {
  int rows = 0, cols = 0;
  std::vector<double> v;  // row-major
  int64_t step = 0;
};

Grid heatmap_data(Store& store, const FigureRequest& req) {
  exp::check_metrics(store, {req.metric});
  auto runs = selected(store, req);
  std::map<std::pair<int, int>, std::vector<double>> acc;
  Grid g;
  for (const RunRecord& r : runs) {
    auto rows = store.head_metrics(r.id, req.metric);
    if (rows.empty()) continue;
    int64_t step = req.step >= 0 ? req.step : rows.back().step;
    g.step = step;
    for (const HeadRow& h : rows)
      if (h.step == step) acc[{h.layer, h.head}].push_back(h.value);
  }
  if (acc.empty()) throw Error("no per-head values of '" + req.metric + "' for the selected runs" +
                               (req.step >= 0 ? " at step " + std::to_string(req.step) : ""));
  for (const auto& [k, v] : acc) {
    g.rows = std::max(g.rows, k.first + 1);
    g.cols = std::max(g.cols, k.second + 1);
  }
  g.v.assign(size_t(g.rows) * g.cols, NAN);
  for (const auto& [k, v] : acc) g.v[size_t(k.first) * g.cols + k.second] = exp::stat_of(v).mean;
  return g;
}

exp::AttentionMap attention_data(Store& store, const FigureRequest& req) {
  std::string run = req.run;
  if (run.empty()) run = selected(store, req).front().id;
  auto maps = store.attention_maps(run);
  if (maps.empty()) throw Error("run " + run + " has no stored attention maps (probes.attention_maps = true stores them)");
  int layer = std::max(0, req.layer), head = std::max(0, req.head);
  int64_t step = req.step >= 0 ? req.step : maps.back().step;
  for (auto& m : maps)
    if (m.layer == layer && m.head == head && m.step == step) return m;
  throw Error("run " + run + " has no attention map for layer " + std::to_string(layer) + " head " +
              std::to_string(head) + " at step " + std::to_string(step));
}

std::string metric_label(Store& store, const FigureRequest& req) {
  std::string s = req.metric;
  auto scal = store.scalar_names();
  bool per_head = std::find(scal.begin(), scal.end(), req.metric) == scal.end();
  if (per_head && (req.layer >= 0 || req.head >= 0))
    s += " (L" + std::to_string(std::max(0, req.layer)) + "H" + std::to_string(std::max(0, req.head)) + ")";
  return s;
}

void add_title(QCustomPlot& plot, const std::string& title) {
  if (title.empty()) return;
  plot.plotLayout()->insertRow(0);
  auto* t = new QCPTextElement(&plot, QString::fromStdString(title));
  QFont f(paper_style().font_family);
  f.setPointSizeF(paper_style().title_pt);
  t->setFont(f);
  plot.plotLayout()->addElement(0, 0, t);
}

void draw_line(QCustomPlot& plot, const LineData& d, const FigureRequest& req, const std::string& ylabel) {
  const PaperStyle& s = paper_style();
  for (size_t g = 0; g < d.groups.size(); ++g) {
    QColor c = series_color(int(g));
    QVector<double> x, m, lo, hi;
    for (const auto& [step, sp] : d.points[g]) {
      x << double(step);
      m << sp.mean;
      lo << sp.lo;
      hi << sp.hi;
    }
    if (req.band != "none") {
      QCPGraph* glo = plot.addGraph();
      QCPGraph* ghi = plot.addGraph();
      glo->setData(x, lo, true);
      ghi->setData(x, hi, true);
      glo->setPen(Qt::NoPen);
      ghi->setPen(Qt::NoPen);
      QColor fill = c;
      fill.setAlpha(s.band_alpha);
      ghi->setBrush(fill);
      ghi->setChannelFillGraph(glo);
      plot.legend->removeItem(plot.legend->itemCount() - 1);
      plot.legend->removeItem(plot.legend->itemCount() - 1);
    }
    QCPGraph* gm = plot.addGraph();
    gm->setData(x, m, true);
    gm->setPen(QPen(c, s.line_width));
    // "n_layers=2" rather than a bare "2"; attention specs are self-explanatory.
    std::string key = d.field.substr(d.field.rfind('.') + 1);
    bool bare = d.field.empty() || key == "attention" || key == "name";
    gm->setName(QString::fromStdString(bare ? d.groups[g] : key + "=" + d.groups[g]));
  }
  plot.xAxis->setLabel("step");
  plot.yAxis->setLabel(QString::fromStdString(ylabel));
  if (req.log_y) {
    plot.yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot.yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  }
  plot.rescaleAxes();
  plot.legend->setVisible(d.groups.size() > 1 || !d.field.empty());
  plot.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

void draw_bar(QCustomPlot& plot, const LineData& d, const FigureRequest& req, const std::string& ylabel) {
  const PaperStyle& s = paper_style();
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double lo_all = 0, hi_all = 0;
  for (size_t g = 0; g < d.groups.size(); ++g) {
    if (d.points[g].empty()) continue;
    const Spread& sp = d.points[g][0].second;
    QCPBars* bars = new QCPBars(plot.xAxis, plot.yAxis);
    bars->setWidth(0.6);
    QColor c = series_color(int(g));
    bars->setPen(QPen(c.darker(130), 0.6));
    bars->setBrush(c);
    bars->addData(double(g + 1), sp.mean);
    if (req.band != "none") {
      QCPErrorBars* err = new QCPErrorBars(plot.xAxis, plot.yAxis);
      err->setDataPlottable(bars);
      err->setPen(QPen(Qt::black, s.axis_width));
      err->setSymbolGap(0);  // the default leaves a gap at the mean, as if around a marker
      err->addData(sp.mean - sp.lo, sp.hi - sp.mean);
    }
    ticker->addTick(double(g + 1), QString::fromStdString(d.groups[g]));
    lo_all = std::min({lo_all, sp.lo, sp.mean});
    hi_all = std::max({hi_all, sp.hi, sp.mean});
  }
  plot.xAxis->setTicker(ticker);
  plot.xAxis->setTickLabelRotation(d.groups.size() > 3 ? 30 : 0);
  plot.xAxis->grid()->setVisible(false);
  plot.xAxis->setRange(0.3, d.groups.size() + 0.7);
  plot.xAxis->setLabel(QString::fromStdString(d.field));
  double pad = 0.08 * std::max(1e-12, hi_all - lo_all);
  plot.yAxis->setRange(lo_all < 0 ? lo_all - pad : 0, hi_all + pad);
  plot.yAxis->setLabel(QString::fromStdString("final " + ylabel));
}

void draw_matrix(QCustomPlot& plot, int rows, int cols, const std::vector<double>& v, const std::string& cmap,
                 const std::string& xlabel, const std::string& ylabel, const std::string& zlabel, bool fixed01) {
  QCPColorMap* map = new QCPColorMap(plot.xAxis, plot.yAxis);
  // QCPColorMap places cell centres evenly over the range; a dimension of one cell has no
  // extent, so it is drawn as two half-width cells holding the same value.
  int nx = std::max(2, cols), ny = std::max(2, rows);
  map->data()->setSize(nx, ny);
  map->data()->setRange(cols == 1 ? QCPRange(-0.25, 0.25) : QCPRange(0, cols - 1),
                        rows == 1 ? QCPRange(-0.25, 0.25) : QCPRange(0, rows - 1));
  double lo = INFINITY, hi = -INFINITY;
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      int r = rows == 1 ? 0 : y, c = cols == 1 ? 0 : x;
      double val = v[size_t(r) * cols + c];
      if (std::isnan(val)) {
        map->data()->setAlpha(x, y, 0);
        continue;
      }
      map->data()->setCell(x, y, val);
      lo = std::min(lo, val);
      hi = std::max(hi, val);
    }
  if (!(hi > lo)) hi = lo + 1e-9 + std::fabs(lo) * 1e-6;
  map->setInterpolate(false);
  QCPColorScale* scale = new QCPColorScale(&plot);
  plot.plotLayout()->addElement(plot.plotLayout()->rowCount() - 1, 1, scale);
  scale->setType(QCPAxis::atRight);
  map->setColorScale(scale);  // the map takes the scale's gradient, so set it on the scale
  scale->setGradient(colormap(cmap));
  map->setDataRange(fixed01 ? QCPRange(0, std::max(1e-6, hi)) : QCPRange(lo, hi));
  scale->axis()->setLabel(QString::fromStdString(zlabel));
  style_axis(scale->axis());
  scale->setBarWidth(8);
  QCPMarginGroup* group = new QCPMarginGroup(&plot);
  plot.axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  plot.xAxis->setLabel(QString::fromStdString(xlabel));
  plot.yAxis->setLabel(QString::fromStdString(ylabel));
  plot.xAxis->setRange(-0.5, cols - 0.5);
  plot.yAxis->setRange(-0.5, rows - 0.5);
  plot.yAxis->setRangeReversed(true);  // row 0 at the top, as matrices are read
  plot.xAxis->grid()->setVisible(false);
  plot.yAxis->grid()->setVisible(false);
  if (cols <= 16) {
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1);
    plot.xAxis->setTicker(t);
  }
  if (rows <= 16) {
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1);
    plot.yAxis->setTicker(t);
  }
}

// Tokens as tick labels on both axes of an attention map, every k-th one when there are more than
// fit (40 per axis at paper sizes); whitespace is shown so that a space or newline token is visible.
void label_tokens(QCustomPlot& plot, const std::vector<std::string>& tokens) {
  const int T = int(tokens.size()), every = std::max(1, (T + 39) / 40);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int t = 0; t < T; t += every) {
    QString s = QString::fromStdString(tokens[size_t(t)]);
    s.replace(' ', QChar(0x2423)).replace('\n', QChar(0x21B5)).replace('\t', QChar(0x21E5));
    ticker->addTick(t, s);
  }
  plot.xAxis->setTicker(ticker);
  plot.yAxis->setTicker(ticker);
  plot.xAxis->setTickLabelRotation(90);
  QFont f = plot.xAxis->tickLabelFont();
  f.setPointSizeF(std::min(f.pointSizeF(), T / every > 24 ? 5.0 : 7.0));
  plot.xAxis->setTickLabelFont(f);
  plot.yAxis->setTickLabelFont(f);
}

}  // namespace

std::string FigureData::to_csv() const {
  std::ostringstream o;
  for (size_t i = 0; i < header.size(); ++i) o << (i ? "," : "") << exp::csv_escape(header[i]);
  o << "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) o << (i ? "," : "") << exp::csv_escape(r[i]);
    o << "\n";
  }
  return o.str();
}

FigureData figure_data(Store& store, const FigureRequest& req) {
  FigureData d;
  if (req.kind == "line" || req.kind == "bar") {
    bool bar = req.kind == "bar";
    LineData ld = line_data(store, req, bar);
    // Column names say which spread the band is.
    const std::string band = req.band == "none" ? "sd" : req.band;
    std::string lo = band == "minmax" ? "min" : "mean_minus_" + band, hi = band == "minmax" ? "max" : "mean_plus_" + band;
    d.header = {ld.field.empty() ? "group" : ld.field};
    if (!bar) d.header.push_back("step");
    for (const char* h : {"mean"}) d.header.push_back(h);
    d.header.push_back(lo);
    d.header.push_back(hi);
    d.header.push_back("n_seeds");
    for (size_t g = 0; g < ld.groups.size(); ++g)
      for (const auto& [step, sp] : ld.points[g]) {
        std::vector<std::string> row = {ld.groups[g]};
        if (!bar) row.push_back(std::to_string(step));
        row.insert(row.end(), {num(sp.mean), num(sp.lo), num(sp.hi), std::to_string(sp.n)});
        d.rows.push_back(row);
      }
  } else if (req.kind == "heatmap") {
    Grid g = heatmap_data(store, req);
    d.header = {"layer", "head", req.metric};
    for (int r = 0; r < g.rows; ++r)
      for (int c = 0; c < g.cols; ++c) d.rows.push_back({std::to_string(r), std::to_string(c), num(g.v[size_t(r) * g.cols + c])});
  } else if (req.kind == "attention") {
    exp::AttentionMap m = attention_data(store, req);
    d.header = {"query", "key", "weight"};
    if (!m.tokens.empty()) d.header.insert(d.header.end(), {"query_token", "key_token"});
    for (int t = 0; t < m.T; ++t)
      for (int j = 0; j <= t; ++j) {
        d.rows.push_back({std::to_string(t), std::to_string(j), num(m.data[size_t(t) * m.T + j])});
        if (!m.tokens.empty()) d.rows.back().insert(d.rows.back().end(), {m.tokens[size_t(t)], m.tokens[size_t(j)]});
      }
  } else {
    throw Error("unknown figure kind '" + req.kind + "' (line, heatmap, attention, bar)");
  }
  return d;
}

std::vector<std::string> make_figure(Store& store, const FigureRequest& req) {
  namespace fs = std::filesystem;
  if (req.output.empty()) throw Error("a figure needs an output path (--out fig.pdf)");
  FigureData table = figure_data(store, req);  // validates the request before Qt starts
  ensure_qt_app();
  QCustomPlot plot;
  apply_paper_style(plot);
  std::string title = req.title;
  if (req.kind == "line" || req.kind == "bar") {
    LineData ld = line_data(store, req, req.kind == "bar");
    if (req.kind == "line")
      draw_line(plot, ld, req, metric_label(store, req));
    else
      draw_bar(plot, ld, req, metric_label(store, req));
  } else if (req.kind == "heatmap") {
    Grid g = heatmap_data(store, req);
    draw_matrix(plot, g.rows, g.cols, g.v, req.colormap.empty() ? "viridis" : req.colormap, "head", "layer", req.metric,
                false);
    if (title.empty()) title = req.metric + " at step " + std::to_string(g.step);
  } else {
    exp::AttentionMap m = attention_data(store, req);
    std::vector<double> v(m.data.size(), NAN);
    for (int t = 0; t < m.T; ++t)
      for (int j = 0; j <= t; ++j) v[size_t(t) * m.T + j] = m.data[size_t(t) * m.T + j];
    const bool labelled = !m.tokens.empty();
    draw_matrix(plot, m.T, m.T, v, req.colormap.empty() ? "magma" : req.colormap, labelled ? "key token" : "key position",
                labelled ? "query token" : "query position", "attention", true);
    if (labelled) label_tokens(plot, m.tokens);
    if (title.empty())
      title = "run " + m.run + "  L" + std::to_string(m.layer) + "H" + std::to_string(m.head) + "  step " + std::to_string(m.step);
  }
  apply_paper_style(plot);
  add_title(plot, title);

  std::vector<std::string> paths = {req.output};
  fs::path base = fs::path(req.output);
  for (std::string f : req.formats) {
    if (!f.empty() && f[0] == '.') f = f.substr(1);
    fs::path p = base;
    p.replace_extension("." + f);
    if (std::find(paths.begin(), paths.end(), p.string()) == paths.end()) paths.push_back(p.string());
  }
  std::vector<std::string> written;
  for (const std::string& p : paths) {
    save_figure(plot, p);
    written.push_back(p);
  }
  fs::path csv = base;
  csv.replace_extension(".csv");
  std::string text = table.to_csv();
  write_file_atomic(csv.string(), [&](std::ostream& o) { o << text; });
  written.push_back(csv.string());
  return written;
}

}  // namespace attnlab::fig
