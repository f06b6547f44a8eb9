// Names the word a command line got wrong (an unknown subcommand or option) and the nearest valid one.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace oqa::cli {

// After a failed parse of `args` (argv without the program name): "unknown subcommand 'trian' of 'oqa' (did
// you mean 'train'?)" or "unknown option '--epoch' of 'oqa train' (did you mean '--epochs'?)"; "" when the
// failure was of another kind (a missing value, a bad number), which CLI11's own message then explains.
std::string unknown_word_message(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace oqa::cli
