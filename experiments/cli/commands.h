#pragma once
// The `attnlab` subcommands. Each lives in its own cmd_<name>.cpp and is listed once in
// main.cpp's table. A command receives its arguments without the program and command names,
// returns the process exit code, and reports bad input by throwing attnlab::Error.
#include <string>
#include <vector>

namespace attnlab::cli {

using Args = std::vector<std::string>;

int cmd_train(const Args& args);      // issue 2: train from a preset or TOML config
int cmd_generate(const Args& args);   // issue 2/5: sample from a checkpoint
int cmd_info(const Args& args);       // issue 2/5: print a checkpoint's config and size
int cmd_export(const Args& args);     // issue 5: write a checkpoint as a Hugging Face folder
int cmd_variants(const Args& args);   // list attention variants and their parameters
int cmd_analyze(const Args& args);    // issue 4: probes and head tables
int cmd_eval(const Args& args);       // issue 16: sparse replacement on a task
int cmd_tasks(const Args& args);      // issue 6: list tasks
int cmd_sample(const Args& args);     // issue 6: print a decoded task sample
int cmd_sweep(const Args& args);      // issue 7: sweep plan|run|submit|collect
int cmd_results(const Args& args);    // issue 7: query the results store
int cmd_plot(const Args& args);       // issue 7: figures from the store
int cmd_reproduce(const Args& args);  // issue 14: recipes with computed verdicts

}  // namespace attnlab::cli
