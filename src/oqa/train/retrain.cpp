// retrain_subnet: the fixed-subnet stage, its folder name, initial weights and result.
#include "oqa/train/retrain.h"

#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/dist/group.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/run_reader.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::train {
namespace fs = std::filesystem;

namespace {

// The run's stage at `quant`, for the default epochs and learning rate.
const SupernetStage* stage_at(const SupernetOptions& sn, const std::string& quant) {
  for (const SupernetStage& s : sn.stages)
    if (s.quant == quant) return &s;
  return nullptr;
}

}  // namespace

nlohmann::json retrain_subnet(const Experiment& e, const std::string& run_dir, const RetrainOptions& o) {
  OQA_ASSERT(e.is_supernet(), "retraining needs a supernet run");
  const space::Space& space = *e.space;
  // bits 0: the subnet's own quantization, trained like a mixed stage (which keeps a subnet's quant as it is).
  const std::string quant = o.bits ? fmt::format("w{}a{}", o.bits, o.bits) : "mixed";
  const std::string tag = o.bits ? quant : "own";
  const SupernetStage* like = stage_at(e.supernet, quant);
  SupernetStage stage;
  stage.quant = quant;
  stage.epochs = o.epochs > 0 ? o.epochs : like ? like->epochs : 0;
  stage.lr = o.lr > 0 ? o.lr : like ? like->lr : 0;
  if (stage.epochs <= 0 || stage.lr <= 0)
    throw util::usage_error("the run has no " + quant + " stage to take epochs and lr from: give --epochs and --lr")
        .file(run_dir + "/config.json");
  const space::Subnet subnet = read_subnet_arg(space, o.subnet, o.bits ? "float" : "mixed");
  const std::string base = o.subnet == "largest" || o.subnet == "smallest" ? o.subnet : fs::path(o.subnet).stem().string();
  stage.name = fmt::format("retrain/{}-{}-e{:g}-lr{:g}{}", base, tag, stage.epochs, stage.lr, o.from_scratch ? "-scratch" : "");

  data::Splits splits = data::open_splits(e.data, e.seed);
  torch::manual_seed(static_cast<int64_t>(e.seed));
  std::shared_ptr<space::Supernet> net = space::make_supernet(e.space);
  const std::string dir = stage_dir(run_dir, stage.name);
  const std::string float_ckpt = stage_checkpoint(run_dir, e.supernet.stages.front().name);
  std::string init = "random weights, step sizes from data";
  if (!o.from_scratch) {
    if (!fs::exists(float_ckpt))
      throw util::input_error("the run's float stage has no checkpoint to start from (train it first, or pass "
                              "--from-scratch)")
          .file(float_ckpt);
    if (!dist::main_decides(fs::exists(stage_checkpoint(run_dir, stage.name))))
      load_checkpoint(float_ckpt, *net, nullptr, /*restore_rng=*/false);
    init = "float weights of " + e.supernet.stages.front().name + ", step sizes from data";
  }
  util::ensure_dir(dir);
  MetricsLog metrics(dir + "/metrics.jsonl");
  // Epochs given on the command line are trained as given; the run's own stage epochs are lengthened by
  // supernet.min_stage_steps as that stage was.
  Experiment exact = e;
  if (o.epochs > 0) exact.supernet.min_stage_steps = 0;
  exact.supernet.wdr_weight = 0;  // plain LSQ: the supernet's regulariser is not part of the baseline
  StageContext ctx{exact, run_dir, splits, metrics,
                   SubnetEvalSetup{splits.train, eval_loader_options(e.loader, e.train.eval_batch_size),
                                   e.supernet.bn_recal_images}};
  spdlog::info("retraining {} at {} for {} epochs (lr {}) into {}", o.subnet, tag, stage.epochs, stage.lr, dir);
  StageLinks links;
  links.fixed_subnet = subnet;
  const double trained = train_stage(*net, stage, ctx, links);

  const std::string result_path = dir + "/result.json";
  if (dist::main_decides(fs::exists(result_path))) return util::read_json(result_path);
  const space::Subnet quantized = apply_stage_quant(space, subnet, quant);
  nlohmann::json result = {{"subnet", o.subnet}, {"quant", tag},
                           {"subnet_quant", space::to_json(space.canonical(quantized))["quant"]},
                           {"epochs", epochs_json(trained)}, {"lr", stage.lr}, {"init", init}, {"dir", dir}};
  if (splits.val && splits.val->size() > 0)
    result["val_top1"] = evaluate_subnet(*net, quantized, splits.val, ctx.eval, "retrained val").top1;
  result["test_top1"] = evaluate_subnet(*net, quantized, splits.test, ctx.eval, "retrained test").top1;
  util::write_json(result_path, result);
  return result;
}

}  // namespace oqa::train
