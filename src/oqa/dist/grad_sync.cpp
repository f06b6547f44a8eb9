// Bucketed all-reduce of a module's gradients and broadcast of its state.
#include "oqa/dist/grad_sync.h"

#include <cmath>

#include <fmt/format.h>

#include "oqa/dist/group.h"
#include "oqa/util/error.h"

namespace oqa::dist {

namespace {

// Header of the first bucket: [samples, loss x samples, number of gradients], summed over the ranks.
constexpr int64_t kHeader = 3;

// Groups of consecutive gradients of about `bucket_bytes` each (at least one gradient per group).
std::vector<std::vector<torch::Tensor>> buckets_of(const std::vector<torch::Tensor>& grads,
                                                   int64_t bucket_bytes) {
  std::vector<std::vector<torch::Tensor>> out(1);
  int64_t bytes = 0;
  for (const auto& g : grads) {
    const int64_t b = g.numel() * static_cast<int64_t>(sizeof(float));
    if (!out.back().empty() && bytes + b > bucket_bytes) out.emplace_back(), bytes = 0;
    out.back().push_back(g);
    bytes += b;
  }
  return out;
}

}  // namespace

double average_gradients(torch::nn::Module& model, double loss, int64_t samples, int64_t bucket_bytes) {
  if (!active()) return loss;
  std::vector<torch::Tensor> grads;
  for (auto& p : model.parameters())
    if (p.grad().defined()) {
      OQA_ASSERT(p.grad().scalar_type() == torch::kFloat32, "data-parallel gradients must be float32");
      grads.push_back(p.mutable_grad());
    }
  const double w = static_cast<double>(samples);
  bool first = true;
  double total = 0, loss_sum = 0;
  for (auto& bucket : buckets_of(grads, bucket_bytes)) {
    std::vector<torch::Tensor> parts;
    if (first) {
      // The loss may be NaN on one rank only: summed, it is NaN on all of them, and every rank stops
      // together.
      parts.push_back(torch::tensor(
          {static_cast<float>(w), static_cast<float>(loss * w), static_cast<float>(grads.size())}));
    }
    const int64_t header = first ? kHeader : 0;
    for (auto& g : bucket) parts.push_back(g.reshape({-1}));
    std::vector<torch::Tensor> flat = {torch::cat(parts)};
    flat[0].narrow(0, header, flat[0].numel() - header).mul_(static_cast<float>(w));
    allreduce_sum(flat);
    int64_t offset = header;
    if (first) {
      const float* h = flat[0].data_ptr<float>();
      total = h[0];
      loss_sum = h[1];
      if (std::lround(h[2]) != static_cast<long>(grads.size()) * world_size())
        throw util::internal_error(
            fmt::format("rank {}: the ranks computed gradients of different parameters ({} here, {} summed "
                        "over {} ranks): "
                        "their subnets differ",
                        rank(), grads.size(), h[2], world_size()));
      OQA_ASSERT(total > 0, "no samples on any rank");
      first = false;
    }
    for (auto& g : bucket) {
      const int64_t n = g.numel();
      g.copy_(flat[0].narrow(0, offset, n).view_as(g) / static_cast<float>(total));
      offset += n;
    }
  }
  return loss_sum / total;
}

void broadcast_state(torch::nn::Module& model) {
  if (!active()) return;
  std::vector<torch::Tensor> tensors;
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) tensors.push_back(p);
  for (auto& b : model.buffers()) tensors.push_back(b);
  for (auto& t : tensors) {
    // Gloo has no bool: such buffers (flags) travel as bytes.
    const bool as_bytes = t.scalar_type() == torch::kBool;
    std::vector<torch::Tensor> one = {as_bytes            ? t.to(torch::kUInt8)
                                      : t.is_contiguous() ? t
                                                          : t.contiguous()};
    broadcast(one);
    if (!one[0].is_same(t)) t.copy_(as_bytes ? one[0].to(torch::kBool) : one[0]);
  }
}

}  // namespace oqa::dist
