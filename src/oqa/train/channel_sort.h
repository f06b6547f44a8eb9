// Channel sorting for elastic width (Once-for-All): the channels a narrower subnet keeps become the most
// important.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace oqa::train {

// Reorders the hidden channels of every elastic-width block of `net` (an MBConv's expanded channels and its
// squeeze-excite's reduced ones; a basic block's conv1 outputs) by importance, the L1 norm of the weights
// that read each channel in the next conv, most important first. Every tensor indexed by those channels moves
// with them (conv weights and biases, batch norm parameters and statistics, per-channel step sizes and the
// optimizer's momentum / Adam moments), so the largest subnet computes the same function afterwards.
// Returns the number of blocks reordered.
int sort_channels_by_importance(torch::nn::Module& net, torch::optim::Optimizer* optimizer);

}  // namespace oqa::train
