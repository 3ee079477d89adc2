#include "experiments/runner/worker.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/io/atomic_write.h"
#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/train/trainer.h"
#include "experiments/runner/probes.h"
#include "experiments/spec/spec_keys.h"
#include "experiments/spec/task_bridge.h"
#include "experiments/store/store.h"
#include "experiments/test_hooks.h"
#include "experiments/training_vocab.h"

namespace attnlab::exp {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// Rows logged since the last flush; flushed (one transaction) right before each checkpoint.
struct Pending {
  std::vector<ScalarRow> scalars;
  std::vector<HeadRow> heads;
  void add(std::vector<ScalarRow> s) { scalars.insert(scalars.end(), s.begin(), s.end()); }
  void add(std::vector<HeadRow> h) { heads.insert(heads.end(), h.begin(), h.end()); }
};

}  // namespace

void request_stop() { g_stop.store(true); }
bool stop_requested() { return g_stop.load(); }

std::string run_dir(const std::string& out_dir, const std::string& run_id) {
  return (std::filesystem::path(out_dir) / "runs" / run_id).string();
}

std::string checkpoint_path(const std::string& out_dir, const std::string& run_id) {
  return (std::filesystem::path(run_dir(out_dir, run_id)) / "checkpoint.safetensors").string();
}

namespace {
int run_worker_impl(const WorkerOptions& opt, Store& store);
}

int run_worker(const WorkerOptions& opt) {
  check_compute(opt.compute);
  Store store(opt.store);
  try {
    return run_worker_impl(opt, store);
  } catch (const std::exception& e) {
    // The reason goes into the store, where `attnlab results` shows it, not only the log.
    try {
      if (store.has_run(opt.run_id)) store.set_status(opt.run_id, "failed", e.what());
    } catch (...) {
    }
    throw;
  }
}

namespace {

int run_worker_impl(const WorkerOptions& opt, Store& store) {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  // A sweep starts its workers with these blocked (see run_sweep); one sent before now is
  // delivered here, to the handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &stop_signals, nullptr);
  if (!opt.seed_record.empty() && !store.has_run(opt.run_id)) {
    RunRecord r = read_run_record(opt.seed_record);
    if (r.id != opt.run_id) throw Error("'" + opt.seed_record + "' holds run " + r.id + ", not " + opt.run_id);
    store.upsert_run(r);
  }
  RunRecord rec = store.run(opt.run_id);
  if (rec.status == "done") {
    if (!opt.quiet) std::printf("run %s is already done\n", rec.id.c_str());
    return 0;
  }
  const nlohmann::json& cfg = rec.config;
  ModelConfig mc;
  from_json(cfg.at("model"), mc);
  TrainConfig tc = train_from_json(cfg.at("train"));
  uint64_t seed = cfg.at("seed").get<uint64_t>();
  tc.seed = seed;
  const nlohmann::json& probes = cfg.at("probes");
  int64_t ckpt_every = tc.checkpoint_every > 0 ? tc.checkpoint_every : std::max<int64_t>(1, tc.steps / 20);
  int64_t probe_every = probes.value("every", int64_t(0));

  std::filesystem::create_directories(run_dir(opt.out_dir, opt.run_id));
  std::string ckpt = checkpoint_path(opt.out_dir, opt.run_id);
  std::string log_path = (std::filesystem::path(run_dir(opt.out_dir, opt.run_id)) / "log.txt").string();
  std::string model_path =
      (std::filesystem::path(run_dir(opt.out_dir, opt.run_id)) / "model.safetensors").string();
  // An attempt killed mid-write left its temp files; this worker owns the run folder now.
  remove_stale_temp_files(ckpt);
  remove_stale_temp_files(model_path);

  // Three streams of the same task: training, evaluation (the trainer's eval loss), and a
  // fixed batch for task metrics and probes, so that measuring never moves the others.
  auto train_task = make_study_task(cfg.at("task"), seed, tc.batch_size, tc.seq_len);
  auto eval_task = make_study_task(cfg.at("task"), seed + 1000003, tc.batch_size, tc.seq_len, true);
  auto probe_task = make_study_task(cfg.at("task"), seed + 2000003, tc.batch_size, tc.seq_len, true);

  Transformer model(mc);
  model.init_weights(seed);
  Trainer trainer(model, tc, *train_task, tc.eval_every > 0 ? eval_task.get() : nullptr,
                  make_train_backend(opt.compute, model, tc));
  bool resumed = std::filesystem::exists(ckpt);
  if (resumed) trainer.load_checkpoint(ckpt);
  // Rows after the checkpoint (from an attempt that died) are rewritten by this attempt.
  store.drop_after(rec.id, trainer.current_step());
  store.mark_started(rec.id, hostname(), log_path, ckpt);
  std::printf("run %s: %s from step %lld of %lld (%s) on %s\n", rec.id.c_str(), resumed ? "resuming" : "starting",
              (long long)trainer.current_step(), (long long)tc.steps, train_task->describe().c_str(),
              trainer.backend().describe().c_str());
  std::fflush(stdout);

  auto t0 = std::chrono::steady_clock::now();
  Pending pending;
  auto flush_and_checkpoint = [&] {
    store.write_progress(rec.id, trainer.current_step(), pending.scalars, pending.heads);
    pending = Pending{};
    trainer.save_checkpoint(ckpt);
  };
  auto measure = [&](int64_t step, bool final) {
    ProbeResult pr = run_probes(trainer.model(), *probe_task, probes, rec.id, step, final);
    pending.add(pr.heads);
    pending.add(pr.scalars);
    for (const auto& [probe, json] : pr.tables) store.put_head_table(rec.id, probe, json);
  };

  while (trainer.current_step() < tc.steps && !stop_requested()) {
    test_step_delay();
    StepInfo si = trainer.step();
    const std::string& id = rec.id;
    pending.scalars.push_back({id, si.step, "loss", si.loss});
    pending.scalars.push_back({id, si.step, "lr", si.lr});
    pending.scalars.push_back({id, si.step, "grad_norm", si.grad_norm});
    bool last = si.step == tc.steps;
    if (tc.eval_every > 0 && (si.step % tc.eval_every == 0 || last)) {
      float el = trainer.evaluate();
      pending.scalars.push_back({id, si.step, "eval_loss", el});
      pending.add(score_task(trainer.model(), *probe_task, id, si.step));
      if (!opt.quiet) std::printf("step %lld loss %.4f eval_loss %.4f\n", (long long)si.step, si.loss, el);
    } else if (!opt.quiet && (si.step % std::max<int64_t>(1, tc.steps / 20) == 0)) {
      std::printf("step %lld loss %.4f lr %.2e\n", (long long)si.step, si.loss, si.lr);
    }
    if (probe_every > 0 && (si.step % probe_every == 0 || last)) measure(si.step, false);
    if (si.step % ckpt_every == 0 || last) flush_and_checkpoint();
    std::fflush(stdout);
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (trainer.current_step() < tc.steps) {
    flush_and_checkpoint();
    store.mark_finished(rec.id, "interrupted", wall);
    std::printf("run %s: interrupted at step %lld (checkpoint saved)\n", rec.id.c_str(),
                (long long)trainer.current_step());
    return 130;
  }
  // Final measurements: probe tables and attention maps at the last step.
  if (!probes["names"].empty()) measure(tc.steps, true);
  if (probes.value("attention_maps", true))
    for (const AttentionMap& m : capture_attention_maps(trainer.model(), *probe_task, probes.value("map_len", 32), rec.id, tc.steps))
      store.put_attention_map(m);
  store.write_progress(rec.id, tc.steps, pending.scalars, pending.heads);
  // The finished model with its vocabulary, readable by `attnlab analyze`, `generate` and the GUI.
  CheckpointExtras extras;
  extras.metadata = training_vocab_metadata(*train_task);
  save_checkpoint(model_path, trainer.model(), extras);
  store.put_artifact(rec.id, "checkpoint", ckpt);
  store.put_artifact(rec.id, "model", model_path);
  store.put_artifact(rec.id, "log", log_path);
  store.mark_finished(rec.id, "done", wall);
  std::printf("run %s: done in %.1f s\n", rec.id.c_str(), wall);
  return 0;
}

}  // namespace

}  // namespace attnlab::exp
