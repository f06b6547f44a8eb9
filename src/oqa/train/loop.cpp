// TrainLoop implementation.
#include "oqa/train/loop.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/dist/grad_sync.h"
#include "oqa/dist/group.h"
#include "oqa/quant/step_guard.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/optimizer.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"
#include "oqa/util/progress.h"

namespace oqa::train {

uint64_t step_seed(uint64_t seed, const std::string& stage, int64_t step) {
  std::string key = std::to_string(seed) + "/" + stage + "/" + std::to_string(step);
  return util::fnv1a64(key) >> 1;  // keep it positive for torch::manual_seed
}

TrainLoop::TrainLoop(StageOptions options, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     CosineSchedule schedule, data::Loader& loader, MetricsLog& metrics)
    : o_(std::move(options)), model_(model), optimizer_(optimizer), schedule_(schedule), loader_(loader),
      metrics_(metrics) {}

std::string TrainLoop::checkpoint_path() const { return checkpoint_file(o_.dir); }

std::string TrainLoop::last_good_checkpoint() const {
  if (std::filesystem::exists(checkpoint_path())) return checkpoint_path();
  if (!o_.earlier_checkpoint.empty() && std::filesystem::exists(o_.earlier_checkpoint))
    return o_.earlier_checkpoint + " (the stage before: this stage has not written one yet)";
  return "none yet";
}

bool TrainLoop::resume() {
  const std::string path = checkpoint_path();
  if (!dist::main_decides(std::filesystem::exists(path))) return false;
  CheckpointMeta meta = read_checkpoint_meta(path);
  if (meta.config_hash != o_.config_hash)
    throw util::input_error("checkpoint was written by a different config (hash " + meta.config_hash +
                            ", this config " + o_.config_hash + "); start a new run directory")
        .file(path);
  if (meta.stage != o_.stage)
    throw util::input_error("checkpoint belongs to stage '" + meta.stage + "', expected '" + o_.stage + "'")
        .file(path);
  load_checkpoint(path, model_, &optimizer_);
  step_ = meta.step;
  epoch_ = meta.epoch;
  batch_ = meta.batch;
  finished_ = meta.extra.value("done", false);
  metrics_.truncate_after(o_.stage, step_);
  spdlog::info("{}: resumed from {} (epoch {}, batch {}, step {}{})", o_.stage, path, epoch_ + 1, batch_, step_,
               finished_ ? ", stage finished" : "");
  return true;
}

data::LoaderOptions this_rank_shard(data::LoaderOptions options) {
  options.shard_rank = dist::rank();
  options.shard_count = dist::world_size();
  return options;
}

int64_t epoch_steps(double epochs, int64_t steps_per_epoch) {
  return static_cast<int64_t>(std::llround(epochs * static_cast<double>(steps_per_epoch)));
}

int64_t TrainLoop::total_steps() const { return epoch_steps(o_.epochs, loader_.batches_per_epoch()); }

int64_t TrainLoop::total_epochs() const {
  const int64_t per_epoch = std::max<int64_t>(1, loader_.batches_per_epoch());
  return (total_steps() + per_epoch - 1) / per_epoch;
}

void TrainLoop::save(bool done) {
  CheckpointMeta meta;
  meta.config_hash = o_.config_hash;
  meta.stage = o_.stage;
  meta.step = step_;
  meta.epoch = epoch_;
  meta.batch = batch_;
  meta.extra["done"] = done;
  metrics_.flush();
  save_checkpoint(checkpoint_path(), model_, &optimizer_, meta);  // rank 0 alone writes (util::set_file_writes)
  dist::barrier();  // the other ranks read it only once it is whole
}

void TrainLoop::run(const StepFn& step_fn, const EpochEndFn& epoch_end) {
  if (finished_) return;
  util::ensure_dir(o_.dir + "/checkpoints");
  const char* nan_env = std::getenv("OQA_DEBUG_NAN_AT_STEP");  // test hook: inject a NaN loss
  const int64_t nan_at = nan_env ? std::atoll(nan_env) : -1;
  const int64_t per_epoch = loader_.batches_per_epoch();
  quant::StepSizeGuard guard(o_.step_size_max_change);
  dist::broadcast_state(model_);  // data-parallel: every rank starts from rank 0's weights

  const int64_t total = total_steps(), epochs = total_epochs();
  while (epoch_ < epochs) {
    model_.train();
    loader_.start_epoch(epoch_, batch_);
    const int64_t batches = std::min(per_epoch, total - epoch_ * per_epoch);  // the last epoch may be cut short
    util::Progress progress(fmt::format("{} epoch {}/{}", o_.stage, epoch_ + 1, epochs), batches - batch_,
                            "batch", 15.0);
    double loss_sum = 0;
    int64_t loss_n = 0, images = 0;
    double sync_s = 0;  // seconds of the window spent averaging gradients over the ranks
    quant::StepSizeClamps clamps;
    auto window_start = std::chrono::steady_clock::now();
    while (batch_ < batches) {
      auto batch = loader_.next();
      if (!batch) break;
      torch::manual_seed(step_seed(o_.seed, o_.stage, step_));
      const double lr = schedule_.lr_at(step_);
      set_lr(optimizer_, lr);
      // Gradients set to none, not zero: a parameter the step does not use (an inactive subnet's) then gets
      // no momentum or weight-decay update, so a resumed run replays an uninterrupted one exactly.
      for (auto& p : model_.parameters()) p.mutable_grad() = torch::Tensor();
      StepResult r = step_fn(*batch, step_);
      // Data-parallel: gradients and loss averaged over the ranks' shards of the batch (no-op in one process).
      const auto sync_start = std::chrono::steady_clock::now();
      r.loss = dist::average_gradients(model_, r.loss, batch->images.size(0));
      sync_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - sync_start).count();
      if (step_ == nan_at) r.loss = std::nan("");
      if (!std::isfinite(r.loss)) {
        metrics_.flush();
        throw util::Error(util::ErrorKind::kNumeric,
                          fmt::format("loss is {} at step {} (epoch {}, batch {}) of stage '{}'; weights not "
                                      "updated; last good checkpoint: {}",
                                      r.loss, step_, epoch_ + 1, batch_, o_.stage, last_good_checkpoint()));
      }
      if (o_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model_.parameters(), o_.grad_clip);
      guard.before_step(model_);
      optimizer_.step();
      clamps += guard.after_step();  // SGD may push a step size to zero or below, or far off in one update
      ++step_;
      ++batch_;
      loss_sum += r.loss;
      ++loss_n;
      images += batch->global_size;
      progress.advance(1, fmt::format("loss {:.4f} lr {:.4g}", r.loss, lr));

      if (o_.log_every > 0 && step_ % o_.log_every == 0) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        nlohmann::json rec = {{"stage", o_.stage}, {"step", step_}, {"epoch", epoch_ + 1},
                              {"loss", loss_sum / loss_n}, {"lr", lr},
                              {"images_per_s", secs > 0 ? images / secs : 0.0},
                              {"step_sizes_bounded", clamps.bounded}, {"step_sizes_at_min", clamps.at_min}};
        if (dist::active()) rec["allreduce_share"] = secs > 0 ? sync_s / secs : 0.0;
        if (r.metrics.is_object()) rec.update(r.metrics);
        metrics_.append(rec);
        loss_sum = 0, loss_n = 0, images = 0, sync_s = 0;
        clamps = {};
        window_start = std::chrono::steady_clock::now();
      }
      if (o_.checkpoint_every > 0 && step_ % o_.checkpoint_every == 0 && batch_ < batches) save(false);
    }
    progress.finish();
    nlohmann::json rec = {{"stage", o_.stage}, {"step", step_}, {"epoch", epoch_ + 1}, {"event", "epoch_end"}};
    if (epoch_end) {
      const nlohmann::json extra = epoch_end(epoch_);
      if (extra.is_object()) rec.update(extra);
    }
    metrics_.append(rec);
    spdlog::info("{} epoch {}/{}: {}", o_.stage, epoch_ + 1, epochs, rec.dump());
    // Checkpoint as "next epoch, batch 0" so a resume starts the following epoch.
    ++epoch_;
    batch_ = 0;
    save(epoch_ >= epochs);
  }
  finished_ = true;
}

}  // namespace oqa::train
