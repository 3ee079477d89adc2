#pragma once
// Helpers for the tests that run sweeps end to end and compare or inspect their results stores.
#include <sqlite3.h>

#include <sstream>
#include <string>

#include "experiments/store/store.h"
#include "tests/test_support.h"

namespace attnlab::test {

// Polls the store until `pred(store)` holds (the runs flush their rows at each checkpoint);
// false after `timeout_ms` (a hang guard).
template <class Pred>
bool wait_for(const std::string& store, Pred pred, int timeout_ms = 30000) {
  return poll_until(
      [&] {
        if (!std::filesystem::exists(store)) return false;
        try {
          exp::Store s(store, true);
          return bool(pred(s));
        } catch (...) {
          return false;
        }
      },
      timeout_ms);
}

// Every row a study holds, as text, to compare two stores exactly.
inline std::string dump(const std::string& path) {
  exp::Store s(path, true);
  std::ostringstream o;
  for (const exp::RunRecord& r : s.runs()) {
    o << r.id << " " << r.status << "\n";
    for (const auto& x : s.scalars(r.id)) o << x.step << " " << x.name << " " << x.value << "\n";
    for (const auto& h : s.head_metrics(r.id))
      o << h.step << " " << h.layer << h.head << h.metric << " " << h.value << "\n";
    for (const auto& m : s.attention_maps(r.id)) {
      o << "map " << m.layer << m.head << m.T;
      for (float v : m.data) o << " " << v;
      o << "\n";
    }
  }
  return o.str();
}

// SQLite's own check of a database file: "ok", or the problems it found. Opened read-write so
// that a write-ahead log left by a killed writer is recovered first, as the next sweep would.
inline std::string sqlite_integrity(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return msg;
  }
  std::string result;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr) != SQLITE_OK) {
    result = sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(q) == SQLITE_ROW)
      result += (result.empty() ? "" : "; ") +
                std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
    if (result.empty()) result = sqlite3_errmsg(db);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return result;
}

}  // namespace attnlab::test
