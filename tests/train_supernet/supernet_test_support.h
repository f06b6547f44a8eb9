// Shared fixtures of the supernet training tests: a tiny synthetic config, pipeline runs, checkpoint loading.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "oqa/space/make_space.h"
#include "oqa/space/supernet.h"
#include "oqa/train/checkpoint.h"
#include "oqa/train/experiment.h"
#include "oqa/train/supernet_pipeline.h"
#include "oqa/util/config.h"
#include "util/test_dir.h"

namespace oqa::test {

// A two-stage MobileNetV3-like space at 16 px with 2-4 bit choices, synthetic data (10 classes, 16 px, 1
// channel), batch 32, checkpoints every 4 steps; stages float (1 epoch) and w4a4 (2 epochs) unless replaced,
// each exactly as long as configured (min_stage_steps 0).
inline nlohmann::json tiny_config() {
  return nlohmann::json::parse(R"({
    "name": "tiny", "seed": 3,
    "data": {"dataset": "synthetic", "synthetic_train": 288, "synthetic_test": 160, "image_size": 16,
             "val_fraction": 0.1, "batch_size": 32, "workers": 1, "augment": {"pad_crop": 0, "hflip": false}},
    "space": {"kind": "mbv3", "input_channels": 1, "classes": 10, "resolutions": [16],
              "stem": {"channels": 8}, "first_block": {"channels": 8},
              "stages": [{"channels": 12, "stride": 2, "act": "relu", "se": false},
                         {"channels": 16, "stride": 2, "act": "hswish", "se": true}],
              "kernel": [3, 5], "expand": [2, 3], "depth": [1, 2], "final_expand": 32, "feature_mix": 32,
              "quant": {"weight_bits": [2, 3, 4], "act_bits": [2, 3, 4]}},
    "supernet": {"random_subnets": 1, "bn_recal_images": 96, "min_stage_steps": 0,
                 "stages": [{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "w4a4", "epochs": 2, "lr": 0.02}]},
    "train": {"optimizer": "sgd", "weight_decay": 3e-5, "warmup_epochs": 0, "label_smoothing": 0.1,
              "checkpoint_every": 4, "log_every": 2, "eval_batch_size": 160}
  })");
}

// The tiny config with every form elastic: both weight granularities, both symmetries of weights and inputs.
inline nlohmann::json tiny_forms_config() {
  nlohmann::json c = tiny_config();
  c["space"]["quant"]["weight_granularity"] = {"per_tensor", "per_channel"};
  c["space"]["quant"]["weight_symmetric"] = {true, false};
  c["space"]["quant"]["act_symmetric"] = {true, false};
  return c;
}

inline train::Experiment experiment_of(const nlohmann::json& config) {
  util::Config c = util::Config::from_json(config, "test-config");
  return train::read_experiment(c);
}

// Runs (or resumes) the pipeline of `config` in `run_dir` (config.json written as `oqa train` does).
inline nlohmann::json run_pipeline(const nlohmann::json& config, const std::string& run_dir,
                                   const train::PipelineOptions& options = {}) {
  train::Experiment e = experiment_of(config);
  std::filesystem::create_directories(run_dir);
  util::write_json(run_dir + "/config.json", e.resolved);
  return train::run_supernet_pipeline(e, run_dir, options);
}

// A fresh supernet of config's space holding the tensors of checkpoint `path`.
inline std::shared_ptr<space::Supernet> load_supernet(const nlohmann::json& config, const std::string& path) {
  train::Experiment e = experiment_of(config);
  auto net = space::make_supernet(e.space);
  train::load_checkpoint(path, *net, nullptr, /*restore_rng=*/false);
  return net;
}

// Largest absolute difference between same-named parameters and buffers of two modules.
inline double max_state_difference(const torch::nn::Module& a, const torch::nn::Module& b) {
  double worst = 0;
  auto pb = b.named_parameters();
  for (const auto& p : a.named_parameters())
    worst = std::max(worst, (p.value() - pb[p.key()]).abs().max().item<double>());
  auto bb = b.named_buffers();
  for (const auto& x : a.named_buffers())
    worst = std::max(worst, (x.value().to(torch::kDouble) - bb[x.key()].to(torch::kDouble)).abs().max().item<double>());
  return worst;
}

}  // namespace oqa::test
