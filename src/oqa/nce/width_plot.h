// The width-per-group plot of a neural channel expansion run: base against found (widths.png).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace oqa::nce {

// Draws <run_dir>/widths.png from result.json's "groups" with gnuplot; without gnuplot, warns and returns
// false (the search's results stand without the picture).
bool plot_widths(const std::string& run_dir, const nlohmann::json& result);

}  // namespace oqa::nce
