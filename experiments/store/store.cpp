#include "experiments/store/store.h"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <fstream>

#include "core/io/atomic_write.h"

#include "core/tensor/error.h"
#include "core/util/json_input.h"

namespace attnlab::exp {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs(
  id TEXT PRIMARY KEY, study TEXT, spec TEXT, config TEXT, seed INTEGER, git_rev TEXT,
  status TEXT, step INTEGER, total_steps INTEGER, created_at REAL, started_at REAL,
  finished_at REAL, wall_s REAL, host TEXT, log_path TEXT, checkpoint_path TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS scalars(
  run TEXT, step INTEGER, name TEXT, value REAL, PRIMARY KEY(run, step, name));
CREATE TABLE IF NOT EXISTS head_metrics(
  run TEXT, step INTEGER, layer INTEGER, head INTEGER, metric TEXT, value REAL,
  PRIMARY KEY(run, step, layer, head, metric));
CREATE TABLE IF NOT EXISTS head_tables(run TEXT, probe TEXT, json TEXT, PRIMARY KEY(run, probe));
CREATE TABLE IF NOT EXISTS attention_maps(
  run TEXT, step INTEGER, layer INTEGER, head INTEGER, T INTEGER, data BLOB,
  PRIMARY KEY(run, step, layer, head));
CREATE TABLE IF NOT EXISTS map_tokens(run TEXT, step INTEGER, tokens TEXT, PRIMARY KEY(run, step));
CREATE TABLE IF NOT EXISTS artifacts(run TEXT, kind TEXT, path TEXT, PRIMARY KEY(run, kind, path));
)sql";

// Owns one prepared statement; binds by position from 1.
struct Stmt {
  sqlite3* db;
  sqlite3_stmt* s;
  Stmt(sqlite3* d, sqlite3_stmt* st) : db(d), s(st) {}
  ~Stmt() { sqlite3_finalize(s); }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s, i, v);
    return *this;
  }
  Stmt& bind_blob(int i, const void* p, int n) {
    sqlite3_bind_blob(s, i, p, n, SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(std::string("results store: ") + sqlite3_errmsg(db));
  }
  void run() {
    while (step()) {
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  std::string text(int c) {
    auto p = sqlite3_column_text(s, c);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  int64_t i64(int c) { return sqlite3_column_int64(s, c); }
  double f64(int c) { return sqlite3_column_double(s, c); }
};

// BEGIN IMMEDIATE takes the write lock up front so concurrent writers wait (busy timeout)
// instead of failing halfway through a transaction.
struct Transaction {
  Store& st;
  bool done = false;
  explicit Transaction(Store& s) : st(s) { st.exec("BEGIN IMMEDIATE"); }
  void commit() {
    st.exec("COMMIT");
    done = true;
  }
  ~Transaction() {
    if (!done) {
      try {
        st.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
};

const char* kRunCols =
    "id, study, spec, config, seed, git_rev, status, step, total_steps, created_at, started_at, "
    "finished_at, wall_s, host, log_path, checkpoint_path, error";

RunRecord read_run(Stmt& q) {
  RunRecord r;
  r.id = q.text(0);
  r.study = q.text(1);
  r.spec = q.text(2);
  std::string cfg = q.text(3);
  r.config =
      cfg.empty() ? nlohmann::json::object() : parse_json_bounded(cfg, "run " + r.id + " config");
  r.seed = uint64_t(q.i64(4));
  r.git_rev = q.text(5);
  r.status = q.text(6);
  r.step = q.i64(7);
  r.total_steps = q.i64(8);
  r.created_at = q.f64(9);
  r.started_at = q.f64(10);
  r.finished_at = q.f64(11);
  r.wall_s = q.f64(12);
  r.host = q.text(13);
  r.log_path = q.text(14);
  r.checkpoint_path = q.text(15);
  r.error = q.text(16);
  return r;
}

}  // namespace

void write_run_record(const std::string& path, const RunRecord& r) {
  nlohmann::json j = {{"id", r.id}, {"study", r.study}, {"spec", r.spec}, {"config", r.config},
                      {"seed", r.seed}, {"git_rev", r.git_rev}, {"status", r.status},
                      {"total_steps", r.total_steps}, {"created_at", r.created_at}};
  write_file_atomic(path, [&](std::ostream& out) { out << j.dump(1) << "\n"; });
}

RunRecord read_run_record(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read run record '" + path + "'");
  const std::string where = "run record '" + path + "'";
  nlohmann::json j;
  try {
    j = parse_json_bounded(in, where);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + " is not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("id") || !j.contains("config"))
    throw Error(where + ": needs an object with 'id' and 'config'");
  auto field = [&](const std::string& key, auto fallback) {
    return j.contains(key) ? json_get<decltype(fallback)>(j[key], key, where) : fallback;
  };
  RunRecord r;
  r.id = json_get<std::string>(j["id"], "id", where);
  r.study = field("study", std::string());
  r.spec = field("spec", std::string());
  r.config = j["config"];
  r.seed = field("seed", uint64_t(0));
  r.git_rev = field("git_rev", std::string());
  r.status = "pending";
  r.total_steps = field("total_steps", int64_t(0));
  r.created_at = field("created_at", 0.0);
  return r;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Store::Store(const std::string& path, bool readonly) : path_(path) {
  int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open results store '" + path + "': " + msg);
  }
  sqlite3_busy_timeout(db_, 60000);
  try {
    if (!readonly) {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      exec(kSchema);
    } else {
      Stmt q(db_, prepare("SELECT count(*) FROM sqlite_master WHERE name='runs'"));
      if (!q.step() || q.i64(0) == 0) throw Error("'" + path + "' is not an attnlab results store (no runs table)");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

bool Store::has_table(const std::string& name) {
  Stmt q(db_, prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?"));
  q.bind(1, name);
  return q.step() && q.i64(0) > 0;
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

void Store::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error("results store '" + path_ + "': " + msg);
  }
}

sqlite3_stmt* Store::prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    throw Error("results store '" + path_ + "': " + sqlite3_errmsg(db_));
  return s;
}

static void bind_run(Stmt& q, const RunRecord& r) {
  q.bind(1, r.id).bind(2, r.study).bind(3, r.spec).bind(4, r.config.dump()).bind(5, int64_t(r.seed));
  q.bind(6, r.git_rev).bind(7, r.status).bind(8, r.step).bind(9, r.total_steps).bind(10, r.created_at);
  q.bind(11, r.started_at).bind(12, r.finished_at).bind(13, r.wall_s).bind(14, r.host).bind(15, r.log_path);
  q.bind(16, r.checkpoint_path).bind(17, r.error);
}

void Store::add_run_if_missing(const RunRecord& r) {
  Stmt q(db_, prepare(std::string("INSERT OR IGNORE INTO runs(") + kRunCols +
                      ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  bind_run(q, r);
  q.run();
}

void Store::upsert_run(const RunRecord& r) {
  Stmt q(db_, prepare(std::string("INSERT OR REPLACE INTO runs(") + kRunCols +
                      ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  bind_run(q, r);
  q.run();
}

bool Store::has_run(const std::string& id) {
  Stmt q(db_, prepare("SELECT 1 FROM runs WHERE id=?"));
  q.bind(1, id);
  return q.step();
}

RunRecord Store::run(const std::string& id) {
  Stmt q(db_, prepare(std::string("SELECT ") + kRunCols + " FROM runs WHERE id=?"));
  q.bind(1, id);
  if (!q.step()) throw Error("results store '" + path_ + "' has no run '" + id + "'");
  return read_run(q);
}

std::vector<RunRecord> Store::runs() {
  Stmt q(db_, prepare(std::string("SELECT ") + kRunCols + " FROM runs ORDER BY created_at, id"));
  std::vector<RunRecord> out;
  while (q.step()) out.push_back(read_run(q));
  return out;
}

void Store::set_status(const std::string& id, const std::string& status, const std::string& error) {
  Stmt q(db_, prepare("UPDATE runs SET status=?, error=? WHERE id=?"));
  q.bind(1, status).bind(2, error).bind(3, id).run();
}

void Store::mark_started(const std::string& id, const std::string& host, const std::string& log_path,
                         const std::string& checkpoint_path) {
  Stmt q(db_, prepare("UPDATE runs SET status='running', error='', host=?, log_path=?, checkpoint_path=?, "
                      "started_at=CASE WHEN started_at>0 THEN started_at ELSE ? END WHERE id=?"));
  q.bind(1, host).bind(2, log_path).bind(3, checkpoint_path).bind(4, now_seconds()).bind(5, id).run();
}

void Store::mark_finished(const std::string& id, const std::string& status, double wall_s) {
  Stmt q(db_, prepare("UPDATE runs SET status=?, finished_at=?, wall_s=wall_s+? WHERE id=?"));
  q.bind(1, status).bind(2, now_seconds()).bind(3, wall_s).bind(4, id).run();
}

void Store::write_progress(const std::string& run, int64_t step, const std::vector<ScalarRow>& scalars,
                           const std::vector<HeadRow>& heads) {
  Transaction tx(*this);
  {
    Stmt q(db_, prepare("INSERT OR REPLACE INTO scalars(run, step, name, value) VALUES(?,?,?,?)"));
    for (const ScalarRow& r : scalars) q.bind(1, r.run).bind(2, r.step).bind(3, r.name).bind(4, r.value).run();
  }
  {
    Stmt q(db_, prepare("INSERT OR REPLACE INTO head_metrics(run, step, layer, head, metric, value) "
                        "VALUES(?,?,?,?,?,?)"));
    for (const HeadRow& r : heads)
      q.bind(1, r.run).bind(2, r.step).bind(3, int64_t(r.layer)).bind(4, int64_t(r.head)).bind(5, r.metric)
          .bind(6, r.value).run();
  }
  {
    Stmt q(db_, prepare("UPDATE runs SET step=? WHERE id=?"));
    q.bind(1, step).bind(2, run).run();
  }
  tx.commit();
}

void Store::drop_after(const std::string& run, int64_t step) {
  Transaction tx(*this);
  for (const char* table : {"scalars", "head_metrics", "attention_maps", "map_tokens"}) {
    Stmt q(db_, prepare(std::string("DELETE FROM ") + table + " WHERE run=? AND step>?"));
    q.bind(1, run).bind(2, step).run();
  }
  Stmt q(db_, prepare("UPDATE runs SET step=? WHERE id=?"));
  q.bind(1, step).bind(2, run).run();
  tx.commit();
}

void Store::put_head_table(const std::string& run, const std::string& probe, const std::string& json) {
  Stmt q(db_, prepare("INSERT OR REPLACE INTO head_tables(run, probe, json) VALUES(?,?,?)"));
  q.bind(1, run).bind(2, probe).bind(3, json).run();
}

void Store::put_attention_map(const AttentionMap& m) {
  if (m.data.size() != size_t(m.T) * m.T) throw Error("attention map data is not T x T");
  Stmt q(db_, prepare("INSERT OR REPLACE INTO attention_maps(run, step, layer, head, T, data) VALUES(?,?,?,?,?,?)"));
  q.bind(1, m.run).bind(2, m.step).bind(3, int64_t(m.layer)).bind(4, int64_t(m.head)).bind(5, int64_t(m.T));
  q.bind_blob(6, m.data.data(), int(m.data.size() * sizeof(float))).run();
  if (m.tokens.empty()) return;
  if (m.tokens.size() != size_t(m.T)) throw Error("attention map tokens are not T labels");
  Stmt t(db_, prepare("INSERT OR REPLACE INTO map_tokens(run, step, tokens) VALUES(?,?,?)"));
  t.bind(1, m.run).bind(2, m.step).bind(3, nlohmann::json(m.tokens).dump()).run();
}

void Store::put_artifact(const std::string& run, const std::string& kind, const std::string& path) {
  Stmt q(db_, prepare("INSERT OR REPLACE INTO artifacts(run, kind, path) VALUES(?,?,?)"));
  q.bind(1, run).bind(2, kind).bind(3, path).run();
}

std::vector<ScalarRow> Store::scalars(const std::string& run, const std::string& name) {
  Stmt q(db_, prepare("SELECT run, step, name, value FROM scalars WHERE run=? AND (?='' OR name=?) "
                      "ORDER BY name, step"));
  q.bind(1, run).bind(2, name).bind(3, name);
  std::vector<ScalarRow> out;
  while (q.step()) out.push_back({q.text(0), q.i64(1), q.text(2), q.f64(3)});
  return out;
}

std::vector<HeadRow> Store::head_metrics(const std::string& run, const std::string& metric) {
  Stmt q(db_, prepare("SELECT run, step, layer, head, metric, value FROM head_metrics WHERE run=? AND "
                      "(?='' OR metric=?) ORDER BY metric, step, layer, head"));
  q.bind(1, run).bind(2, metric).bind(3, metric);
  std::vector<HeadRow> out;
  while (q.step()) out.push_back({q.text(0), q.i64(1), int(q.i64(2)), int(q.i64(3)), q.text(4), q.f64(5)});
  return out;
}

std::vector<std::string> Store::scalar_names() {
  Stmt q(db_, prepare("SELECT DISTINCT name FROM scalars ORDER BY name"));
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  return out;
}

std::vector<std::string> Store::head_metric_names() {
  Stmt q(db_, prepare("SELECT DISTINCT metric FROM head_metrics ORDER BY metric"));
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  return out;
}

std::string Store::head_table(const std::string& run, const std::string& probe) {
  Stmt q(db_, prepare("SELECT json FROM head_tables WHERE run=? AND probe=?"));
  q.bind(1, run).bind(2, probe);
  return q.step() ? q.text(0) : std::string();
}

std::vector<AttentionMap> Store::attention_maps(const std::string& run) {
  Stmt q(db_, prepare("SELECT run, step, layer, head, T, data FROM attention_maps WHERE run=? "
                      "ORDER BY step, layer, head"));
  q.bind(1, run);
  std::vector<AttentionMap> out;
  while (q.step()) {
    AttentionMap m;
    m.run = q.text(0);
    m.step = q.i64(1);
    m.layer = int(q.i64(2));
    m.head = int(q.i64(3));
    m.T = int(q.i64(4));
    const void* blob = sqlite3_column_blob(q.s, 5);
    int bytes = sqlite3_column_bytes(q.s, 5);
    if (bytes != int(size_t(m.T) * m.T * sizeof(float))) throw Error("results store: corrupt attention map");
    m.data.resize(size_t(m.T) * m.T);
    if (bytes) std::memcpy(m.data.data(), blob, size_t(bytes));
    out.push_back(std::move(m));
  }
  // Stores written before token labels existed have no map_tokens table (and a read-only open
  // does not create it).
  if (!has_table("map_tokens")) return out;
  for (AttentionMap& m : out) {
    Stmt t(db_, prepare("SELECT tokens FROM map_tokens WHERE run=? AND step=?"));
    t.bind(1, m.run).bind(2, m.step);
    if (!t.step()) continue;
    nlohmann::json j = nlohmann::json::parse(t.text(0), nullptr, false);
    if (!j.is_array() || j.size() != size_t(m.T)) continue;  // a damaged label row costs the labels only
    for (const auto& s : j) m.tokens.push_back(s.is_string() ? s.get<std::string>() : std::string("?"));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Store::artifacts(const std::string& run) {
  Stmt q(db_, prepare("SELECT kind, path FROM artifacts WHERE run=? ORDER BY kind, path"));
  q.bind(1, run);
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step()) out.emplace_back(q.text(0), q.text(1));
  return out;
}

int64_t Store::count(const std::string& table, const std::string& run) {
  static const char* allowed[] = {"runs", "scalars", "head_metrics", "head_tables", "attention_maps", "artifacts"};
  bool ok = false;
  for (const char* a : allowed) ok = ok || table == a;
  if (!ok) throw Error("results store: no table '" + table + "'");
  std::string col = table == "runs" ? "id" : "run";
  Stmt q(db_, prepare("SELECT count(*) FROM " + table + " WHERE ?='' OR " + col + "=?"));
  q.bind(1, run).bind(2, run);
  q.step();
  return q.i64(0);
}

int Store::merge_from(const std::string& shard_path) {
  {
    Stmt q(db_, prepare("ATTACH DATABASE ? AS shard"));
    q.bind(1, shard_path).run();
  }
  int merged = 0;
  try {
    Transaction tx(*this);
    {
      Stmt q(db_, prepare("SELECT count(*) FROM shard.runs"));
      q.step();
      merged = int(q.i64(0));
    }
    // The shard is the whole truth about its runs: drop what we had, then copy.
    bool shard_has_tokens = false;
    {
      Stmt q(db_, prepare("SELECT count(*) FROM shard.sqlite_master WHERE name='map_tokens'"));
      shard_has_tokens = q.step() && q.i64(0) > 0;
    }
    for (const char* table : {"scalars", "head_metrics", "head_tables", "attention_maps", "map_tokens", "artifacts"}) {
      exec(std::string("DELETE FROM main.") + table + " WHERE run IN (SELECT id FROM shard.runs)");
      if (std::string(table) == "map_tokens" && !shard_has_tokens) continue;
      exec(std::string("INSERT OR REPLACE INTO main.") + table + " SELECT * FROM shard." + table);
    }
    exec("INSERT OR REPLACE INTO main.runs SELECT * FROM shard.runs");
    tx.commit();
  } catch (...) {
    try {
      exec("DETACH DATABASE shard");
    } catch (...) {
    }
    throw;
  }
  exec("DETACH DATABASE shard");
  return merged;
}

}  // namespace attnlab::exp
