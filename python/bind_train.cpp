// attnlab.train: one run of a study spec (the format `attnlab train --config` and `attnlab sweep`
// read), on the CPU, with a Python callback per step. The C++ loop runs without the GIL; the GIL
// is taken back for each step's callback, where PyErr_CheckSignals turns Ctrl-C into a clean stop
// (the trainer finishes the step, writes its checkpoint, and KeyboardInterrupt is raised).
#include <pybind11/stl.h>

#include <cmath>
#include <filesystem>

#include "core/io/checkpoint.h"
#include "core/io/open_model.h"
#include "core/tensor/error.h"
#include "core/train/trainer.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"
#include "experiments/spec/spec_keys.h"
#include "experiments/spec/task_bridge.h"
#include "experiments/training_vocab.h"
#include "python/bindings.h"
#include "python/model_handle.h"

namespace attnlab::py {

namespace {

pyb::dict train(const std::string& toml_text, const pyb::object& on_step,
                const std::string& out_dir) {
  // As `attnlab train --config` (experiments/cli/cmd_train.cpp train_from_spec).
  std::vector<exp::RunPlan> plan = exp::plan_runs(exp::parse_spec_string(toml_text, "<config>"));
  if (plan.size() != 1)
    throw Error("the config expands to " + std::to_string(plan.size()) +
                " runs; train runs one (give one seed and no sweep)");
  const nlohmann::json& cfg = plan[0].config;
  ModelConfig mc = cfg.at("model").get<ModelConfig>();
  TrainConfig tc = exp::train_from_json(cfg.at("train"));
  tc.seed = plan[0].seed;
  auto train_task = exp::make_study_task(cfg.at("task"), tc.seed, tc.batch_size, tc.seq_len);
  auto eval_task =
      exp::make_study_task(cfg.at("task"), tc.seed + 1000003, tc.batch_size, tc.seq_len, true);
  auto model = std::make_unique<Transformer>(mc);
  model->init_weights(tc.seed);
  std::filesystem::create_directories(out_dir);
  tc.checkpoint_path = out_dir + "/train_state.safetensors";
  if (tc.checkpoint_every <= 0) tc.checkpoint_every = tc.steps;  // only the final state

  struct Row {
    int64_t step;
    float loss, lr, grad_norm;
    double tokens_per_s;
    float eval_loss;
  };
  std::vector<Row> log;
  bool python_error = false;
  Trainer trainer(*model, tc, *train_task, tc.eval_every > 0 ? eval_task.get() : nullptr);
  trainer.on_step = [&](const StepInfo& s) {
    log.push_back({s.step, s.loss, s.lr, s.grad_norm, s.tokens_per_s, NAN});
    pyb::gil_scoped_acquire gil;
    try {
      if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
      if (!on_step.is_none()) {
        pyb::dict d;
        d["step"] = s.step;
        d["loss"] = s.loss;
        d["lr"] = s.lr;
        d["grad_norm"] = s.grad_norm;
        pyb::object r = on_step(d);
        if (!r.is_none() && !r.cast<bool>()) return false;  // the callback asked to stop
      }
    } catch (pyb::error_already_set& e) {
      // Stop at this step boundary; the error is raised again once the loop has returned.
      e.restore();
      python_error = true;
      return false;
    }
    return true;
  };
  trainer.on_eval = [&](const EvalInfo& e) {
    if (!log.empty()) log.back().eval_loss = e.loss;
  };
  {
    pyb::gil_scoped_release nogil;
    trainer.run();
    CheckpointExtras extras;
    extras.metadata = training_vocab_metadata(*train_task);
    save_checkpoint(out_dir + "/model.safetensors", trainer.model(), extras);
  }
  if (python_error) throw pyb::error_already_set();

  pyb::dict cols;
  std::vector<int64_t> step;
  std::vector<double> loss, lr, grad_norm, tps, eval_loss;
  for (const Row& r : log) {
    step.push_back(r.step);
    loss.push_back(r.loss);
    lr.push_back(r.lr);
    grad_norm.push_back(r.grad_norm);
    tps.push_back(r.tokens_per_s);
    eval_loss.push_back(r.eval_loss);
  }
  cols["step"] = step;
  cols["loss"] = loss;
  cols["lr"] = lr;
  cols["grad_norm"] = grad_norm;
  cols["tokens_per_s"] = tps;
  cols["eval_loss"] = eval_loss;
  pyb::dict out;
  out["log"] = cols;
  out["model_path"] = out_dir + "/model.safetensors";
  out["steps"] = trainer.current_step();
  out["config"] = pyb::module_::import("json").attr("loads")(cfg.dump());
  return out;
}

}  // namespace

void bind_train(pyb::module_& m) {
  m.def("_train", &train, pyb::arg("toml"), pyb::arg("on_step"), pyb::arg("out"));
}

}  // namespace attnlab::py
