// Channel-wise mixing of width candidates: each candidate's first C_j channels brought to the widest width
// (TAS's channel-wise interpolation, or zero padding) and summed with their weights, as one matrix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace oqa::nce {

// [to, from]: linear interpolation along channels (F.interpolate, mode linear, align_corners false) of a
// `from`-channel map to `to` channels.
torch::Tensor interpolation_matrix(int64_t from, int64_t to);
// [to, from]: the identity on the first `from` channels, zeros below.
torch::Tensor pad_matrix(int64_t from, int64_t to);

// The [width, width] matrix of each candidate: its first C_j input channels mapped to all `width` by
// interpolation ("interpolate") or padding ("pad"), the other columns zero.
std::vector<torch::Tensor> candidate_matrices(const std::vector<int64_t>& candidates, int64_t width,
                                              const std::string& mix);

// y [N, C, H, W] (or [N, C]) with its channels multiplied by m [D, C]: out[:, d] = sum_c m[d, c] y[:, c].
torch::Tensor apply_channel_matrix(const torch::Tensor& y, const torch::Tensor& m);

}  // namespace oqa::nce
