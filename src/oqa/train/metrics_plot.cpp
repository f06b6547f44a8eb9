// plot_metrics: metrics.jsonl -> per-stage .dat columns -> gnuplot script -> PNGs.
#include "oqa/train/metrics_plot.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "oqa/train/metrics.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "oqa/util/gnuplot.h"

namespace oqa::train {
namespace {

// Columns of the data files, after x (1-based gnuplot column = index + 2).
const std::vector<std::string> kColumns = {"loss", "loss_largest", "loss_smallest", "train_top1_largest",
                                           "train_top1_smallest", "lr", "images_per_s", "val_top1_largest",
                                           "val_top1_smallest"};

std::string number_or_nan(const nlohmann::json& rec, const std::string& key) {
  if (!rec.contains(key) || !rec[key].is_number()) return "NaN";
  return fmt::format("{:.6g}", rec[key].get<double>());
}

std::string quoted(const std::string& s) { return util::gp_quoted(s); }

}  // namespace

std::vector<std::string> plot_metrics(const std::string& run_dir, const std::string& out_dir,
                                      const std::string& gnuplot) {
  const std::string log_path = run_dir + "/metrics.jsonl";
  if (!std::filesystem::exists(log_path)) throw util::input_error("no metrics log in the run").file(log_path);
  MetricsLog log(log_path);
  // Stage order of first appearance; x keeps counting across stages.
  std::vector<std::string> order;
  std::map<std::string, std::string> data;
  std::map<std::string, int64_t> offset;
  int64_t stage_base = 0, last_step = 0;
  for (const auto& rec : log.records()) {
    const std::string stage = rec.value("stage", "");
    if (stage.empty() || !rec.contains("step")) continue;
    if (!offset.count(stage)) {
      stage_base += last_step;
      offset[stage] = stage_base;
      order.push_back(stage);
    }
    last_step = rec["step"].get<int64_t>();
    std::string line = std::to_string(offset[stage] + last_step);
    for (const auto& c : kColumns) line += " " + number_or_nan(rec, c);
    data[stage] += line + "\n";
  }
  if (order.empty()) throw util::input_error("the metrics log has no training records yet").file(log_path);
  util::ensure_dir(out_dir);
  for (const auto& stage : order) util::atomic_write(out_dir + "/" + stage + ".dat", "# x " + [] {
                                                       std::string h;
                                                       for (const auto& c : kColumns) h += c + " ";
                                                       return h;
                                                     }() + "\n" + data[stage]);

  struct Plot {
    std::string file, ylabel;
    std::vector<std::string> columns;
    bool log_y = false;
  };
  const std::vector<Plot> plots = {{"loss.png", "loss", {"loss", "loss_largest", "loss_smallest"}, true},
                                   {"accuracy.png", "top-1 (%)",
                                    {"train_top1_largest", "train_top1_smallest", "val_top1_largest",
                                     "val_top1_smallest"}},
                                   {"lr.png", "learning rate", {"lr"}},
                                   {"throughput.png", "images/s", {"images_per_s"}}};
  std::ostringstream script;
  script << "set terminal png size 1000,600\nset key outside right\nset grid\nset xlabel 'step (all stages)'\n"
         << "set datafile missing 'NaN'\n";
  std::vector<std::string> pngs;
  for (const Plot& p : plots) {
    const std::string png = out_dir + "/" + p.file;
    pngs.push_back(png);
    script << "set output " << quoted(png + ".part") << "\nset ylabel " << quoted(p.ylabel) << "\n"
           << (p.log_y ? "set logscale y\n" : "unset logscale y\n") << "plot ";
    bool first = true;
    for (const auto& stage : order)
      for (const auto& c : p.columns) {
        const size_t col = std::find(kColumns.begin(), kColumns.end(), c) - kColumns.begin() + 2;
        const bool points = c.rfind("val_", 0) == 0;
        script << (first ? "" : ", ") << quoted(out_dir + "/" + stage + ".dat") << " using 1:" << col
               << (points ? " with linespoints" : " with lines") << " title " << quoted(stage + " " + c);
        first = false;
      }
    script << "\n";
  }
  util::run_gnuplot(out_dir + "/plots.gp", script.str(), pngs, gnuplot);
  return pngs;
}

}  // namespace oqa::train
