// `oqa export` + `oqa infer` end to end on a supernet trained on the real Fashion-MNIST files (a small run,
// trained once and cached under the build folder): the integer runtime and ONNX Runtime give the fake-quant
// model's top-1 on the test set for a 4-bit and a 2-bit subnet; corrupt files and bad arguments fail clearly.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/data/registry.h"
#include "oqa/deploy/evaluate_deployed.h"
#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/deploy/ort_bridge.h"
#include "util/bmp_file.h"
#include "util/run_command.h"
#include "util/test_dir.h"

using namespace oqa;
namespace fs = std::filesystem;

namespace {

// configs/fashion-mnist-quick.json on the first 8000 training images, validation cut to 1000, no search, stages
// as configured (62 steps per epoch: w4a4 and w3a3 62 steps, w2a2 124; min_stage_steps 0). Default settings
// otherwise: before the bounded step-size update this short schedule let fresh 2-bit step sizes diverge and
// w2a2 collapsed to chance without clipping.
nlohmann::json run_config() {
  std::ifstream in(std::string(OQA_SOURCE_DIR) + "/configs/fashion-mnist-quick.json");
  nlohmann::json c = nlohmann::json::parse(in);
  c["name"] = "deploy-test";
  c["data"]["train_images"] = 8000;
  c["data"]["val_images"] = 1000;
  c["data"]["workers"] = 1;
  c["supernet"]["bn_recal_images"] = 500;
  c["supernet"]["min_stage_steps"] = 0;
  c.erase("search");
  return c;
}

std::string oqa_cmd(const std::string& args) {
  return std::string(OQA_BINARY) + " --threads 1 --quiet " + args;
}

// The trained run, shared by every test process (a lock file serialises the first training).
const std::string& trained_run() {
  static const std::string run = [] {
    const fs::path cache = fs::path(OQA_BINARY).parent_path() / "test-cache";
    fs::create_directories(cache);
    const int lock = ::open((cache / "deploy-run.lock").c_str(), O_CREAT | O_RDWR, 0644);
    EXPECT_GE(lock, 0);
    ::flock(lock, LOCK_EX);
    const fs::path dir = cache / "deploy-run", ready = cache / "deploy-run.ready";
    const std::string config = run_config().dump();
    std::string have;
    if (fs::exists(ready)) std::getline(std::ifstream(ready), have);
    if (have != config) {
      fs::remove_all(dir);
      fs::remove(ready);
      const fs::path cfg = cache / "deploy-run.json";
      std::ofstream(cfg) << config;
      std::string out;
      const int rc =
          test::run_command(oqa_cmd("train --config " + cfg.string() + " --out " + dir.string()), out);
      EXPECT_EQ(rc, 0) << out;
      if (rc == 0) std::ofstream(ready) << config << "\n";
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    return dir.string();
  }();
  return run;
}

bool have_fashion_mnist() {
  return fs::exists(data::default_root("fashion-mnist"));
}

nlohmann::json run_json(const std::string& args) {
  std::string out;
  const int rc = test::run_command(oqa_cmd(args) + " 2>/dev/null", out);
  EXPECT_EQ(rc, 0) << args << "\n" << out;
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << out;
    return {};
  }
}

class DeployCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_fashion_mnist())
      GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/install-deps.sh)";
    run_ = trained_run();
    ASSERT_TRUE(fs::exists(run_ + "/w2a2")) << "training the cached run failed";
  }
  std::string export_model(const std::string& stage, const std::string& subnet,
                           const std::string& format = "all") {
    const std::string out = (dir_.path / stage).string();
    const nlohmann::json j = run_json("export --run " + run_ + " --stage " + stage + " --subnet " + subnet +
                                      " --format " + format + " --out " + out + " --json");
    EXPECT_EQ(j.value("stage", ""), stage);
    return out;
  }
  std::string run_;
  TestDir dir_;
};

}  // namespace

TEST_F(DeployCli, IntegerRuntimeAndOnnxRuntimeMatchFakeQuantOnTheTestSet) {
  std::string why;
  const bool ort = deploy::onnx_runtime_available(&why);
  for (const auto& [stage, subnet] :
       {std::pair<std::string, std::string>{"w4a4", "largest"}, {"w2a2", "smallest"}}) {
    const std::string out = export_model(stage, subnet);
    ASSERT_TRUE(fs::exists(out + "/model.oqa") && fs::exists(out + "/model.onnx") &&
                fs::exists(out + "/subnet.json"));
    const nlohmann::json r = run_json("infer " + out + "/model.oqa --reference --json" +
                                      (ort ? " --onnx " + out + "/model.onnx" : ""));
    EXPECT_EQ(r.at("images"), 10000) << "the whole Fashion-MNIST test set";
    const double fq = r.at("fake_quant").at("top1"), integer = r.at("integer").at("top1");
    EXPECT_GT(fq, 30.0) << stage << ": the run should be trained well above chance (10%)";
    EXPECT_LE(std::abs(integer - fq), 0.1) << stage;
    EXPECT_GE(r.at("integer").at("argmax_agreement").get<double>(), 99.5) << stage;
    if (ort) {
      EXPECT_LE(std::abs(r.at("onnx_runtime").at("top1").get<double>() - fq), 0.1) << stage;
      EXPECT_GE(r.at("onnx_runtime").at("argmax_agreement").get<double>(), 99.5) << stage;
    }
    std::printf(
        "[ figures  ] %s %s: fake-quant %.2f%%, integer %.2f%% (agreement %.2f%%)%s\n", stage.c_str(),
        subnet.c_str(), fq, integer, r.at("integer").at("argmax_agreement").get<double>(),
        ort ? (", ONNX Runtime " + std::to_string(r.at("onnx_runtime").at("top1").get<double>()) + "%")
                  .c_str()
            : "");
  }
  if (!ort) GTEST_SKIP() << "ONNX Runtime part skipped: " << why;
}

TEST_F(DeployCli, CorruptTruncatedAndForeignModelsFailWithOneClearLine) {
  const std::string out = export_model("w2a2", "largest", "oqa");
  std::string bytes;
  {
    std::ifstream in(out + "/model.oqa", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto infer_error = [&](const std::string& name, const std::string& content) {
    const std::string path = (dir_.path / name).string();
    std::ofstream(path, std::ios::binary) << content;
    std::string msg;
    EXPECT_EQ(test::run_command(oqa_cmd("infer " + path + " --limit 10"), msg), 3) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << msg;
    return msg;
  };
  EXPECT_NE(infer_error("short.oqa", bytes.substr(0, bytes.size() / 3)).find("truncated"), std::string::npos);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  EXPECT_NE(infer_error("flipped.oqa", flipped).find("CRC-32"), std::string::npos);
  EXPECT_NE(infer_error("foreign.oqa", "{\"name\": \"not a model\"}").find("not an .oqa"), std::string::npos);
}

TEST_F(DeployCli, ExportRefusesAMissingSearchAndABadSubnet) {
  std::string msg;
  EXPECT_EQ(test::run_command(
                oqa_cmd("export --run " + run_ + " --stage w2a2 --out " + (dir_.path / "x").string()), msg),
            3);
  EXPECT_NE(msg.find("oqa search"), std::string::npos) << msg;
  const std::string bad = (dir_.path / "bad.json").string();
  std::ofstream(bad) << R"({"resolution": 28, "kernel": [4], "expand": [2], "depth": [1, 1]})";
  msg.clear();
  EXPECT_EQ(test::run_command(oqa_cmd("export --run " + run_ + " --stage w2a2 --subnet " + bad), msg), 3);
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
}

TEST_F(DeployCli, ClassifiesOneImageFileLikeTheDatasetPath) {
  const std::string out = export_model("w4a4", "largest", "oqa");
  const deploy::DeployModel m = deploy::read_oqa(out + "/model.oqa");
  // Test image 0 as a 24-bit BMP (grey in all three channels), which the image reader decodes exactly.
  const data::Splits splits = data::open_splits(data::DataOptions{}, 0);
  std::vector<uint8_t> pixels(28 * 28);
  splits.test->read_image(0, pixels.data());
  const std::string bmp = (dir_.path / "image0.bmp").string();
  test::write_bmp24(bmp, 28, 28, [&](int x, int y, int) { return pixels[static_cast<size_t>(y * 28 + x)]; });
  deploy::DeployedEvalOptions o;
  o.limit = 1;
  deploy::IntegerModel im(m);
  const int64_t expected = im.forward(deploy::load_split(m, o).images).argmax(1).item<int64_t>();
  const nlohmann::json j = run_json("infer " + out + "/model.oqa --image " + bmp + " --json");
  EXPECT_EQ(j.at("class").get<int64_t>(), expected);
}
