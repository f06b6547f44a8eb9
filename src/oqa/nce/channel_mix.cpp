// Interpolation and padding matrices of width candidates and their application to feature maps.
#include "oqa/nce/channel_mix.h"

#include <algorithm>
#include <cmath>

#include "oqa/util/error.h"

namespace oqa::nce {

torch::Tensor interpolation_matrix(int64_t from, int64_t to) {
  OQA_ASSERT(from > 0 && to > 0, "interpolation between empty channel sets");
  torch::Tensor m = torch::zeros({to, from});
  auto a = m.accessor<float, 2>();
  const double scale = static_cast<double>(from) / static_cast<double>(to);
  for (int64_t d = 0; d < to; ++d) {
    const double src = std::max(0.0, (static_cast<double>(d) + 0.5) * scale - 0.5);
    const int64_t i0 = std::min<int64_t>(static_cast<int64_t>(std::floor(src)), from - 1);
    const int64_t i1 = std::min<int64_t>(i0 + 1, from - 1);
    const float w = static_cast<float>(src - static_cast<double>(i0));
    a[d][i0] += 1 - w;
    a[d][i1] += w;
  }
  return m;
}

torch::Tensor pad_matrix(int64_t from, int64_t to) {
  OQA_ASSERT(from <= to, "padding to fewer channels");
  torch::Tensor m = torch::zeros({to, from});
  m.narrow(0, 0, from).copy_(torch::eye(from));
  return m;
}

std::vector<torch::Tensor> candidate_matrices(const std::vector<int64_t>& candidates, int64_t width,
                                              const std::string& mix) {
  std::vector<torch::Tensor> out;
  for (int64_t c : candidates) {
    torch::Tensor m = torch::zeros({width, width});
    m.narrow(1, 0, c).copy_(mix == "pad" ? pad_matrix(c, width) : interpolation_matrix(c, width));
    out.push_back(m);
  }
  return out;
}

torch::Tensor apply_channel_matrix(const torch::Tensor& y, const torch::Tensor& m) {
  if (y.dim() == 2) return torch::matmul(y, m.t());
  const torch::Tensor flat = y.flatten(2);  // [N, C, HW]
  return torch::matmul(m, flat).view({y.size(0), m.size(0), y.size(2), y.size(3)});
}

}  // namespace oqa::nce
