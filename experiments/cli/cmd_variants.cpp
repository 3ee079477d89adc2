// attnlab variants: every registered attention variant with its parameters and source.
#include <cstdio>

#include "core/attention/attention.h"
#include "experiments/cli/cli_options.h"

namespace attnlab::cli {

int cmd_variants(const Args& args) {
  po::options_description desc("variants options");
  po::variables_map vm;
  if (!parse_options(args, "attnlab variants", desc, vm)) return 0;
  for (const VariantInfo& v : attention_variants()) {
    std::printf("%-16s %s\n", v.name.c_str(), v.summary.c_str());
    if (!v.params_help.empty()) std::printf("%-16s   params: %s\n", "", v.params_help.c_str());
  }
  return 0;
}

}  // namespace attnlab::cli
