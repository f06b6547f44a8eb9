// Metrics plots: training curves of a run's metrics.jsonl drawn to PNG files with gnuplot.
#pragma once

#include <string>
#include <vector>

namespace oqa::train {

// Reads <run>/metrics.jsonl, writes one data file per stage (x = steps counted across stages in order), a
// gnuplot script and runs gnuplot: loss.png (total, largest, smallest), accuracy.png (train top-1 of largest
// and smallest, validation points), lr.png and throughput.png in out_dir. Returns the PNG paths. A missing
// gnuplot or an empty log is an input error.
std::vector<std::string> plot_metrics(const std::string& run_dir, const std::string& out_dir,
                                      const std::string& gnuplot = "gnuplot");

}  // namespace oqa::train
