// attnlab train: trains a model from a preset (plus overrides) on a task or text corpus, with a
// progress bar, periodic evaluation, a CSV log, a final model and a resumable training state.
// Ctrl-C stops after the current step and saves the state, so `--resume` continues exactly.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/io/atomic_write.h"
#include "core/io/checkpoint.h"
#include "core/tensor/error.h"
#include "core/train/trainer.h"
#include "core/util/json_input.h"
#include "core/util/progress.h"
#include "datasets/task_registry.h"
#include "experiments/cli/cli_options.h"
#include "experiments/device/train_device.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"
#include "experiments/spec/spec_keys.h"
#include "experiments/spec/task_bridge.h"
#include "experiments/test_hooks.h"
#include "experiments/training_vocab.h"

namespace attnlab::cli {

namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

struct LogRow {
  int64_t step;
  float loss, lr, eval_loss;
};

// The rows of an earlier run's log up to `last_step`, so a resumed run extends it.
std::vector<LogRow> read_log(const std::string& path, int64_t last_step) {
  std::vector<LogRow> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    LogRow r{0, 0, 0, NAN};
    char ev[64] = {0};
    long long step = 0;
    if (std::sscanf(line.c_str(), "%lld,%f,%f,%63s", &step, &r.loss, &r.lr, ev) < 3) continue;
    r.step = step;
    if (ev[0]) r.eval_loss = std::strtof(ev, nullptr);
    if (r.step <= last_step) rows.push_back(r);
  }
  return rows;
}

void write_log(const std::string& path, const std::vector<LogRow>& rows) {
  write_file_atomic(path, [&](std::ostream& os) {
    os << "step,loss,lr,eval_loss\n";
    for (const LogRow& r : rows)
      os << r.step << ',' << r.loss << ',' << r.lr << ','
         << (std::isnan(r.eval_loss) ? std::string() : std::to_string(r.eval_loss)) << '\n';
  });
}

void print_summary(const std::vector<LogRow>& rows) {
  if (rows.empty()) return;
  std::cout << "\nloss curve (" << rows.size() << " steps):\n  step      loss   eval\n";
  const size_t shown = 10;
  for (size_t k = 0; k < shown; ++k) {
    size_t i = std::min(rows.size() - 1, (rows.size() - 1) * k / (shown - 1));
    if (k && i == (rows.size() - 1) * (k - 1) / (shown - 1)) continue;
    // Smooth over the preceding steps so a noisy batch does not misrepresent the curve.
    size_t lo = i >= 9 ? i - 9 : 0;
    double avg = 0;
    for (size_t j = lo; j <= i; ++j) avg += rows[j].loss;
    avg /= double(i - lo + 1);
    float ev = NAN;
    for (size_t j = 0; j <= i; ++j)
      if (!std::isnan(rows[j].eval_loss)) ev = rows[j].eval_loss;
    std::printf("  %6lld  %8.4f  %s\n", (long long)rows[i].step, avg,
                std::isnan(ev) ? "   -" : std::to_string(ev).substr(0, 6).c_str());
  }
}

}  // namespace

int run_training(Transformer& model, TrainConfig tc, Task& train_task, Task* eval_task,
                 const std::string& out_dir, bool resume, const exp::ComputeOptions& compute);

// --config: the study-spec format of `attnlab sweep` (experiments/spec), holding one run.
int train_from_spec(const std::string& path, const std::string& out_dir, bool resume,
                    const exp::ComputeOptions& compute) {
  std::vector<exp::RunPlan> plan = exp::plan_runs(exp::parse_spec_file(path));
  if (plan.size() != 1)
    throw Error(path + ": expands to " + std::to_string(plan.size()) +
                " runs; `attnlab train` runs one (use `attnlab sweep run` for a grid)");
  const nlohmann::json& cfg = plan[0].config;
  ModelConfig mc = cfg.at("model").get<ModelConfig>();
  TrainConfig tc = exp::train_from_json(cfg.at("train"));
  tc.seed = plan[0].seed;
  auto train_task = exp::make_study_task(cfg.at("task"), tc.seed, tc.batch_size, tc.seq_len);
  auto eval_task = exp::make_study_task(cfg.at("task"), tc.seed + 1000003, tc.batch_size, tc.seq_len, true);
  Transformer model(mc);
  model.init_weights(tc.seed);
  return run_training(model, tc, *train_task, tc.eval_every > 0 ? eval_task.get() : nullptr, out_dir, resume,
                      compute);
}

int cmd_train(const Args& args) {
  po::options_description desc("train options");
  std::string preset, task_spec, attention, out_dir, model_json, config_path;
  int64_t steps, warmup, eval_every, checkpoint_every;
  int batch = 0, len = 0;
  float lr, wd, clip;
  uint64_t seed;
  exp::ComputeOptions compute;
  desc.add_options()
      ("config", po::value(&config_path), "a study spec TOML with one run (the sweep format; other options are ignored)")
      ("preset", po::value(&preset)->default_value("small"), "model preset: tiny, small, gpt2-bench, llama-tiny")
      ("model", po::value(&model_json), "model config as JSON (overrides the preset's keys)")
      ("task", po::value(&task_spec)->default_value("text(file=corpora/tinyshakespeare/input.txt)"),
       "task or corpus spec (see `attnlab tasks`)")
      ("attention", po::value(&attention), "attention spec for every layer, or a comma-free list separated by ';'")
      ("steps", po::value(&steps)->default_value(1000), "optimizer steps")
      ("batch", po::value(&batch), "sequences per batch (overrides the task's)")
      ("len", po::value(&len), "sequence length (overrides the task's)")
      ("lr", po::value(&lr)->default_value(1e-3f), "peak learning rate")
      ("warmup", po::value(&warmup)->default_value(100), "linear warmup steps")
      ("weight-decay", po::value(&wd)->default_value(0.1f), "AdamW weight decay")
      ("clip", po::value(&clip)->default_value(1.0f), "gradient norm clip (0: off)")
      ("seed", po::value(&seed)->default_value(0), "seed for weights and data")
      ("eval-every", po::value(&eval_every)->default_value(100), "evaluate every N steps (0: never)")
      ("checkpoint-every", po::value(&checkpoint_every)->default_value(0),
       "save the training state every N steps (0: max(50, steps/10))")
      ("out", po::value(&out_dir)->default_value("runs/train"), "output folder")
      ("device", po::value(&compute.device)->default_value("cpu"), "cpu | cuda")
      ("precision", po::value(&compute.precision)->default_value("fp32"),
       "GPU GEMM inputs: fp32 | tf32 | bf16 (fp32 accumulation; cuda only)")
      ("resume", "continue from <out>/train_state.safetensors");
  po::variables_map vm;
  if (!parse_options(args, "attnlab train [options]", desc, vm)) return 0;

  exp::check_compute(compute);  // before any data is read: a missing GPU is the first thing to say
  if (!config_path.empty()) return train_from_spec(config_path, out_dir, vm.count("resume") > 0, compute);
  std::map<std::string, std::string> overrides{{"seed", std::to_string(seed)}};
  if (batch) overrides["batch"] = std::to_string(batch);
  if (len) overrides["len"] = std::to_string(len);
  std::unique_ptr<Task> train_task = make_task(task_spec, overrides);
  overrides["seed"] = std::to_string(seed + 1);
  overrides["split"] = "val";
  std::unique_ptr<Task> eval_task;
  try {
    eval_task = make_task(task_spec, overrides);
  } catch (const Error&) {  // synthetic tasks have no split: a fresh seed is their held-out data
    overrides.erase("split");
    eval_task = make_task(task_spec, overrides);
  }

  ModelConfig cfg = preset_config(preset);
  if (!model_json.empty()) {
    nlohmann::json j = cfg;
    try {
      j.merge_patch(parse_json_bounded(model_json, "--model"));
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("--model is not valid JSON: ") + e.what());
    }
    cfg = j.get<ModelConfig>();
  }
  {  // continuous tasks (in-context regression) are read in by a linear layer
    Batch probe;
    train_task->next(probe);
    train_task->seek(0);
    cfg.input_dim = probe.in_dim;
  }
  if (cfg.input_dim == 0) cfg.vocab_size = train_task->vocab_size();
  adopt_task_bos(cfg, *train_task);
  cfg.context = std::max(cfg.context, train_task->seq_len());
  if (!attention.empty()) {
    cfg.attention.clear();
    size_t start = 0;
    while (true) {
      size_t semi = attention.find(';', start);
      cfg.attention.push_back(attention.substr(start, semi - start));
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
  }
  validate_config_sizes(cfg, "--model", memory_weight_limit(),
                        "the weights this machine's memory holds");
  Transformer model(cfg);
  model.init_weights(seed);

  TrainConfig tc;
  tc.steps = steps;
  tc.lr = lr;
  tc.warmup = std::min(warmup, steps);
  tc.weight_decay = wd;
  tc.grad_clip = clip;
  tc.seed = seed;
  tc.eval_every = eval_every;
  tc.checkpoint_every = checkpoint_every;
  tc.batch_size = train_task->batch_size();
  tc.seq_len = train_task->seq_len();
  return run_training(model, tc, *train_task, eval_task.get(), out_dir, vm.count("resume") > 0, compute);
}

int run_training(Transformer& model, TrainConfig tc, Task& train_task_ref, Task* eval_task,
                 const std::string& out_dir, bool resume, const exp::ComputeOptions& compute) {
  Task* train_task = &train_task_ref;
  const ModelConfig& cfg = model.config();
  const int64_t steps = tc.steps;
  std::filesystem::create_directories(out_dir);
  const std::string state_path = out_dir + "/train_state.safetensors";
  const std::string model_path = out_dir + "/model.safetensors";
  const std::string log_path = out_dir + "/train_log.csv";
  tc.checkpoint_path = state_path;
  if (tc.checkpoint_every <= 0) tc.checkpoint_every = std::max<int64_t>(50, steps / 10);
  // A run killed mid-write left temp files beside these; this run owns the folder now.
  for (const std::string& p : {state_path, model_path, log_path}) remove_stale_temp_files(p);
  Trainer trainer(model, tc, *train_task, eval_task, exp::make_train_backend(compute, model, tc));
  std::vector<LogRow> log;
  if (resume) {
    trainer.load_checkpoint(state_path);
    log = read_log(log_path, trainer.current_step());
    std::cerr << "resumed from " << state_path << " at step " << trainer.current_step() << "\n";
  }

  std::cout << "model: " << model.num_params() << " parameters, " << cfg.n_layers << " layers, d="
            << cfg.d_model << ", heads=" << cfg.n_heads << ", attention=" << cfg.attention[0]
            << (cfg.attention.size() > 1 ? ",..." : "") << "\n"
            << "task: " << train_task->describe() << "\n"
            << "device: " << trainer.backend().describe() << "\n";
  ProgressBar bar("train", steps, "steps");
  bar.set_rate_scale(double(tc.batch_size) * tc.seq_len, "tok");
  g_interrupted = false;
  auto old_handler = std::signal(SIGINT, on_sigint);
  trainer.on_step = [&](const StepInfo& s) {
    log.push_back({s.step, s.loss, s.lr, NAN});
    char status[64];
    std::snprintf(status, sizeof status, "loss %.4f", s.loss);
    bar.update(s.step, status);
    exp::test_step_delay();
    return !g_interrupted.load();
  };
  trainer.on_eval = [&](const EvalInfo& e) {
    if (!log.empty()) log.back().eval_loss = e.loss;
  };
  // The log first: a kill between the two writes leaves a log ahead of the state, whose extra
  // rows a resume drops (read_log), never a state ahead of its log.
  trainer.on_checkpoint = [&](int64_t) { write_log(log_path, log); };
  trainer.run();
  std::signal(SIGINT, old_handler);
  bar.finish();

  // run() ended with a checkpoint, which wrote the complete log (on_checkpoint).
  CheckpointExtras extras;
  extras.metadata = training_vocab_metadata(*train_task);
  save_checkpoint(model_path, trainer.model(), extras);
  print_summary(log);
  if (g_interrupted) {
    std::cout << "interrupted at step " << trainer.current_step() << "; state saved to "
              << state_path << " (continue with --resume)\n";
    return 130;
  }
  std::cout << "model written to " << model_path << "\n";
  return 0;
}

}  // namespace attnlab::cli
