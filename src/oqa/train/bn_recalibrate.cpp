// BN recalibration with cumulative averages, and buffer snapshots.
#include "oqa/train/bn_recalibrate.h"

#include <torch/nn/modules/batchnorm.h>

#include <functional>
#include <optional>

#include "oqa/nn/dynamic_batch_norm.h"
#include "oqa/util/error.h"

namespace oqa::train {
namespace {

// Every batch norm's reset and a setter of its momentum (returns the previous one).
struct BnHandle {
  std::function<void()> reset;
  std::function<std::optional<double>(std::optional<double>)> set_momentum;
};

std::vector<BnHandle> batch_norms(torch::nn::Module& model) {
  std::vector<BnHandle> out;
  for (const auto& m : model.modules(/*include_self=*/true)) {
    if (auto* d = dynamic_cast<nn::DynamicBatchNorm2dImpl*>(m.get())) {
      out.push_back({[d] { d->reset_running_stats(); }, [d](std::optional<double> v) {
                       auto old = d->options.momentum();
                       d->options.momentum(v);
                       return old;
                     }});
    } else if (auto* b = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      out.push_back({[b] { b->reset_running_stats(); }, [b](std::optional<double> v) {
                       const auto old = b->options.momentum();  // c10::optional in LibTorch 1.13
                       b->options.momentum(v ? c10::optional<double>(*v) : c10::nullopt);
                       return old ? std::optional<double>(*old) : std::nullopt;
                     }});
    }
  }
  return out;
}

}  // namespace

int64_t recalibrate_bn(torch::nn::Module& model, const ForwardFn& forward, data::Loader& loader, int64_t images) {
  if (images <= 0) return 0;
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  std::vector<BnHandle> bns = batch_norms(model);
  std::vector<std::optional<double>> momenta;
  for (auto& bn : bns) {
    bn.reset();
    momenta.push_back(bn.set_momentum(std::nullopt));
  }
  model.train();
  int64_t used = 0;
  try {
    loader.start_epoch(0);
    while (used < images) {
      auto batch = loader.next();
      if (!batch) break;
      torch::Tensor x = batch->images;
      if (used + x.size(0) > images) x = x.narrow(0, 0, images - used);
      forward(x);
      used += x.size(0);
    }
  } catch (...) {
    for (size_t i = 0; i < bns.size(); ++i) bns[i].set_momentum(momenta[i]);
    model.train(was_training);
    throw;
  }
  for (size_t i = 0; i < bns.size(); ++i) bns[i].set_momentum(momenta[i]);
  model.train(was_training);
  return used;
}

BufferSnapshot::BufferSnapshot(const torch::nn::Module& model) {
  for (const auto& b : model.buffers()) copies_.push_back(b.clone());
}

void BufferSnapshot::restore(torch::nn::Module& model) const {
  torch::NoGradGuard no_grad;
  auto buffers = model.buffers();
  OQA_ASSERT(buffers.size() == copies_.size(), "module buffers changed since the snapshot");
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(copies_[i]);
}

}  // namespace oqa::train
