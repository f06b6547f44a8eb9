// Shared pieces of the train tests: a tiny conv+BN model, a synthetic loader and a stage runner.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>

#include "oqa/data/loader.h"
#include "oqa/data/synthetic.h"
#include "oqa/train/loop.h"
#include "oqa/train/optimizer.h"

namespace oqa::train::testing {

struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).padding(1).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    fc = register_module("fc", torch::nn::Linear(4, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(bn->forward(conv->forward(x)));
    return fc->forward(h.mean({2, 3}));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(TinyNet);

// Every parameter and buffer of a module, flattened into one tensor (for equality checks).
inline torch::Tensor flat_state(torch::nn::Module& m) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : m.named_parameters()) parts.push_back(p.value().detach().flatten().to(torch::kDouble));
  for (const auto& b : m.named_buffers()) parts.push_back(b.value().detach().flatten().to(torch::kDouble));
  return torch::cat(parts);
}

// A training stage of TinyNet on synthetic 1x8x8 images, run in `dir`. `fail_at` throws from the step
// function at that step (a simulated crash); -1 never.
struct TinyStage {
  std::string dir;
  std::string hash = "hash-a";
  double epochs = 2;
  int64_t checkpoint_every = 3;
  int workers = 2;

  // Runs (resuming when a checkpoint exists) and returns the model.
  TinyNet run(int64_t fail_at = -1, bool* resumed = nullptr) const {
    torch::manual_seed(7);
    TinyNet net;
    OptimizerOptions oo;
    oo.lr = 0.1;
    auto opt = make_optimizer(*net, oo);
    data::LoaderOptions lo;
    lo.batch_size = 16;
    lo.workers = workers;
    lo.seed = 11;
    lo.transform.mean = {0.5f};
    lo.transform.std = {0.25f};
    lo.transform.pad_crop = 1;
    lo.transform.hflip = true;
    data::Loader loader(data::make_synthetic(100, {1, 8, 8}, 3, 5), lo);
    ScheduleOptions so;
    so.base_lr = 0.1;
    so.warmup_steps = 2;
    so.total_steps = std::llround(epochs * static_cast<double>(loader.batches_per_epoch()));
    StageOptions st;
    st.stage = "float";
    st.dir = dir + "/float";
    st.config_hash = hash;
    st.epochs = epochs;
    st.checkpoint_every = checkpoint_every;
    st.log_every = 2;
    st.seed = 3;
    MetricsLog metrics(dir + "/metrics.jsonl");
    TrainLoop loop(st, *net, *opt, CosineSchedule(so), loader, metrics);
    const bool r = loop.resume();
    if (resumed) *resumed = r;
    loop.run(
        [&](const data::Batch& b, int64_t step) {
          if (step == fail_at) throw std::runtime_error("simulated crash");
          // Dropout-like randomness from the per-step seed, so resuming must restore the RNG stream too.
          auto noise = torch::rand_like(b.images) * 0.01;
          auto loss = torch::nn::functional::cross_entropy(net->forward(b.images + noise), b.labels);
          loss.backward();
          return StepResult{loss.item<double>(), {}};
        },
        nullptr);
    return net;
  }
};

}  // namespace oqa::train::testing
