// ArchParams: the architecture logits of every width group (a torch module, so checkpoints hold them with
// their Adam moments and the number of active candidates), Gumbel sampling of two candidates, expansion.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace oqa::nce {

// The candidates one forward mixes for a group and their weights (summing to 1, differentiable in alpha).
struct GroupSample {
  std::vector<int64_t> index;
  torch::Tensor weights;
};

struct Expansion {
  size_t group = 0;
  int64_t from = 0, to = 0;  // active candidates before and after
};

class ArchParamsImpl : public torch::nn::Module {
 public:
  // totals[g]: all candidates of group g; initial[g]: those active at the start (uniform logits).
  ArchParamsImpl(std::vector<int64_t> totals, std::vector<int64_t> initial);

  size_t groups() const { return totals_.size(); }
  int64_t active(size_t g) const;
  int64_t total(size_t g) const { return totals_[g]; }
  // softmax of the active logits of every group; zeros past the active ones. [groups, max candidates].
  torch::Tensor probabilities() const;
  // Gumbel-softmax at temperature tau over each group's active candidates; the two largest (one when only
  // one is active) with weights renormalised over the pair.
  std::vector<GroupSample> sample(double tau, torch::Generator& gen) const;
  // Argmax of each group's active probabilities (the derived architecture), as candidate indices.
  std::vector<int64_t> argmax() const;

  // One Adam step (betas 0.5 / 0.999, decoupled weight decay) on the active logits with gradient grad.
  void adam_step(const torch::Tensor& grad, double lr, double weight_decay);
  // Groups whose widest active candidate has probability above threshold and that have candidates left get
  // `by` more (never past their total); a new logit starts at the widest one's value.
  std::vector<Expansion> expand(double threshold, int64_t by);

  torch::Tensor alpha;  // [groups, max candidates]

 private:
  std::vector<int64_t> totals_;
  torch::Tensor active_, m_, v_, t_;  // buffers: active counts, Adam moments, Adam step
};
TORCH_MODULE(ArchParams);

}  // namespace oqa::nce
