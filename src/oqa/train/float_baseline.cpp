// Float baseline training: data splits, model, optimizer, cosine schedule, TrainLoop, final test.
#include "oqa/train/float_baseline.h"

#include <torch/nn/functional/loss.h>

#include <cmath>

#include <spdlog/spdlog.h>

#include "oqa/nn/baseline_cnn.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/evaluate.h"
#include "oqa/train/loop.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/util/config.h"

namespace oqa::train {

nlohmann::json run_float_baseline(const Experiment& e, const std::string& run_dir) {
  auto splits = data::open_splits(e.data, e.seed);
  const auto shape = splits.train->shape();
  spdlog::info("data: {} train / {} val / {} test images of {}x{}x{}, {} classes", splits.train->size(),
               splits.val ? splits.val->size() : 0, splits.test->size(), shape.channels, shape.height, shape.width,
               splits.train->num_classes());

  torch::manual_seed(static_cast<int64_t>(e.seed));
  nn::BaselineCnn model(nn::BaselineCnnOptions{shape.channels, splits.train->num_classes(), e.model.width});
  auto optimizer = make_optimizer(*model, e.train.optimizer);

  data::Loader train_loader(splits.train, this_rank_shard(e.loader));
  const data::LoaderOptions eval_opts = eval_loader_options(e.loader, e.train.eval_batch_size);

  const int64_t per_epoch = train_loader.batches_per_epoch();
  ScheduleOptions sched;
  sched.base_lr = e.train.optimizer.lr;
  sched.min_lr = e.train.min_lr;
  sched.warmup_steps = static_cast<int64_t>(std::llround(e.train.warmup_epochs * per_epoch));
  sched.total_steps = e.train.epochs * per_epoch;

  StageOptions so;
  so.stage = "float";
  so.dir = run_dir + "/float";
  so.config_hash = e.hash;
  so.epochs = e.train.epochs;
  so.checkpoint_every = e.train.checkpoint_every;
  so.log_every = e.train.log_every;
  so.grad_clip = e.train.grad_clip;
  so.step_size_max_change = e.train.step_size_max_change;
  so.seed = e.seed;

  MetricsLog metrics(run_dir + "/metrics.jsonl");
  TrainLoop loop(so, *model, *optimizer, CosineSchedule(sched), train_loader, metrics);
  loop.resume();

  auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
  auto ce = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(e.train.label_smoothing);
  StepFn step = [&](const data::Batch& b, int64_t) {
    auto logits = model->forward(b.images);
    auto loss = torch::nn::functional::cross_entropy(logits, b.labels, ce);
    loss.backward();
    return StepResult{loss.item<double>(), {}};
  };
  EpochEndFn epoch_end = [&](int64_t) -> nlohmann::json {
    if (!splits.val || splits.val->size() == 0) return {};
    model->eval();
    data::Loader val_loader(splits.val, eval_opts);
    auto r = evaluate(forward, val_loader, "validate");
    model->train();
    return {{"val_top1", r.top1}, {"val_loss", r.loss}};
  };
  loop.run(step, epoch_end);

  model->eval();
  data::Loader test_loader(splits.test, eval_opts);
  auto test = evaluate(forward, test_loader, "test");
  nlohmann::json summary = {{"stage", "float"},           {"model", e.model.kind},
                            {"test_top1", test.top1},      {"test_loss", test.loss},
                            {"test_samples", test.samples}, {"steps", loop.step()},
                            {"checkpoint", loop.checkpoint_path()}};
  for (auto it = metrics.records().rbegin(); it != metrics.records().rend(); ++it)
    if (it->contains("val_top1")) {
      summary["val_top1"] = (*it)["val_top1"];
      break;
    }
  util::write_json(run_dir + "/summary.json", summary);
  return summary;
}

}  // namespace oqa::train
