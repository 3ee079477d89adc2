#pragma once
// Shared option parsing for the subcommands (boost::program_options over the argument vector).
#include <boost/program_options.hpp>
#include <string>

#include "experiments/cli/commands.h"

namespace attnlab::cli {

namespace po = boost::program_options;

// Parses `args` against `desc` (and positional names, if any). Prints help and returns false on
// --help; throws attnlab::Error with the parser's message on bad options.
bool parse_options(const Args& args, const std::string& usage, po::options_description& desc,
                   po::variables_map& vm,
                   const po::positional_options_description* positional = nullptr);

}  // namespace attnlab::cli
