// `oqa info --config C`: the search space of an experiment config (kind, size, smallest and largest costs).
#pragma once

#include <string>

namespace oqa::cli {

// Reads the "space" section of the config (errors name the file and key, unknown keys inside it included)
// and prints the space's kind, size and the MACs, params, bytes and BitOPs of its smallest and largest
// subnets.
void print_space_info(const std::string& config_path);

}  // namespace oqa::cli
