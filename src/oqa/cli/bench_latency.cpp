// `oqa bench latency`: measures the latency table of a config's search space on this machine, stores it, and
// reports predicted (sum of layer entries) against measured whole-model latency for random subnets.
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/cli/commands.h"
#include "oqa/cost/latency_measure.h"
#include "oqa/space/make_space.h"
#include "oqa/util/error.h"
#include "oqa/util/progress.h"

namespace oqa::cli {
namespace {

struct LatencyArgs {
  std::string config, out = "latency_table.json";
  int subnets = 20;
  int64_t batch = 1;
  int repeats = 15;
  uint64_t seed = 0;
};

int run_latency(const LatencyArgs& a) {
  if (a.config.empty()) throw util::usage_error("give --config FILE");
  torch::manual_seed(static_cast<int64_t>(a.seed));
  auto s = space::space_from_config_file(a.config);
  auto net = space::make_supernet(s);
  cost::LatencyOptions options;
  options.batch = a.batch;
  options.repeats = a.repeats;

  const std::vector<space::Subnet> cover = cost::covering_subnets(*s);
  util::Progress progress("latency table", static_cast<int64_t>(cover.size()), "subnet");
  cost::LatencyTable table =
      cost::measure_latency_table(*net, cover, options, [&](size_t, size_t) { progress.advance(); });
  progress.finish(std::to_string(table.entries().size()) + " layer entries");

  std::mt19937_64 rng(a.seed);
  nlohmann::json rows = nlohmann::json::array();
  double abs_pct = 0.0;
  std::printf("%-18s %12s %12s %8s\n", "subnet", "predicted ms", "measured ms", "error");
  for (int i = 0; i < a.subnets; ++i) {
    const space::Subnet subnet = s->sample(rng);
    const nn::StaticModel model = cost::extract_for_timing(*net, subnet);
    const double predicted = table.predict(model), measured = cost::measure_model_ms(model, options);
    const double pct = 100.0 * (predicted - measured) / measured;
    abs_pct += std::fabs(pct);
    std::printf("%-18s %12.4f %12.4f %+7.1f%%\n", s->hash_hex(subnet).c_str(), predicted, measured, pct);
    rows.push_back(
        {{"subnet", space::to_json(subnet)}, {"predicted_ms", predicted}, {"measured_ms", measured}});
  }
  const double mean_abs_pct = a.subnets > 0 ? abs_pct / a.subnets : 0.0;
  std::printf("mean |predicted - measured| / measured over %d random subnets: %.2f%%\n", a.subnets,
              mean_abs_pct);
  table.info = {{"space", s->describe()},
                {"config", a.config},
                {"repeats", a.repeats},
                {"validation", {{"subnets", rows}, {"mean_abs_pct_error", mean_abs_pct}}}};
  table.save(a.out);
  std::printf("latency table: %s (%zu entries, batch %lld, %d threads)\n", a.out.c_str(),
              table.entries().size(), static_cast<long long>(table.batch), table.threads);
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& app, const GlobalOptions&) {
  app.require_subcommand(1);
  auto a = std::make_shared<LatencyArgs>();
  CLI::App* latency =
      app.add_subcommand("latency", "measure a space's per-layer latency table and check its predictions");
  latency->add_option("-c,--config", a->config, "experiment config with a \"space\" section")->required();
  latency->add_option("-o,--out", a->out, "where to write the table (JSON, written atomically)")
      ->capture_default_str();
  latency->add_option("--subnets", a->subnets, "random subnets whose predicted latency is checked")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  latency->add_option("--batch", a->batch, "batch size of every timing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  latency->add_option("--repeats", a->repeats, "timed runs per entry (the median is kept)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  latency->add_option("--seed", a->seed, "seed of the weights and the random subnets")->capture_default_str();
  const Runner deploy = add_bench_deploy(app);
  return [a, latency, deploy]() -> int {
    if (latency->parsed()) return run_latency(*a);
    if (deploy) return deploy();
    return static_cast<int>(util::ErrorKind::kUsage);
  };
}

}  // namespace oqa::cli
