// `oqa plot RUN`: training curves of a run (loss, accuracy, LR, images/s) as PNG files via gnuplot.
#include <cstdio>

#include "oqa/cli/commands.h"
#include "oqa/train/metrics_plot.h"

namespace oqa::cli {
namespace {

struct PlotArgs {
  std::string run, out;
};

int run_plot(const PlotArgs& a) {
  const std::string out = a.out.empty() ? a.run + "/plots" : a.out;
  for (const auto& png : train::plot_metrics(a.run, out)) std::printf("%s\n", png.c_str());
  return 0;
}

}  // namespace

Runner add_plot(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<PlotArgs>();
  app.add_option("run", a->run, "run directory (holds metrics.jsonl)")->required();
  app.add_option("-o,--out", a->out, "folder for the PNGs (default: RUN/plots)");
  return [a] { return run_plot(*a); };
}

}  // namespace oqa::cli
