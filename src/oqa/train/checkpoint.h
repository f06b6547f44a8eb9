// Checkpoints: model tensors, optimizer state, RNG state and a JSON header, written atomically.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace oqa::train {

// What a checkpoint says about the run besides tensors. `config_hash` ties it to one config.
struct CheckpointMeta {
  int format_version = 1;
  std::string config_hash;
  std::string stage;       // e.g. "float", "w4a4"
  int64_t step = 0;        // optimizer steps done in this stage
  int64_t epoch = 0;       // epoch in progress
  int64_t batch = 0;       // batches of that epoch already consumed
  nlohmann::json extra = nlohmann::json::object();

  nlohmann::json to_json() const;
  static CheckpointMeta from_json(const nlohmann::json& j, const std::string& file);
};

// Writes model parameters and buffers, the optimizer (may be null), the CPU RNG state and `meta`.
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const CheckpointMeta& meta);

// Reads `path` into `model` (and `optimizer` when given). A missing tensor, a shape mismatch, a
// truncated or foreign file: an input error naming the file. The RNG state is restored when asked.
CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng = true);

// Reads only the header.
CheckpointMeta read_checkpoint_meta(const std::string& path);

// The checkpoint file of a stage folder: <stage_dir>/checkpoints/last.pt (the one place that names it).
std::string checkpoint_file(const std::string& stage_dir);

}  // namespace oqa::train
