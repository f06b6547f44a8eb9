// `oqa infer` takes its data settings from the model file: a model trained on a 1-channel ImageFolder set
// evaluates that set and names the class of one image; a model file without those settings (an older oqa)
// falls back to the channels and size its first layer takes.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "oqa/deploy/evaluate_deployed.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/util/config.h"
#include "train_supernet/supernet_test_support.h"
#include "util/bmp_file.h"
#include "util/run_command.h"

using namespace oqa;
namespace fs = std::filesystem;

namespace {

// root/{train,test}/{dark,light}/i.bmp, 16 x 16 colour images whose brightness gives the class.
void write_folder(const fs::path& root, int train_per_class, int test_per_class) {
  for (const auto& [split, n] :
       {std::pair<const char*, int>{"train", train_per_class}, {"test", test_per_class}})
    for (int cls = 0; cls < 2; ++cls) {
      const fs::path dir = root / split / (cls ? "light" : "dark");
      fs::create_directories(dir);
      for (int i = 0; i < n; ++i)
        test::write_bmp24((dir / (std::to_string(i) + ".bmp")).string(), 16, 16, [&](int x, int y, int c) {
          return static_cast<uint8_t>((cls ? 150 : 30) + (x * 7 + y * 3 + c * 11 + i * 5) % 90);
        });
    }
}

std::string run_oqa(const std::string& args, int expect) {
  std::string out;
  EXPECT_EQ(test::run_command(std::string(OQA_BINARY) + " --threads 1 --quiet " + args + " 2>/dev/null", out),
            expect)
      << args << "\n"
      << out;
  return out;
}

}  // namespace

TEST(InferData, OneChannelImageFolderModelEvaluatesItsDataAndNamesTheClass) {
  TestDir dir;
  const fs::path data = dir.path / "data", run = dir.path / "run", out = dir.path / "export";
  write_folder(data, 24, 6);
  nlohmann::json config = test::tiny_config();
  config["data"] = {{"dataset", "image-folder"}, {"root", data.string()}, {"channels", 1},
                    {"image_size", 16},          {"batch_size", 16},      {"workers", 1},
                    {"val_fraction", 0.1}};
  config["space"]["classes"] = 2;
  config["space"]["input_channels"] = 1;
  config["supernet"]["bn_recal_images"] = 32;
  config["supernet"]["stages"] = nlohmann::json::parse(
      R"([{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "w4a4", "epochs": 1, "lr": 0.02}])");
  const std::string cfg = (dir.path / "config.json").string();
  util::write_json(cfg, config);
  run_oqa("train --config " + cfg + " --out " + run.string(), 0);
  run_oqa("export --run " + run.string() + " --stage w4a4 --subnet largest --format oqa --out " +
              out.string() + " --json",
          0);
  const std::string model = (out / "model.oqa").string();
  const nlohmann::json r = nlohmann::json::parse(run_oqa("infer " + model + " --json", 0));
  EXPECT_EQ(r.at("images").get<int64_t>(), 12);
  EXPECT_EQ(r.at("dataset").get<std::string>(), "image-folder");
  const nlohmann::json one = nlohmann::json::parse(
      run_oqa("infer " + model + " --image " + (data / "test/light/0.bmp").string() + " --json", 0));
  const int64_t cls = one.at("class").get<int64_t>();
  EXPECT_EQ(one.at("class_name").get<std::string>(), cls ? "light" : "dark");

  // A model file without the data settings: the first layer's channel count (1) and size are used.
  deploy::DeployModel m = deploy::read_oqa(model);
  m.info["data"].erase("channels");
  m.info["data"].erase("image_size");
  deploy::DeployedEvalOptions o;
  EXPECT_EQ(deploy::load_split(m, o).images.size(1), 1);
  // Data settings of the wrong type (a hand-edited file): an input error naming them, not a JSON exception.
  m.info["data"]["channels"] = "one";
  try {
    deploy::load_split(m, o);
    ADD_FAILURE() << "accepted";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "info.data") << e.what();
  }
}
