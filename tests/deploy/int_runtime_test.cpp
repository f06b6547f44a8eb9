// Integer runtime: whole tiny supernet subnets against the fake-quant StaticModel, fallback counting, shapes and
// threads (single layers and forms: conformance_test.cpp).
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "deploy/deploy_test_support.h"
#include "oqa/deploy/int_kernels.h"
#include "oqa/deploy/int_runtime.h"

using namespace oqa;

namespace {

double agreement(const torch::Tensor& a, const torch::Tensor& b) {
  return a.argmax(1).eq(b.argmax(1)).to(torch::kDouble).mean().item<double>();
}

}  // namespace

TEST(IntegerRuntime, TinySubnetsMatchTheFakeQuantModel) {
  struct Case {
    const char* name;
    const char* config;
    test::SubnetPick pick;
  };
  const std::vector<Case> cases = {
      {"mbv3 w4a4", oqa_test::kTinyMbv3, test::uniform(4, 4, true, true)},
      {"mbv3 w2a2 smallest", oqa_test::kTinyMbv3, test::uniform(2, 2, true, true, true)},
      {"mbv3 w8a4 asymmetric acts", oqa_test::kTinyMbv3, test::uniform(8, 4, true, false)},
      {"mbv3 mixed", oqa_test::kTinyMbv3, test::sampled(21)},
      {"resnet w4a4", oqa_test::kTinyResNet, test::uniform(4, 4, true, true)},
      {"resnet w2a2 asymmetric acts", oqa_test::kTinyResNet, test::uniform(2, 2, true, false)},
      {"resnet mixed", oqa_test::kTinyResNet, test::sampled(22)}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    const deploy::DeployModel m(test::extract_tiny(c.config, c.pick, seed++));
    deploy::IntegerModel im(m);
    const int64_t r = m.model.resolution();
    const torch::Tensor x = torch::randn({64, m.model.in_channels(), r, r}) * 1.5;
    torch::NoGradGuard no_grad;
    const torch::Tensor want = m.model.forward(x), got = im.forward(x);
    ASSERT_EQ(got.sizes(), want.sizes()) << c.name;
    // Integer accumulation is exact where the float reference rounds, so a value lying within float error of
    // a rounding boundary may land one level apart; nearly every logit must still agree closely.
    const torch::Tensor err = (want - got).abs() / (1 + want.abs().max());
    EXPECT_LE(err.median().item<double>(), 1e-5) << c.name;
    EXPECT_GE(err.lt(1e-3).to(torch::kDouble).mean().item<double>(), 0.95) << c.name;
    EXPECT_GE(agreement(want, got), 0.95) << c.name;
  }
}

TEST(IntegerRuntime, FloatLayersFallBackAndAreCounted) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyMbv3, test::uniform(4, 4, true, true), 31));
  const nlohmann::json summary = deploy::IntegerModel(m).summary();
  int float_layers = 0;
  for (const nn::StaticLayer& l : m.model.layers())
    float_layers +=
        (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) &&
        (l.weight_quant.spec.is_float() || l.input_quant.spec.is_float() || !l.weight_quant.spec.symmetric);
  EXPECT_GT(float_layers, 0) << "the tiny space keeps its head float";
  EXPECT_EQ(summary.at("float_layers").get<int>(), float_layers);
  EXPECT_GT(summary.at("integer_layers").get<int>(), 5);
}

TEST(IntegerRuntime, RejectsInputsOfTheWrongShape) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyResNet, test::uniform(4, 4, true, true), 32));
  deploy::IntegerModel im(m);
  EXPECT_THROW(im.forward(torch::randn({2, 1, 8, 8})), util::Error);
  // Another resolution is resized, as the fake-quant model does.
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({8, 3, 16, 16});
  EXPECT_GE(agreement(m.model.forward(x), im.forward(x)), 0.85);
}

// A NaN or an infinity in the input is refused with a clear error; inside the runtime, quantization maps a
// NaN to the lowest level and an infinity to its clamp, never casting a NaN to int16 (undefined behaviour).
TEST(IntegerRuntime, RejectsNonFiniteInputsAndQuantizesANanToTheLowestLevel) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyResNet, test::uniform(4, 4, true, true), 33));
  deploy::IntegerModel im(m);
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    torch::Tensor x = torch::rand({2, 3, 16, 16});
    x[1][2][3][4] = bad;
    try {
      im.forward(x);
      ADD_FAILURE() << bad << " accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
      EXPECT_EQ(e.field_name(), "input");
      EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
  }
  const float x[5] = {std::nanf(""), INFINITY, -INFINITY, 2.6f, -0.4f};
  int16_t q[6] = {9, 9, 9, 9, 9, 9};
  deploy::detail::quantize_rows(x, 1, 5, /*s=*/0.5f, /*b=*/0.0f, /*qn=*/-4, /*qp=*/3, q, /*q_stride=*/6);
  const int16_t expect[6] = {-4, 3, -4, 3, -1, 0};  // 2.6 / 0.5 = 5.2 -> 3; -0.8 -> -1; padding column 0
  for (int i = 0; i < 6; ++i) EXPECT_EQ(q[i], expect[i]) << i;
}

TEST(IntegerRuntime, ParallelLoopsUseEveryThread) {
  // The runtime's loops are at::parallel_for, which is serial unless its file was compiled with OpenMP.
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const int width = deploy::detail::parallel_width();
  at::set_num_threads(1);
  const int serial = deploy::detail::parallel_width();
  at::set_num_threads(before);
  EXPECT_EQ(width, 2);
  EXPECT_EQ(serial, 1);
}

TEST(IntegerRuntime, BatchSplitAcrossThreadsGivesTheSameLogits) {
  const deploy::DeployModel m(test::extract_tiny(oqa_test::kTinyMbv3, test::sampled(41), 33));
  deploy::IntegerModel im(m);
  const int64_t r = m.model.resolution();
  const torch::Tensor x = torch::randn({37, m.model.in_channels(), r, r});
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor one = im.forward(x);
  at::set_num_threads(2);  // 37 images: two chunks of 18 and 19, one workspace each
  const torch::Tensor two = im.forward(x);
  at::set_num_threads(before);
  // Integer layers are exact either way; the float layers' BLAS GEMM may block other row counts differently
  // (last-bit differences).
  ASSERT_EQ(one.sizes(), two.sizes());
  EXPECT_LE((one - two).abs().max().item<double>(), 1e-6 * (1 + one.abs().max().item<double>()));
  EXPECT_TRUE(torch::equal(one.argmax(1), two.argmax(1)));
}
