// Data-parallel synchronisation of a module: averaged gradients (bucketed all-reduce) and rank 0's state.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>

namespace oqa::dist {

// Replaces every defined gradient of `model` with its average over the ranks, weighted by each rank's number
// of samples, so the result equals the gradient of the mean loss over the global batch; `loss` (this rank's
// mean) is averaged the same way and returned. Gradients travel in flat float buckets of about
// `bucket_bytes`. Every rank must have defined gradients for the same parameters (the same subnet): a
// mismatch is an internal error. Without an active group, returns `loss` and changes nothing.
double average_gradients(torch::nn::Module& model, double loss, int64_t samples,
                         int64_t bucket_bytes = 16 << 20);

// Copies rank 0's parameters and buffers into every rank.
void broadcast_state(torch::nn::Module& model);

}  // namespace oqa::dist
