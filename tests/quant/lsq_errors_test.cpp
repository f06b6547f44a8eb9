// Bad LSQ arguments give one-line oqa::util::Error naming the field, for the op and the Quantizer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "oqa/quant/lsq.h"
#include "oqa/quant/quantizer.h"
#include "oqa/util/error.h"

namespace oqa::quant {
namespace {

template <class F>
void expect_field_error(F f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "no error for field " << field;
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), field) << e.what();
    std::string what = e.what();
    EXPECT_NE(what.find(field), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
  }
}

const QuantSpec kPc{4, true, Granularity::kPerChannel, 0, true};
const QuantSpec kPt{4, true, Granularity::kPerTensor, 0, true};

TEST(LsqErrors, NameTheField) {
  auto x = torch::randn({3, 5});
  auto s3 = torch::full({3}, 0.1f);
  auto s1 = torch::full({1}, 0.1f);
  for (bool fused : {true, false}) {
    auto op = [fused](const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& b, const QuantSpec& q) {
      return fused ? lsq_quantize(x, s, b, q, 0.1) : lsq_quantize_reference(x, s, b, q, 0.1);
    };
    expect_field_error([&] { op(x, s1, {}, QuantSpec{1}); }, "bits");
    expect_field_error([&] { op(x, s1, {}, QuantSpec{9}); }, "bits");
    expect_field_error([&] { op(x, s3, {}, QuantSpec{4, true, Granularity::kPerChannel, 2}); }, "axis");
    expect_field_error([&] { op(torch::empty({0, 5}), s1, {}, kPt); }, "x");
    expect_field_error([&] { op(x.to(torch::kDouble), s1, {}, kPt); }, "x");
    expect_field_error([&] { op(x, torch::full({1}, std::numeric_limits<float>::quiet_NaN()), {}, kPt); },
                       "step_size");
    expect_field_error([&] { op(x, torch::full({1}, std::numeric_limits<float>::infinity()), {}, kPt); },
                       "step_size");
    expect_field_error([&] { op(x, torch::full({1}, -0.5f), {}, kPt); }, "step_size");
    expect_field_error([&] { op(x, torch::zeros({3}), {}, kPc); }, "step_size");
    expect_field_error([&] { op(x, torch::full({5}, 0.1f), {}, kPc); }, "step_size");  // wrong length
    expect_field_error([&] { op(x, s3, {}, kPt); }, "step_size");                      // 3 for per-tensor
    expect_field_error([&] { op(x, s1, torch::zeros({1}), kPt); }, "offset");          // symmetric + offset
    EXPECT_NO_THROW(op(x, s1, {}, kPt));
  }
}

TEST(LsqErrors, AsymmetricOffsetChecks) {
  QuantSpec asym{4, false, Granularity::kPerChannel, 0, false};
  auto x = torch::randn({3, 5});
  auto s = torch::full({3}, 0.1f);
  expect_field_error([&] { lsq_quantize(x, s, {}, asym, 0.1); }, "offset");
  expect_field_error([&] { lsq_quantize(x, s, torch::zeros({2}), asym, 0.1); }, "offset");
  expect_field_error([&] { lsq_quantize(x, s, torch::full({3}, NAN), asym, 0.1); }, "offset");
  expect_field_error([&] { lsq_quantize(x, s, torch::zeros({1}), asym, -1.0); }, "grad_scale");
}

TEST(LsqErrors, QuantizerErrors) {
  Quantizer q(QuantizerOptions(4));
  expect_field_error([&] { q(torch::randn({3}), QuantSpec{9}); }, "bits");
  expect_field_error([&] { q(torch::randn({3}), QuantSpec{4, true, Granularity::kPerChannel, 1}); }, "axis");
  expect_field_error([&] { q(torch::randn({5, 2}), QuantSpec{4, true, Granularity::kPerChannel}); }, "max_channels");
  expect_field_error([&] { q(torch::empty({0}), QuantSpec{4}); }, "x");
  expect_field_error([] { Quantizer bad(QuantizerOptions(0)); }, "max_channels");
}

}  // namespace
}  // namespace oqa::quant
