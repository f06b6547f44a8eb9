// ONNX export: extracted tiny mbv3 / resnet subnets (uniform, mixed and asymmetric quantization) run through
// ONNX Runtime agree with StaticModel::forward; the file passes the checker and stores int8 weight levels in
// [Qn, Qp]; bad options and unwritable paths fail with errors naming the field or file.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "deploy/deploy_test_support.h"
#include "oqa/deploy/levels.h"
#include "oqa/deploy/onnx_export.h"
#include "oqa/deploy/ort_bridge.h"
#include "oqa/space/subnet.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "space/tiny_spaces.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

using test::sampled;
using test::SubnetPick;
using test::uniform;

struct Case {
  std::string name;
  const char* config;
  SubnetPick pick;
};

std::vector<Case> mbv3_cases() {
  const char* c = oqa_test::kTinyMbv3;
  return {{"mbv3 w4a4", c, uniform(4, 4, true, true)},
          {"mbv3 w2a2 smallest", c, uniform(2, 2, true, true, true)},
          {"mbv3 w4a4 asymmetric", c, uniform(4, 4, false, false)},
          {"mbv3 mixed 1", c, sampled(11)},
          {"mbv3 mixed 2", c, sampled(12)}};
}

std::vector<Case> resnet_cases() {
  const char* c = oqa_test::kTinyResNet;
  return {{"resnet w4a4", c, uniform(4, 4, true, true)},
          {"resnet w2a2 smallest", c, uniform(2, 2, true, true, true)},
          {"resnet w4a4 asymmetric activations", c, uniform(4, 4, true, false)},
          {"resnet mixed", c, sampled(13)}};
}

// Runs 64 random normalised inputs through ONNX Runtime (batches of 24: the last one partial) and through
// StaticModel::forward. Both round half to even at every quantizer, but they reach the quantizer inputs
// through different float arithmetic (fused kernels, another summation order), so a value within an ulp of a
// rounding boundary may land one level apart; the change propagates to the logits of that input only. Hence:
// argmax agreement >= 95% and a median |difference| < 1e-4 instead of bitwise equality.
void expect_ort_matches(const nn::StaticModel& model, const std::string& path) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({64, model.in_channels(), model.resolution(), model.resolution()});
  torch::Tensor ref;
  {
    torch::NoGradGuard no_grad;
    ref = model.forward(x);
  }
  deploy::OrtOptions o;
  o.batch = 24;
  const deploy::OrtResult r = deploy::run_onnx_runtime(path, x, o);
  ASSERT_EQ(r.logits.sizes(), ref.sizes());
  EXPECT_FALSE(r.version.empty());
  EXPECT_GT(r.seconds, 0.0);
  const torch::Tensor diff = (r.logits - ref).abs().flatten();
  const double agree = (r.logits.argmax(1) == ref.argmax(1)).to(torch::kDouble).mean().item<double>();
  const double median = diff.median().item<double>();
  EXPECT_GE(agree, 0.95) << "max |diff| " << diff.max().item<double>();
  EXPECT_LT(median, 1e-4) << "max |diff| " << diff.max().item<double>();
  EXPECT_GT(ref.abs().max().item<double>(), 0.0);
}

void run_cases(const std::vector<Case>& cases) {
  std::string why;
  if (!deploy::onnx_runtime_available(&why)) GTEST_SKIP() << "ONNX Runtime unavailable: " << why;
  TestDir dir;
  uint64_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const nn::StaticModel model = test::extract_tiny(c.config, c.pick, seed++);
    const std::string path = (dir.path / "model.onnx").string();
    deploy::export_onnx(model, {}, path);
    expect_ort_matches(model, path);
  }
}

onnx::ModelProto read_model(const std::string& path) {
  onnx::ModelProto m;
  const std::string bytes = util::read_file(path);
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props())
    if (p.key() == key) return p.value();
  return "";
}

}  // namespace

TEST(OnnxExport, Mbv3SubnetsMatchOnnxRuntime) {
  run_cases(mbv3_cases());
}

TEST(OnnxExport, ResNetSubnetsMatchOnnxRuntime) {
  run_cases(resnet_cases());
}

TEST(OnnxExport, CheckerAcceptsAndWeightsAreIntegerLevels) {
  TestDir dir;
  for (const Case& c : {mbv3_cases()[3], resnet_cases()[1], mbv3_cases()[2]}) {
    SCOPED_TRACE(c.name);
    const nn::StaticModel model = test::extract_tiny(c.config, c.pick, 7);
    const std::string path = (dir.path / "m.onnx").string();
    deploy::OnnxExportOptions opt;
    opt.mean.assign(static_cast<size_t>(model.in_channels()), 0.5f);
    opt.std.assign(static_cast<size_t>(model.in_channels()), 0.25f);
    opt.producer_version = "test-1";
    opt.metadata = {{"subnet", c.name}};
    deploy::export_onnx(model, opt, path);

    const onnx::ModelProto m = read_model(path);
    EXPECT_NO_THROW(onnx::checker::check_model(m));
    EXPECT_EQ(m.ir_version(), onnx::IR_VERSION);
    ASSERT_EQ(m.opset_import_size(), 1);
    EXPECT_EQ(m.opset_import(0).version(), 14);
    EXPECT_EQ(m.producer_version(), "test-1");
    EXPECT_EQ(nlohmann::json::parse(metadata(m, "oqa.mean")), nlohmann::json(opt.mean));
    EXPECT_EQ(nlohmann::json::parse(metadata(m, "oqa.std")), nlohmann::json(opt.std));
    EXPECT_EQ(nlohmann::json::parse(metadata(m, "oqa.metadata"))["subnet"], c.name);

    const onnx::GraphProto& g = m.graph();
    ASSERT_EQ(g.input_size(), 1);
    const auto& in_shape = g.input(0).type().tensor_type().shape();
    ASSERT_EQ(in_shape.dim_size(), 4);
    EXPECT_EQ(in_shape.dim(0).dim_param(), "batch");
    EXPECT_EQ(in_shape.dim(1).dim_value(), model.in_channels());
    EXPECT_EQ(in_shape.dim(3).dim_value(), model.resolution());
    ASSERT_EQ(g.output_size(), 1);
    EXPECT_EQ(g.output(0).name(), "logits");
    EXPECT_EQ(g.output(0).type().tensor_type().shape().dim(1).dim_value(),
              model.layers().back().weight.size(0));

    // One int8 level tensor per quantized weight, equal to integer_levels and inside [Qn, Qp].
    size_t quantized = 0;
    for (const auto& l : model.layers())
      quantized +=
          (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) && !l.weight_quant.spec.is_float();
    ASSERT_GT(quantized, 0u);
    size_t seen = 0;
    const std::string suffix = "/weight_levels";
    for (const onnx::TensorProto& t : g.initializer()) {
      const std::string& name = t.name();
      if (name.size() < suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      ++seen;
      ASSERT_EQ(t.data_type(), onnx::TensorProto::INT8) << name;
      const size_t index = std::stoul(name.substr(1, name.find('_') - 1));
      const nn::StaticLayer& l = model.layers().at(index);
      const std::string& raw = t.raw_data();
      ASSERT_EQ(static_cast<int64_t>(raw.size()), l.weight.numel()) << name;
      torch::Tensor v = torch::empty({l.weight.numel()}, torch::kChar);
      std::memcpy(v.data_ptr(), raw.data(), raw.size());
      v = v.to(torch::kInt);
      EXPECT_GE(v.min().item<int64_t>(), l.weight_quant.spec.qn()) << name;
      EXPECT_LE(v.max().item<int64_t>(), l.weight_quant.spec.qp()) << name;
      EXPECT_TRUE(torch::equal(v, deploy::integer_levels(l.weight, l.weight_quant).flatten())) << name;
    }
    EXPECT_EQ(seen, quantized);
    // The serialised bytes equal the file.
    EXPECT_EQ(deploy::onnx_model_bytes(model, opt), util::read_file(path));
  }
}

TEST(OnnxExport, BadOptionsModelsAndPathsFailClearly) {
  TestDir dir;
  const nn::StaticModel model = test::extract_tiny(oqa_test::kTinyResNet, uniform(4, 4, true, true), 3);
  // A folder that is a regular file: the write fails and the error names the path.
  const std::string blocker = (dir.path / "blocker").string();
  util::atomic_write(blocker, "x");
  const std::string bad = blocker + "/m.onnx";
  try {
    deploy::export_onnx(model, {}, bad);
    FAIL() << "export to " << bad << " did not throw";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(bad));

  deploy::OnnxExportOptions opt;
  opt.mean = {0.1f};  // the resnet space has 3 input channels
  try {
    deploy::export_onnx(model, opt, (dir.path / "m.onnx").string());
    FAIL() << "a mean of the wrong length was accepted";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "mean");
    EXPECT_NE(e.file_name().find("m.onnx"), std::string::npos);
  }

  nn::StaticModel broken(model.in_channels(), model.resolution());
  bool zeroed = false;
  for (nn::StaticLayer l : model.layers()) {
    if (!zeroed && !l.weight_quant.spec.is_float()) {
      l.weight_quant.step_size = torch::zeros_like(l.weight_quant.step_size);
      zeroed = true;
    }
    broken.add(std::move(l));
  }
  ASSERT_TRUE(zeroed);
  try {
    deploy::onnx_model_bytes(broken, {});
    FAIL() << "a zero step size was accepted";
  } catch (const util::Error& e) {
    EXPECT_NE(e.field_name().find("weight_quant.step_size"), std::string::npos) << e.what();
  }
}

TEST(OnnxExport, RunnerErrorsNameTheProblem) {
  std::string why;
  if (!deploy::onnx_runtime_available(&why)) GTEST_SKIP() << "ONNX Runtime unavailable: " << why;
  TestDir dir;
  const torch::Tensor x = torch::randn({2, 3, 8, 8});
  const std::string junk = (dir.path / "junk.onnx").string();
  util::atomic_write(junk, "not a model");
  try {
    deploy::run_onnx_runtime(junk, x);
    FAIL() << "a junk model ran";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ONNX Runtime failed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deploy::run_onnx_runtime((dir.path / "missing.onnx").string(), x), util::Error);

  deploy::OrtOptions no_node;
  no_node.node = "/nonexistent/node";
  EXPECT_FALSE(deploy::onnx_runtime_available(&why, no_node));
  EXPECT_NE(why.find("node not found"), std::string::npos) << why;
  deploy::OrtOptions no_package;
  no_package.script = (dir.path / "tools" / "ort_run.js").string();
  std::filesystem::create_directories(dir.path / "tools");
  util::atomic_write(no_package.script, "");
  EXPECT_FALSE(deploy::onnx_runtime_available(&why, no_package));
  EXPECT_NE(why.find("onnxruntime-node not installed"), std::string::npos) << why;
}
