// attnlab: the headless CLI. Dispatches to one function per subcommand.
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor/error.h"
#include "experiments/cli/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const attnlab::cli::Args&);
};

const Command kCommands[] = {
    {"train", "train a model from a preset or a TOML config", attnlab::cli::cmd_train},
    {"generate", "sample text from a checkpoint", attnlab::cli::cmd_generate},
    {"info", "print a checkpoint's config and parameter count", attnlab::cli::cmd_info},
    {"export", "write a checkpoint as a Hugging Face folder", attnlab::cli::cmd_export},
    {"variants", "list the attention variants and their parameters", attnlab::cli::cmd_variants},
    {"analyze", "run attention probes and print per-head tables", attnlab::cli::cmd_analyze},
    {"eval", "run heads with a sparse attention pattern on a task: dCE, KL, accuracy", attnlab::cli::cmd_eval},
    {"tasks", "list the synthetic tasks and their parameters", attnlab::cli::cmd_tasks},
    {"sample", "print a decoded sample of a task", attnlab::cli::cmd_sample},
    {"sweep", "plan, run, submit (Slurm) or collect a sweep", attnlab::cli::cmd_sweep},
    {"results", "query a results store and export CSV", attnlab::cli::cmd_results},
    {"plot", "make paper figures from a results store", attnlab::cli::cmd_plot},
    {"reproduce", "run recipes and compute their verdicts (REPORT.md)",
     attnlab::cli::cmd_reproduce},
};

void print_usage() {
  std::fprintf(stderr, "usage: attnlab <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(stderr, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(stderr, "\nRun 'attnlab <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  attnlab::cli::Args args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const attnlab::Error& e) {
      std::fprintf(stderr, "attnlab %s: error: %s\n", c.name, e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "attnlab %s: internal error: %s\n", c.name, e.what());
      return 3;
    }
  }
  std::fprintf(stderr, "attnlab: unknown command '%s'\n\n", name.c_str());
  print_usage();
  return 2;
}
