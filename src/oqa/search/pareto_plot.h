// pareto.png: measured and predicted top-1 against a cost metric (accuracy dataset, predicted front, measured
// front, searched candidates, chosen subnet, random-search best, uniform largest / smallest, budget line).
#pragma once

#include <string>
#include <vector>

namespace oqa::search {

struct PlotPoint {
  double cost = 0, top1 = 0;
};

struct ParetoPlot {
  std::string title, cost_label;
  std::vector<PlotPoint> dataset;         // accuracy dataset (measured validation top-1)
  std::vector<PlotPoint> front_predicted;  // the searched front, predicted
  std::vector<PlotPoint> front_measured;   // some of its points, measured on validation
  std::vector<PlotPoint> candidates;       // top candidates, measured on validation
  std::vector<PlotPoint> chosen, random_best, largest, smallest;  // one point each (validation)
  double budget = 0;                       // > 0: a vertical line at the budget on the cost axis
};

// Writes <out_dir>/pareto_plot/*.dat, pareto.gp and draws <out_dir>/pareto.png; returns its path.
std::string draw_pareto_plot(const ParetoPlot& plot, const std::string& out_dir);

}  // namespace oqa::search
