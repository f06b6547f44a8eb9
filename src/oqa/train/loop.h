// TrainLoop: runs one training stage over epochs with checkpoints, resume, metrics, progress and NaN guard.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "oqa/data/loader.h"
#include "oqa/train/metrics.h"
#include "oqa/train/schedule.h"

namespace oqa::train {

struct StageOptions {
  std::string stage = "float";  // name, also the folder under the run directory
  std::string dir;               // <run>/<stage>
  std::string config_hash;
  double epochs = 1;  // a fraction trains the first batches of the last epoch (round(epochs x batches) steps)
  int64_t checkpoint_every = 200;  // optimizer steps; 0 = only at epoch ends
  int64_t log_every = 50;
  double grad_clip = 0;            // max global L2 norm; 0 = off
  double step_size_max_change = 0; // bound of one update's relative change of an LSQ step size; 0 = off
  // The run's last good checkpoint before this stage (the parent stage's), named when a NaN stops the stage
  // before it wrote a checkpoint of its own.
  std::string earlier_checkpoint;
  uint64_t seed = 0;
};

// Result of the forward/backward part of one step; the loop does zero_grad, clipping and the update.
struct StepResult {
  double loss = 0;
  nlohmann::json metrics = nlohmann::json::object();  // extra numbers for metrics.jsonl
};
using StepFn = std::function<StepResult(const data::Batch& batch, int64_t step)>;
// Called at each epoch end (after the last step of the epoch); returns numbers to log, e.g. val top-1.
using EpochEndFn = std::function<nlohmann::json(int64_t epoch)>;

class TrainLoop {
 public:
  TrainLoop(StageOptions options, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
            CosineSchedule schedule, data::Loader& loader, MetricsLog& metrics);

  // Loads <dir>/checkpoints/last.pt when present (refusing one of another config or stage).
  // Returns true when a checkpoint was loaded.
  bool resume();
  // True when the stage had already finished (its checkpoint says so).
  bool finished() const { return finished_; }
  // Runs the remaining epochs. Throws a numeric Error on a NaN/Inf loss, keeping the last checkpoint.
  void run(const StepFn& step, const EpochEndFn& epoch_end);

  std::string checkpoint_path() const;
  // This stage's checkpoint, else the earlier one of StageOptions, else "none yet".
  std::string last_good_checkpoint() const;
  int64_t step() const { return step_; }

 private:
  void save(bool done);
  int64_t total_steps() const;  // round(epochs x batches per epoch)
  int64_t total_epochs() const;  // epochs begun: ceil(total_steps / batches per epoch)
  StageOptions o_;
  torch::nn::Module& model_;
  torch::optim::Optimizer& optimizer_;
  CosineSchedule schedule_;
  data::Loader& loader_;
  MetricsLog& metrics_;
  int64_t step_ = 0, epoch_ = 0, batch_ = 0;
  bool finished_ = false;
};

// A training loader's options for this process: in a data-parallel run, its rank's shard of every batch.
data::LoaderOptions this_rank_shard(data::LoaderOptions options);

// Optimizer steps of `epochs` (a fraction allowed) of steps_per_epoch batches: round(epochs x batches).
int64_t epoch_steps(double epochs, int64_t steps_per_epoch);

// Seed for everything random in optimizer step `step` of a stage: a pure function, so resumed runs
// and every rank of a distributed run draw the same numbers.
uint64_t step_seed(uint64_t seed, const std::string& stage, int64_t step);

}  // namespace oqa::train
