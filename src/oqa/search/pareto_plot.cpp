// draw_pareto_plot: point series -> .dat files -> one gnuplot script -> pareto.png.
#include "oqa/search/pareto_plot.h"

#include <sstream>

#include <fmt/format.h>

#include "oqa/util/atomic_file.h"
#include "oqa/util/gnuplot.h"

namespace oqa::search {

std::string draw_pareto_plot(const ParetoPlot& plot, const std::string& out_dir) {
  const std::string data_dir = out_dir + "/pareto_plot";
  util::ensure_dir(data_dir);
  struct Series {
    const char* name;
    const std::vector<PlotPoint>* points;
    const char* style;
  };
  const std::vector<Series> series = {
      {"accuracy dataset (val)", &plot.dataset, "points pt 7 ps 0.5 lc rgb '#b0b0b0'"},
      {"front, predicted", &plot.front_predicted, "steps lw 2 lc rgb '#1f77b4'"},
      {"front, measured (val)", &plot.front_measured, "points pt 9 ps 1.6 lc rgb '#1f77b4'"},
      {"top candidates (val)", &plot.candidates, "points pt 6 ps 1.6 lc rgb '#2ca02c'"},
      {"chosen subnet (val)", &plot.chosen, "points pt 3 ps 3 lw 2 lc rgb '#d62728'"},
      {"random search best (val)", &plot.random_best, "points pt 4 ps 2 lw 2 lc rgb '#9467bd'"},
      {"largest (uniform)", &plot.largest, "points pt 11 ps 2 lc rgb '#ff7f0e'"},
      {"smallest (uniform)", &plot.smallest, "points pt 13 ps 2 lc rgb '#8c564b'"},
  };
  std::ostringstream script;
  const std::string png = out_dir + "/pareto.png";
  script << "set terminal png size 1100,650\nset output " << util::gp_quoted(png + ".part") << "\n"
         << "set title " << util::gp_quoted(plot.title) << " noenhanced\nset xlabel "
         << util::gp_quoted(plot.cost_label) << " noenhanced\nset ylabel 'top-1 (%)'\nset grid\n"
         << "set key outside right\nset format x '%.1s%c'\n";  // 1.022e8 -> 102.2M
  if (plot.budget > 0)
    script << "set arrow from " << fmt::format("{:.9g}", plot.budget) << ", graph 0 to "
           << fmt::format("{:.9g}", plot.budget) << ", graph 1 nohead dt 2 lc rgb '#d62728'\n"
           << "set label 'budget' at " << fmt::format("{:.9g}", plot.budget) << ", graph 0.03 offset 0.5,0\n";
  script << "plot ";
  bool first = true;
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].points->empty()) continue;
    const std::string dat = fmt::format("{}/series{}.dat", data_dir, i);
    std::string text = "# cost top1\n";
    for (const auto& p : *series[i].points) text += fmt::format("{:.9g} {:.6g}\n", p.cost, p.top1);
    util::atomic_write(dat, text);
    script << (first ? "" : ", \\\n     ") << util::gp_quoted(dat) << " using 1:2 with " << series[i].style
           << " title " << util::gp_quoted(series[i].name);
    first = false;
  }
  script << "\n";
  util::run_gnuplot(out_dir + "/pareto.gp", script.str(), {png});
  return png;
}

}  // namespace oqa::search
