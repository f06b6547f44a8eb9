// Helpers of the nn tests: error-field capture, parameter lookup and gradient checks.
#pragma once

#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "oqa/util/error.h"

namespace oqa_test {

// The field named by the oqa::util::Error that f throws ("" when it throws none).
inline std::string error_field(const std::function<void()>& f) {
  try {
    f();
  } catch (const oqa::util::Error& e) {
    return e.field_name();
  }
  return "";
}

inline torch::Tensor param(const torch::nn::Module& m, const std::string& name) {
  const auto params = m.named_parameters(/*recurse=*/true);  // find() points into it: keep it alive (ASan)
  auto p = params.find(name);
  EXPECT_NE(p, nullptr) << "no parameter " << name;
  return p ? *p : torch::Tensor();
}

// True when name has a gradient with a non-zero entry.
inline bool has_grad(const torch::nn::Module& m, const std::string& name) {
  torch::Tensor p = param(m, name);
  return p.defined() && p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
}

inline void zero_grads(torch::nn::Module& m) {
  for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
}

// Fills every parameter named "*transform_*" with identity + noise (the identity init would hide transform
// bugs).
inline void perturb_transforms(torch::nn::Module& m, double scale = 0.2) {
  torch::NoGradGuard no_grad;
  for (auto& kv : m.named_parameters(/*recurse=*/true))
    if (kv.key().find("transform_") != std::string::npos)
      kv.value().add_(torch::randn_like(kv.value()) * scale);
}

}  // namespace oqa_test
