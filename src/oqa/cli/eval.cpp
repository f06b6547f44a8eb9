// `oqa eval`: top-1 (BN recalibrated), MACs, BitOPs and bytes of one subnet of a trained supernet run.
#include <cstdio>

#include "oqa/cli/commands.h"
#include "oqa/cost/cost.h"
#include "oqa/data/registry.h"
#include "oqa/train/run_reader.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::cli {
namespace {

struct EvalArgs {
  std::string run, stage, subnet = "largest", split = "test";
  int64_t bn_images = -1;
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  train::LoadedRun run = train::load_run(a.run, a.stage);
  const train::Experiment& e = run.experiment;
  const space::Subnet subnet = train::read_subnet_arg(*e.space, a.subnet, run.stage.quant);
  data::Splits splits = data::open_splits(e.data, e.seed);
  const data::DatasetPtr split = a.split == "val" ? splits.val : splits.test;
  if (!split || split->size() == 0) throw util::usage_error("the run's data has no " + a.split + " split");
  train::SubnetEvalSetup setup{splits.train, train::eval_loader_options(e.loader, e.train.eval_batch_size),
                               a.bn_images >= 0 ? a.bn_images : e.supernet.bn_recal_images};
  const train::EvalResult r = train::evaluate_subnet(*run.net, subnet, split, setup, "eval " + a.split);
  const cost::CostSummary c = cost::count(*e.space, subnet);
  if (a.json) {
    util::Json out = {{"run", a.run},         {"stage", run.stage.name}, {"split", a.split},
                      {"top1", r.top1},       {"loss", r.loss},          {"samples", r.samples},
                      {"bn_images", setup.bn_images}, {"subnet", space::to_json(subnet)},
                      {"cost", c.to_json()}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("run %s, stage %s, subnet %s\n", a.run.c_str(), run.stage.name.c_str(), space::to_string(subnet).c_str());
  std::printf("top-1 (%s, %lld images, BN recalibrated on %lld): %.2f%%\n", a.split.c_str(),
              static_cast<long long>(r.samples), static_cast<long long>(setup.bn_images), r.top1);
  std::printf("MACs %.4g  BitOPs %.4g  bytes %.4g  params %.4g  avg bits w%.2f a%.2f\n", c.macs, c.bitops, c.bytes,
              c.params, c.avg_weight_bits, c.avg_act_bits);
  return 0;
}

}  // namespace

Runner add_eval(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<EvalArgs>();
  app.add_option("--run", a->run, "run directory of a supernet training")->required();
  app.add_option("--stage", a->stage, "stage folder (float, w4a4, w3a3, w2a2, ...; default: the last trained)");
  app.add_option("--subnet", a->subnet, "subnet JSON file, or largest | smallest (at the stage's bits)");
  app.add_option("--split", a->split, "test | val")->check(CLI::IsMember({"test", "val"}));
  app.add_option("--bn-images", a->bn_images, "training images for BN recalibration (default: the config's)");
  app.add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_eval(*a); };
}

}  // namespace oqa::cli
