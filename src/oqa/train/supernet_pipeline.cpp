// Supernet pipeline: stage order, initialisation from the parent stage, per-stage results, summary.
#include "oqa/train/supernet_pipeline.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "oqa/dist/group.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/stage_init.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::train {
namespace fs = std::filesystem;

std::vector<SupernetStage> pipeline_stages(const SupernetOptions& o, bool direct_only) {
  std::vector<SupernetStage> out;
  if (direct_only) {
    if (o.direct_bits == 0) throw util::usage_error("--from-scratch needs a bit-width (--bits B)");
    out.push_back(o.stages.front());
  } else {
    out = o.stages;
  }
  if (o.direct_bits > 0) out.push_back(direct_stage(o));
  return out;
}

std::string parent_stage(const std::vector<SupernetStage>& stages, size_t index) {
  if (index == 0) return "";
  if (stages[index].name.rfind("direct-", 0) == 0) return stages.front().name;
  return stages[index - 1].name;
}

namespace {

const SupernetStage& find_stage(const std::vector<SupernetStage>& stages, const std::string& name) {
  for (const auto& s : stages)
    if (s.name == name) return s;
  throw util::internal_error("no stage named " + name);
}

void check_data_fits(const Experiment& e, const data::Splits& splits) {
  const auto shape = splits.train->shape();
  const space::Space& s = *e.space;
  if (shape.channels != s.input_channels())
    throw util::input_error("the dataset has " + std::to_string(shape.channels) + " channels, the space expects " +
                            std::to_string(s.input_channels()))
        .field("space.input_channels")
        .value(std::to_string(s.input_channels()));
  if (splits.train->num_classes() != s.classes())
    throw util::input_error("the dataset has " + std::to_string(splits.train->num_classes()) +
                            " classes, the space has " + std::to_string(s.classes()))
        .field("space.classes")
        .value(std::to_string(s.classes()));
}

}  // namespace

nlohmann::json run_supernet_pipeline(const Experiment& e, const std::string& run_dir, const PipelineOptions& po) {
  OQA_ASSERT(e.is_supernet(), "the supernet pipeline needs a config with a \"space\" section");
  data::Splits splits = data::open_splits(e.data, e.seed);
  check_data_fits(e, splits);
  spdlog::info("data: {} train / {} val / {} test images; space {} with {:.3g} subnets", splits.train->size(),
               splits.val ? splits.val->size() : 0, splits.test->size(), e.space->kind(), e.space->size());

  torch::manual_seed(static_cast<int64_t>(e.seed));
  std::shared_ptr<space::Supernet> net = space::make_supernet(e.space);
  MetricsLog metrics(run_dir + "/metrics.jsonl");
  StageContext ctx{e, run_dir, splits, metrics,
                   SubnetEvalSetup{splits.train, eval_loader_options(e.loader, e.train.eval_batch_size),
                                   e.supernet.bn_recal_images}};

  const std::vector<SupernetStage> stages = pipeline_stages(e.supernet, po.direct_only);
  nlohmann::json summary = {{"name", e.name}, {"space", e.space->kind()}, {"stages", nlohmann::json::array()}};
  for (size_t i = 0; i < stages.size(); ++i) {
    const SupernetStage& stage = stages[i];
    const std::string parent = parent_stage(stages, i);
    const std::string result_path = stage_dir(run_dir, stage.name) + "/result.json";
    std::string init = "resumed";
    if (!dist::main_decides(fs::exists(stage_checkpoint(run_dir, stage.name)))) {
      metrics.truncate_after(stage.name, 0);  // records of an attempt that died before its first checkpoint
      if (!parent.empty()) load_checkpoint(stage_checkpoint(run_dir, parent), *net, nullptr, /*restore_rng=*/false);
      init = init_stage(*net, parent.empty() ? "" : find_stage(stages, parent).quant, stage.quant,
                        stage.step_size_rule);
      util::ensure_dir(stage_dir(run_dir, stage.name));
      util::write_json(stage_dir(run_dir, stage.name) + "/init.json", {{"init", init}, {"parent", parent}});
    }
    spdlog::info("stage {} ({}, {} epochs, lr {}): {}", stage.name, stage.quant, stage.epochs, stage.lr, init);
    StageLinks links;
    if (!parent.empty()) links.earlier_checkpoint = stage_checkpoint(run_dir, parent);
    if (stage.teacher != "self") {
      const SupernetStage& t = stage.teacher == "float" ? stages.front() : find_stage(stages, parent);
      links.teacher_checkpoint = stage_checkpoint(run_dir, t.name);
      links.teacher_quant = t.quant;
    }
    const double trained = train_stage(*net, stage, ctx, links);

    nlohmann::json result;
    if (dist::main_decides(fs::exists(result_path))) {
      result = util::read_json(result_path);
    } else {
      result = evaluate_stage(*net, stage, ctx);
      result["stage"] = stage.name;
      result["quant"] = stage.quant;
      result["epochs"] = epochs_json(trained);
      if (trained != stage.epochs) result["configured_epochs"] = epochs_json(stage.epochs);
      result["parent"] = parent;
      result["init"] = util::read_json(stage_dir(run_dir, stage.name) + "/init.json").value("init", "");
      util::write_json(result_path, result);
      nlohmann::json rec = {{"stage", stage.name}, {"event", "stage_end"}};
      for (const char* which : {"largest", "smallest"})
        for (const auto& [k, v] : result[which].items()) rec[k + "_" + which] = v;
      metrics.append(rec);
      metrics.flush();
    }
    spdlog::info("stage {}: largest {} / smallest {}", stage.name, result["largest"].dump(),
                 result["smallest"].dump());
    summary["stages"].push_back(result);
  }
  util::write_json(run_dir + "/summary.json", summary);
  return summary;
}

}  // namespace oqa::train
