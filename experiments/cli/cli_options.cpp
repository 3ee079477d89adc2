#include "experiments/cli/cli_options.h"

#include <iostream>

#include "core/tensor/error.h"

namespace attnlab::cli {

bool parse_options(const Args& args, const std::string& usage, po::options_description& desc,
                   po::variables_map& vm, const po::positional_options_description* positional) {
  desc.add_options()("help,h", "show this help");
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << usage << "\n\n" << desc << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + "\nusage: " + usage);
  }
  return true;
}

}  // namespace attnlab::cli
