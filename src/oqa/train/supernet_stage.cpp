// Stage training: TrainLoop around sandwich_step / gpg_step with per-step subnet sampling.
#include "oqa/train/supernet_stage.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/train/bn_recalibrate.h"
#include "oqa/train/channel_sort.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/distill_loss.h"
#include "oqa/train/gpg.h"
#include "oqa/dist/group.h"
#include "oqa/train/loop.h"
#include "oqa/train/progressive.h"
#include "oqa/train/sandwich.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"

namespace oqa::train {

std::string stage_dir(const std::string& run_dir, const std::string& stage) {
  return run_dir + "/" + stage;
}

std::string stage_checkpoint(const std::string& run_dir, const std::string& stage) {
  return checkpoint_file(stage_dir(run_dir, stage));
}

std::string stage_config_hash(const Experiment& e, const SupernetStage& stage) {
  // The run's hash leaves the direct baseline's settings out (a run gains the baseline on resume); the
  // baseline's own checkpoints carry them (its name holds bits, epochs and learning rate).
  if (stage.name.rfind("direct-", 0) != 0) return e.hash;
  return util::hex64(util::fnv1a64(e.hash + "/" + stage.name));
}

namespace {

// Largest and smallest on one split, leaving the training state (BN statistics, mode) as it was.
nlohmann::json evaluate_extremes(space::Supernet& net, const SupernetStage& stage, StageContext& ctx,
                                 const data::DatasetPtr& split, const std::string& split_name) {
  const space::Space& space = net.space();
  const space::Subnet previous = net.active();
  nlohmann::json out;
  for (const char* which : {"largest", "smallest"}) {
    space::Subnet s =
        apply_stage_quant(space, which[0] == 'l' ? space.largest() : space.smallest(), stage.quant);
    auto r = evaluate_subnet(net, s, split, ctx.eval, stage.name + " " + which + " " + split_name);
    out[which] = r.top1;
  }
  net.set_active(previous);
  return out;
}

// A frozen copy of a stage's supernet with its largest subnet active at `quant`. It runs in train mode (batch
// statistics, as the students do); its running statistics change but are never saved.
std::shared_ptr<space::Supernet> frozen_teacher(std::shared_ptr<const space::Space> space,
                                                const std::string& checkpoint, const std::string& quant) {
  std::shared_ptr<space::Supernet> t = space::make_supernet(space);
  load_checkpoint(checkpoint, *t, nullptr, /*restore_rng=*/false);
  for (auto& p : t->parameters()) p.set_requires_grad(false);
  t->set_active(apply_stage_quant(*space, space->largest(), quant));
  t->train();
  return t;
}

torch::Tensor teacher_soft_labels(space::Supernet& teacher, const data::Batch& batch) {
  torch::NoGradGuard no_grad;
  return soft_labels(teacher.forward(batch.images));
}

}  // namespace

nlohmann::json epochs_json(double epochs) {
  if (epochs == std::floor(epochs) && std::abs(epochs) < 1e15) return static_cast<int64_t>(epochs);
  return epochs;
}

double trained_epochs(double epochs, int64_t steps_per_epoch, int64_t min_steps) {
  if (epochs == 0 || steps_per_epoch <= 0) return epochs;
  if (epoch_steps(epochs, steps_per_epoch) >= min_steps) return epochs;
  return static_cast<double>((min_steps + steps_per_epoch - 1) / steps_per_epoch);
}

ScheduleOptions stage_schedule(const SupernetOptions& sn, const SupernetStage& stage, const TrainOptions& train,
                               int64_t steps_per_epoch) {
  const auto steps_of = [&](const SupernetStage& s) {
    return epoch_steps(trained_epochs(s.epochs, steps_per_epoch, sn.min_stage_steps), steps_per_epoch);
  };
  const auto it = std::find_if(sn.stages.begin(), sn.stages.end(),
                               [&](const SupernetStage& s) { return s.name == stage.name; });
  size_t first = 0, last = 0;  // the chain sharing one cosine, as indices into sn.stages
  if (it != sn.stages.end()) {
    const size_t i = static_cast<size_t>(it - sn.stages.begin());
    first = last = i;
    while (first > 0 && sn.stages[first].continue_schedule) --first;
    while (last + 1 < sn.stages.size() && sn.stages[last + 1].continue_schedule) ++last;
  }
  const SupernetStage& head = it != sn.stages.end() ? sn.stages[first] : stage;
  ScheduleOptions o;
  o.base_lr = head.lr;
  o.min_lr = train.min_lr;
  const double warmup = head.warmup_epochs >= 0 ? head.warmup_epochs : train.warmup_epochs;
  o.warmup_steps = static_cast<int64_t>(std::llround(warmup * steps_per_epoch));
  int64_t total = steps_of(stage);
  if (it != sn.stages.end()) {
    total = 0;
    for (size_t k = first; k <= last; ++k) {
      if (&sn.stages[k] == &*it) o.offset_steps = total;
      total += steps_of(sn.stages[k]);
    }
  }
  o.total_steps = std::max<int64_t>(1, total);
  return o;
}

double train_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx, const StageLinks& links) {
  const Experiment& e = ctx.experiment;
  data::LoaderOptions lo = e.loader;
  lo.seed = step_seed(e.seed, stage.name + "/data", 0);
  data::Loader loader(ctx.splits.train, this_rank_shard(lo));
  auto optimizer = make_optimizer(net, [&] {
    OptimizerOptions o = e.train.optimizer;
    o.lr = stage.lr;
    return o;
  }());

  const int64_t per_epoch = loader.batches_per_epoch();
  const double epochs = trained_epochs(stage.epochs, per_epoch, e.supernet.min_stage_steps);
  if (epochs != stage.epochs)
    spdlog::info("{}: {} epoch(s) of {} steps is under supernet.min_stage_steps = {}: training {} epochs", stage.name,
                 stage.epochs, per_epoch, e.supernet.min_stage_steps, epochs);
  const ScheduleOptions sched = stage_schedule(e.supernet, stage, e.train, per_epoch);
  if (stage.continue_schedule)
    spdlog::info("{}: continues the cosine schedule at step {} of {} (lr {:.4g})", stage.name, sched.offset_steps,
                 sched.total_steps, CosineSchedule(sched).lr_at(0));

  StageOptions so;
  so.stage = stage.name;
  so.dir = stage_dir(ctx.run_dir, stage.name);
  so.config_hash = stage_config_hash(e, stage);
  so.epochs = epochs;
  so.checkpoint_every = e.train.checkpoint_every;
  so.log_every = e.train.log_every;
  so.grad_clip = e.train.grad_clip;
  so.step_size_max_change = e.train.step_size_max_change;
  so.seed = e.seed;
  so.earlier_checkpoint = links.earlier_checkpoint;

  TrainLoop loop(so, net, *optimizer, CosineSchedule(sched), loader, ctx.metrics);
  const bool resumed = loop.resume();  // rank 0's answer in a data-parallel run
  if (epochs == 0) {  // nothing to train: the initial weights are the stage's result
    if (!resumed) {
      util::ensure_dir(so.dir + "/checkpoints");
      CheckpointMeta meta;
      meta.config_hash = so.config_hash;
      meta.stage = stage.name;
      meta.extra["done"] = true;
      ctx.metrics.flush();
      save_checkpoint(loop.checkpoint_path(), net, optimizer.get(), meta);
    }
    dist::barrier();  // data-parallel: the other ranks read it only once it is whole
    return 0;
  }

  const SupernetOptions& sn = e.supernet;
  DistillOptions distill;
  distill.label_smoothing = e.train.label_smoothing;
  distill.kd_ce_weight = sn.kd_ce_weight;
  distill.wdr_weight = sn.wdr_weight;
  const bool gpg = sn.distill == "gpg";
  std::shared_ptr<space::Supernet> teacher;
  if (!links.teacher_checkpoint.empty()) {
    OQA_ASSERT(!gpg, "a frozen teacher with GPG (the config reader refuses it)");
    teacher = frozen_teacher(net.space_ptr(), links.teacher_checkpoint, links.teacher_quant);
    spdlog::info("{}: distilling from the largest subnet of {} ({})", stage.name, links.teacher_checkpoint,
                 links.teacher_quant);
  }
  std::optional<ProgressivePlan> plan;
  if (stage.progressive) {
    plan = progressive_plan(net.space(), sched.total_steps);
    std::string phases;
    for (int i = 0; i < static_cast<int>(plan->phases.size()); ++i)
      phases += fmt::format("{}{} from step {}", i ? ", " : "", plan->phases[static_cast<size_t>(i)],
                            plan->phase_start(i));
    spdlog::info("{}: progressive shrinking: {}", stage.name, phases);
  }
  StepFn step = [&](const data::Batch& batch, int64_t step_index) {
    // Gradients "none", not zero: a parameter no subnet of this step uses (a 3x3 kernel transform, a deep
    // block) then gets no momentum or decay update, so a step does not depend on what earlier steps of the
    // same process touched, and a resumed run matches an uninterrupted one.
    for (auto& p : net.parameters()) p.mutable_grad().reset();
    std::function<space::Subnet(const space::Subnet&)> shape;
    if (plan) {
      const int phase = plan->phase_at(step_index);
      if (step_index == plan->phase_start(phase) && phase > 0) {
        spdlog::info("{}: step {}: {} becomes elastic", stage.name, step_index,
                     plan->phases[static_cast<size_t>(phase)]);
        // Once-for-All: before width shrinks, the channels narrow subnets keep become the most important
        // ones. A resumed run repeats this only when it resumes from before this step (checkpoints hold the
        // result).
        if (plan->phases[static_cast<size_t>(phase)] == "width")
          spdlog::info("{}: channels of {} blocks sorted by importance", stage.name,
                       sort_channels_by_importance(net, optimizer.get()));
      }
      shape = [&, phase](const space::Subnet& s) { return restrict_to_phase(net.space(), s, *plan, phase); };
    }
    auto subnets = links.fixed_subnet
                       ? std::vector<space::Subnet>{apply_stage_quant(net.space(), *links.fixed_subnet, stage.quant)}
                       : sandwich_subnets(net.space(), stage.quant, sn.random_subnets,
                                          step_seed(e.seed, stage.name + "/subnets", step_index), shape);
    if (gpg && !links.fixed_subnet) return gpg_step(net, batch, subnets, distill);
    return sandwich_step(net, batch, subnets, distill, teacher ? teacher_soft_labels(*teacher, batch) : torch::Tensor());
  };
  EpochEndFn epoch_end = [&](int64_t) -> nlohmann::json {
    if (!sn.eval_each_epoch || links.fixed_subnet || !ctx.splits.val || ctx.splits.val->size() == 0)
      return nlohmann::json::object();
    BufferSnapshot snapshot(net);
    nlohmann::json top1 = evaluate_extremes(net, stage, ctx, ctx.splits.val, "val");
    snapshot.restore(net);
    net.train();
    return {{"val_top1_largest", top1["largest"]}, {"val_top1_smallest", top1["smallest"]}};
  };
  loop.run(step, epoch_end);
  return epochs;
}

nlohmann::json evaluate_stage(space::Supernet& net, const SupernetStage& stage, StageContext& ctx) {
  nlohmann::json out = {{"largest", nlohmann::json::object()}, {"smallest", nlohmann::json::object()}};
  std::vector<std::pair<std::string, data::DatasetPtr>> splits;
  if (ctx.splits.val && ctx.splits.val->size() > 0) splits.emplace_back("val", ctx.splits.val);
  splits.emplace_back("test", ctx.splits.test);
  BufferSnapshot snapshot(net);  // BN recalibration must not leave the smallest subnet's statistics behind
  for (const auto& [name, split] : splits) {
    nlohmann::json top1 = evaluate_extremes(net, stage, ctx, split, name);
    for (const char* which : {"largest", "smallest"}) out[which][name + "_top1"] = top1[which];
  }
  snapshot.restore(net);
  return out;
}

}  // namespace oqa::train
