#pragma once
// The results store: one SQLite file per study. Tables:
//   runs(id, study, spec, config, seed, git_rev, status, step, created/started/finished, wall_s,
//        host, log_path, checkpoint_path, error)
//   scalars(run, step, name, value)                         loss, lr, eval_loss, accuracy, ...
//   head_metrics(run, step, layer, head, metric, value)     probes during training
//   head_tables(run, probe, json)                           final HeadTables
//   attention_maps(run, step, layer, head, T, data)         float32 rows for figures
//   artifacts(run, kind, path)
// Rows are keyed so that writing the same (run, step, ...) again replaces instead of
// duplicating: a run resumed from a checkpoint rewrites the steps after it. WAL mode and a busy
// timeout let many worker processes write one file; every write is one transaction.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace attnlab::exp {

struct RunRecord {
  std::string id, study, spec, git_rev, status, host, log_path, checkpoint_path, error;
  nlohmann::json config;
  uint64_t seed = 0;
  int64_t step = 0, total_steps = 0;
  double created_at = 0, started_at = 0, finished_at = 0, wall_s = 0;
};

struct ScalarRow {
  std::string run;
  int64_t step;
  std::string name;
  double value;
};

struct HeadRow {
  std::string run;
  int64_t step;
  int layer, head;
  std::string metric;
  double value;
};

struct AttentionMap {
  std::string run;
  int64_t step = 0;
  int layer = 0, head = 0, T = 0;
  std::vector<float> data;  // [T, T], row t = weights query t gives keys 0..T-1 (0 above diagonal)
  std::vector<std::string> tokens;  // the T tokens as text, for axis labels (empty: not recorded)
};

class Store {
 public:
  // Opens (creating if needed) the store; `readonly` never writes or creates.
  explicit Store(const std::string& path, bool readonly = false);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  const std::string& path() const { return path_; }

  // Inserts runs that are not there yet ("pending"); existing rows keep their status.
  void add_run_if_missing(const RunRecord& r);
  void upsert_run(const RunRecord& r);  // replaces the whole row
  bool has_run(const std::string& id);
  RunRecord run(const std::string& id);  // throws if missing
  std::vector<RunRecord> runs();
  void set_status(const std::string& id, const std::string& status, const std::string& error = "");
  void mark_started(const std::string& id, const std::string& host, const std::string& log_path,
                    const std::string& checkpoint_path);
  void mark_finished(const std::string& id, const std::string& status, double wall_s);

  // One transaction: the rows, then the run's step. Called before each checkpoint so that the
  // store never holds less than the checkpoint.
  void write_progress(const std::string& run, int64_t step, const std::vector<ScalarRow>& scalars,
                      const std::vector<HeadRow>& heads);
  // A resumed run drops rows after the checkpoint it resumes from (they are rewritten).
  void drop_after(const std::string& run, int64_t step);
  void put_head_table(const std::string& run, const std::string& probe, const std::string& json);
  void put_attention_map(const AttentionMap& m);
  void put_artifact(const std::string& run, const std::string& kind, const std::string& path);

  std::vector<ScalarRow> scalars(const std::string& run, const std::string& name = "");
  std::vector<HeadRow> head_metrics(const std::string& run, const std::string& metric = "");
  std::vector<std::string> scalar_names();
  std::vector<std::string> head_metric_names();
  std::string head_table(const std::string& run, const std::string& probe);
  std::vector<AttentionMap> attention_maps(const std::string& run);
  std::vector<std::pair<std::string, std::string>> artifacts(const std::string& run);
  int64_t count(const std::string& table, const std::string& run = "");

  // Copies every row of the shard stores' runs into this store (INSERT OR REPLACE), one
  // transaction per shard. Returns the number of runs merged.
  int merge_from(const std::string& shard_path);

  void exec(const std::string& sql);

 private:
  bool has_table(const std::string& name);
  sqlite3_stmt* prepare(const std::string& sql);
  std::string path_;
  sqlite3* db_ = nullptr;
};

// A run record as a JSON file (Slurm array tasks read their run from one: no shared SQLite
// over a network file system).
void write_run_record(const std::string& path, const RunRecord& r);
RunRecord read_run_record(const std::string& path);

// Seconds since the epoch, for timings.
double now_seconds();

}  // namespace attnlab::exp
