// Evaluation loop.
#include "oqa/train/evaluate.h"

#include <optional>

#include <torch/nn/functional/loss.h>

#include <fmt/format.h>

#include "oqa/util/progress.h"

namespace oqa::train {

EvalResult evaluate(const ForwardFn& forward, data::Loader& loader, const std::string& label) {
  torch::NoGradGuard no_grad;
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  loader.start_epoch(0);
  std::optional<util::Progress> progress;
  if (!label.empty()) progress.emplace(label, loader.batches_per_epoch(), "batch", 30.0);
  while (auto batch = loader.next()) {
    auto logits = forward(batch->images);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, batch->labels,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(batch->labels).sum().item<int64_t>();
    r.samples += batch->labels.size(0);
    if (progress) progress->advance(1, fmt::format("top-1 {:.2f}%", 100.0 * correct / std::max<int64_t>(r.samples, 1)));
  }
  r.top1 = r.samples ? 100.0 * correct / r.samples : 0.0;
  r.loss = r.samples ? loss_sum / r.samples : 0.0;
  return r;
}

}  // namespace oqa::train
