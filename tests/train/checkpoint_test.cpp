// Checkpoint tests: model, optimizer and RNG round trip; truncated, foreign and mismatched files and headers
// with mistyped fields fail clearly.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/train/checkpoint.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "train/train_fixture.h"
#include "util/test_dir.h"

namespace oqa::train {
namespace {

using testing::flat_state;
using testing::TinyNet;

// One SGD step of net on a fixed batch.
void sgd_step(TinyNet& net, torch::optim::Optimizer& opt, int64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({8, 1, 6, 6});
  auto y = torch::randint(0, 3, {8});
  opt.zero_grad();
  torch::nn::functional::cross_entropy(net->forward(x), y).backward();
  opt.step();
}

TEST(Checkpoint, RoundTripRestoresModelOptimizerAndRng) {
  TestDir dir;
  const std::string path = (dir.path / "c.pt").string();
  torch::manual_seed(1);
  TinyNet a;
  auto opt_a = make_optimizer(*a, OptimizerOptions{});
  sgd_step(a, *opt_a, 100);
  sgd_step(a, *opt_a, 101);
  CheckpointMeta meta;
  meta.config_hash = "abc";
  meta.stage = "w4a4";
  meta.step = 2;
  meta.epoch = 1;
  meta.batch = 7;
  meta.extra["done"] = true;
  torch::manual_seed(55);
  save_checkpoint(path, *a, opt_a.get(), meta);
  const torch::Tensor draw_after_save = torch::rand({5});

  torch::manual_seed(2);  // other weights, empty optimizer state, other RNG stream
  TinyNet b;
  auto opt_b = make_optimizer(*b, OptimizerOptions{});
  ASSERT_FALSE(torch::equal(flat_state(*a), flat_state(*b)));
  CheckpointMeta got = load_checkpoint(path, *b, opt_b.get());
  EXPECT_TRUE(torch::equal(torch::rand({5}), draw_after_save));  // RNG restored
  EXPECT_TRUE(torch::equal(flat_state(*a), flat_state(*b)));
  EXPECT_EQ(got.config_hash, "abc");
  EXPECT_EQ(got.stage, "w4a4");
  EXPECT_EQ(got.step, 2);
  EXPECT_EQ(got.epoch, 1);
  EXPECT_EQ(got.batch, 7);
  EXPECT_TRUE(got.extra.value("done", false));
  EXPECT_EQ(read_checkpoint_meta(path).to_json(), meta.to_json());

  // Same next step on both: equal only when the momentum buffers came back too.
  sgd_step(a, *opt_a, 102);
  sgd_step(b, *opt_b, 102);
  EXPECT_TRUE(torch::equal(flat_state(*a), flat_state(*b)));
}

TEST(Checkpoint, TruncatedOrForeignFileNamesTheFile) {
  TestDir dir;
  const std::string path = (dir.path / "c.pt").string();
  TinyNet net;
  auto opt = make_optimizer(*net, OptimizerOptions{});
  save_checkpoint(path, *net, opt.get(), CheckpointMeta{});
  const std::string bytes = util::read_file(path);
  for (size_t keep : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    util::atomic_write(path, bytes.substr(0, keep));
    try {
      load_checkpoint(path, *net, opt.get());
      FAIL() << "no error for " << keep << " bytes";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.file_name(), path) << e.what();
      EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
    }
  }
  util::atomic_write(path, std::string(4096, 'x'));
  EXPECT_THROW(read_checkpoint_meta(path), util::Error);
  try {
    load_checkpoint((dir.path / "missing.pt").string(), *net, nullptr);
    FAIL() << "no error for a missing file";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), (dir.path / "missing.pt").string());
  }
}

struct WiderNetImpl : torch::nn::Module {
  WiderNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).padding(1).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
    fc = register_module("fc", torch::nn::Linear(4, 5));  // 5 classes instead of 3
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(WiderNet);

TEST(Checkpoint, ShapeMismatchNamesTheTensor) {
  TestDir dir;
  const std::string path = (dir.path / "c.pt").string();
  TinyNet net;
  save_checkpoint(path, *net, nullptr, CheckpointMeta{});
  WiderNet wider;
  const torch::Tensor before = wider->fc->weight.clone();
  try {
    load_checkpoint(path, *wider, nullptr);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc.weight"), std::string::npos) << e.what();
    EXPECT_EQ(e.file_name(), path);
  }
  EXPECT_TRUE(torch::equal(before, wider->fc->weight));
}

// Header fields are read by type: a float where an integer belongs (as 7.2e25, beyond int64: converting it was
// undefined behaviour, found by fuzzing), an integer above int64 or a string are input errors naming the field.
TEST(Checkpoint, HeaderFieldsOfTheWrongTypeOrRangeNameTheField) {
  const nlohmann::json good = CheckpointMeta{}.to_json();
  EXPECT_NO_THROW(CheckpointMeta::from_json(good, "c.pt"));
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"batch", 7.2e25}, {"step", 2.5}, {"epoch", nlohmann::json::parse("18446744073709551615")},
      {"format_version", "1"}, {"stage", 3}, {"config_hash", nullptr}};
  for (const auto& [field, value] : cases) {
    nlohmann::json j = good;
    j[field] = value;
    try {
      CheckpointMeta::from_json(j, "c.pt");
      ADD_FAILURE() << field << " = " << value.dump() << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.kind(), util::ErrorKind::kInput) << e.what();
      EXPECT_EQ(e.field_name(), field) << e.what();
      EXPECT_NE(std::string(e.what()).find("c.pt"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace oqa::train
