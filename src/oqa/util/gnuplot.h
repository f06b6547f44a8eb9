// Gnuplot runner: writes a script atomically, runs gnuplot on it, and moves each finished PNG into place.
#pragma once

#include <string>
#include <vector>

namespace oqa::util {

// gnuplot single-quoted string.
std::string gp_quoted(const std::string& s);

// Writes `script` to script_path, runs `gnuplot script_path` (stderr to <dir of script>/gnuplot.log) and renames
// every "<png>.part" the script wrote to "<png>", so readers only ever see whole images. A missing gnuplot or a
// failing script is an input error naming the script and the log.
void run_gnuplot(const std::string& script_path, const std::string& script, const std::vector<std::string>& pngs,
                 const std::string& gnuplot = "gnuplot");

}  // namespace oqa::util
