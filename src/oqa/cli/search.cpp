// `oqa search`: finds the subnet to deploy under hardware budgets on a trained supernet run (see
// docs/search.md).
#include <cstdio>

#include <fmt/format.h>

#include "oqa/cli/commands.h"
#include "oqa/search/budget.h"
#include "oqa/search/profile.h"
#include "oqa/pipeline/run_config.h"
#include "oqa/pipeline/search_run.h"
#include "oqa/train/run_reader.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::cli {
namespace {

struct SearchArgs {
  std::string run, stage, latency_table, out, algorithm, objective, encoding, precision, profile;
  std::vector<std::string> budgets;
  int64_t samples = -1, val_images = -1, bn_images = -2, population = -1, generations = -1, top = -1;
  bool multi_objective = false, no_plot = false, json = false, no_anchors = false;
};

void print_row(const char* label, const util::Json& m) {
  const auto& c = m["costs"];
  std::printf("%-22s %9.2f %9.2f %9.2f %10s %10s %10s %6.2f %6.2f\n", label,
              m["predicted_top1"].get<double>(), m["val_top1"].get<double>(), m["test_top1"].get<double>(),
              search::format_scaled(c["macs"].get<double>()).c_str(),
              search::format_scaled(c["bitops"].get<double>()).c_str(),
              search::format_scaled(c["bytes"].get<double>()).c_str(), c["wbits"].get<double>(),
              c["abits"].get<double>());
}

int run_search(const SearchArgs& a) {
  train::LoadedRun run = train::load_run(a.run, a.stage);
  pipeline::SearchRequest req;
  req.options = pipeline::read_run_search_options(a.run);
  search::SearchOptions& o = req.options;
  if (a.samples >= 0) o.samples = a.samples;
  if (a.val_images >= 0) o.val_images = a.val_images;
  if (a.bn_images >= -1) o.bn_images = a.bn_images;
  if (a.population >= 0) o.evolution.population = a.population;
  if (a.generations >= 0) o.evolution.generations = a.generations;
  if (a.top >= 0) o.top = a.top;
  if (!a.algorithm.empty()) o.evolution.algorithm = search::parse_algorithm(a.algorithm);
  if (!a.objective.empty()) o.objective = a.objective;
  if (!a.encoding.empty()) o.predictor_encoding = a.encoding;
  if (!a.precision.empty()) o.predictor_precision = a.precision;
  if (a.multi_objective) o.evolution.multi_objective = true;
  if (a.no_anchors) o.anchors = false;
  if (!a.profile.empty()) o.profile = search::parse_profile_arg(a.profile);
  search::parse_metric(o.objective);  // fail early on a bad --objective
  for (const auto& b : a.budgets.empty() ? o.budgets : a.budgets)
    req.budgets.push_back(search::parse_budget(b));
  req.latency_table = a.latency_table;
  req.out_dir = a.out;
  req.plot = !a.no_plot;

  const util::Json s = pipeline::run_search(run, a.run, req);
  if (a.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return 0;
  }
  std::string budgets;
  for (const auto& b : s["budgets"]) budgets += (budgets.empty() ? "" : ", ") + b.get<std::string>();
  std::printf("\nsearch on %s, stage %s, budgets: %s%s\n", a.run.c_str(), s["stage"].get<std::string>().c_str(),
              budgets.empty() ? "none" : budgets.c_str(),
              s["profile"].empty() ? "" : (", profile " + s["profile"].dump()).c_str());
  std::printf("%-22s %9s %9s %9s %10s %10s %10s %6s %6s\n", "subnet", "predicted", "val", "test", "MACs",
              "BitOPs", "bytes", "wbits", "abits");
  print_row(s["best"].contains("uniform_anchor") ? "chosen (uniform anchor)" : "chosen (search)", s["best"]);
  for (const auto& x : s["anchors"])
    if (x["hash"] != s["best"]["hash"]) print_row("uniform anchor", x);
  print_row("random search best", s["random_search"]["best"]);
  print_row("largest (uniform)", s["baselines"]["largest"]);
  print_row("smallest (uniform)", s["baselines"]["smallest"]);
  const auto& se = s["search"];
  std::printf(
      "%s: %lld candidates scored in %.2f s (%lld over budget redrawn); random search: the same count\n",
      se["algorithm"].get<std::string>().c_str(), se["scored"].get<long long>(), se["seconds"].get<double>(),
      se["rejected"].get<long long>());
  const std::string dir = a.out.empty() ? a.run + "/search/" + s["stage"].get<std::string>() : a.out;
  std::printf("chosen subnet: %s/best.json\n%s\nfront: %s/pareto.json, pareto.csv%s\n", dir.c_str(),
              s["best"]["subnet"].dump().c_str(), dir.c_str(), s.contains("plot") ? ", pareto.png" : "");
  return 0;
}

}  // namespace

Runner add_search(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<SearchArgs>();
  app.add_option("--run", a->run, "run directory of a supernet training")->required();
  app.add_option("--stage", a->stage, "stage folder (w4a4, w3a3, w2a2, ...; default: the last trained)");
  app.add_option("--budget", a->budgets,
                 "KIND=VALUE, repeatable: macs, bitops, bytes, params, latency (ms), wbits, abits, bits "
                 "(e.g. --budget bitops=90M --budget bytes=80K); default: the config's search.budgets");
  app.add_option("--samples", a->samples,
                 "subnets measured on validation for the predictor (default: config)");
  app.add_option("--val-images", a->val_images, "validation images per measurement (0 = all)");
  app.add_option("--bn-images", a->bn_images, "BN recalibration images per measurement");
  app.add_option("--algorithm", a->algorithm, "evolution | ga | random")
      ->check(CLI::IsMember({"evolution", "ga", "random"}));
  app.add_option("--population", a->population, "population size (default 100)");
  app.add_option("--generations", a->generations, "generations (default 500)");
  app.add_option("--objective", a->objective, "cost axis of the front and the plot (default bitops)");
  app.add_option("--predictor-precision", a->precision,
                 "arithmetic of the predictor in the search: auto (bfloat16 where the CPU has it natively) | "
                 "float32 | bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "bfloat16"}));
  app.add_option("--predictor", a->encoding,
                 "predictor that drives the search: auto (best held-out Kendall tau; the default) | arch | quant | cond")
      ->check(CLI::IsMember({"auto", "arch", "quant", "cond"}));
  app.add_option("--profile", a->profile,
                 "forms the target runs, as inline JSON or a JSON file, e.g. '{\"weight_bits\": [2, 3, 4], "
                 "\"act_bits\": 8, \"weight_granularity\": \"per_tensor\"}': every subnet returned uses only "
                 "these in its searched layers (default: the config's search.profile)");
  app.add_flag("--multi-objective", a->multi_objective, "NSGA-II selection on (accuracy, objective cost)");
  app.add_option("--top", a->top, "best candidates measured on validation and test (default 5)");
  app.add_option("--latency-table", a->latency_table,
                 "latency table from `oqa bench latency` (latency budgets)");
  app.add_option("--out", a->out, "output folder (default <run>/search/<stage>)");
  app.add_flag("--no-anchors", a->no_anchors,
               "a mixed stage: do not measure the uniform subnets within the budgets beside the candidates");
  app.add_flag("--no-plot", a->no_plot, "skip pareto.png");
  app.add_flag("--json", a->json, "print the summary as JSON");
  return [a] { return run_search(*a); };
}

}  // namespace oqa::cli
