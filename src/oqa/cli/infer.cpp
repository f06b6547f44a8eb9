// `oqa infer`: an exported .oqa model on a dataset split (top-1, images/s; optionally beside the fake-quant
// model and ONNX Runtime) or on one image file (its class).
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "oqa/cli/commands.h"
#include "oqa/data/image_folder.h"
#include "oqa/deploy/evaluate_deployed.h"
#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/util/config.h"

namespace oqa::cli {
namespace {

struct InferArgs {
  std::string model, image;
  deploy::DeployedEvalOptions eval;
  bool json = false, layers = false;
  int64_t profile = 0;  // > 0: per-layer milliseconds at this batch size
};

// One image file, decoded, resized and normalised as the model expects.
torch::Tensor image_input(const deploy::DeployModel& m, const std::string& file) {
  const int64_t c = m.model.in_channels(), r = m.model.resolution();
  torch::Tensor pixels = torch::empty({1, c, r, r}, torch::kUInt8);
  data::decode_image(file, data::ImageShape{c, r, r}, pixels.data_ptr<uint8_t>());
  torch::Tensor x = pixels.to(torch::kFloat) / 255.0;
  if (!m.mean.empty()) {
    const auto shape = std::vector<int64_t>{1, static_cast<int64_t>(m.mean.size()), 1, 1};
    x = (x - torch::tensor(m.mean).reshape(shape)) / torch::tensor(m.std).reshape(shape);
  }
  return x;
}

int classify_image(const deploy::DeployModel& m, const InferArgs& a) {
  deploy::IntegerModel im(m);
  const torch::Tensor p = torch::softmax(im.forward(image_input(m, a.image)), 1)[0];
  const int64_t cls = p.argmax().item<int64_t>();
  const util::Json& info = m.info;
  const util::Json names = info.contains("data") && info.at("data").is_object()
                               ? info.at("data").value("class_names", util::Json::array())
                               : util::Json::array();
  const std::string name = names.is_array() && cls < static_cast<int64_t>(names.size()) && names[cls].is_string()
                               ? names[cls].get<std::string>()
                               : "";
  if (a.json) {
    util::Json j{{"image", a.image}, {"class", cls}, {"probability", p[cls].item<double>()}};
    if (!name.empty()) j["class_name"] = name;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s: class %lld%s (p = %.3f)\n", a.image.c_str(), static_cast<long long>(cls),
                name.empty() ? "" : (" '" + name + "'").c_str(), p[cls].item<double>());
  }
  return 0;
}

void print_row(const char* name, const deploy::RuntimeScore& s) {
  std::printf("  %-14s top-1 %6.2f%%  %10.0f images/s", name, s.top1, s.images_per_s);
  if (s.agreement >= 0) std::printf("  argmax agreement with fake-quant %6.2f%%", s.agreement);
  std::printf("\n");
}

int run_infer(const InferArgs& a) {
  const deploy::DeployModel m = deploy::read_oqa(a.model);
  if (a.layers) {
    std::printf("%s\n", deploy::IntegerModel(m).summary().dump(2).c_str());
    return 0;
  }
  if (a.profile > 0) {
    deploy::IntegerModel im(m);
    const int64_t r = m.model.resolution();
    const torch::Tensor x = torch::randn({a.profile, m.model.in_channels(), r, r});
    im.forward(x);
    const util::Json p = im.profile(x, 20);
    double total = 0;
    for (const auto& l : p) total += l.at("ms").get<double>();
    std::printf("%-28s %-16s %9s %6s\n", "layer", "runs as", "ms", "share");
    for (const auto& l : p)
      std::printf("%-28s %-16s %9.4f %5.1f%%\n", l.at("name").get<std::string>().c_str(),
                  l.at("kind").get<std::string>().c_str(), l.at("ms").get<double>(),
                  100.0 * l.at("ms").get<double>() / total);
    std::printf("%-28s %-16s %9.4f\n", "total", "", total);
    return 0;
  }
  if (!a.image.empty()) return classify_image(m, a);
  const deploy::DeployedEvalReport r = deploy::evaluate_deployed(m, a.eval);
  if (a.json) {
    std::printf("%s\n", r.to_json().dump(2).c_str());
    return 0;
  }
  std::printf("%s on %s %s (%lld images, batch %lld)\n", a.model.c_str(), r.dataset.c_str(), r.split.c_str(),
              static_cast<long long>(r.images), static_cast<long long>(a.eval.batch));
  if (r.reference) print_row("fake-quant", *r.reference);
  print_row("integer", r.integer);
  if (r.onnx) print_row("ONNX Runtime", *r.onnx);
  return 0;
}

}  // namespace

Runner add_infer(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<InferArgs>();
  app.add_option("model", a->model, "an .oqa file written by `oqa export`")->required();
  app.add_option("--image", a->image, "classify one image file (png, jpg, bmp) instead of a dataset");
  app.add_option("--split", a->eval.split, "test | val")->check(CLI::IsMember({"test", "val"}));
  app.add_option("--data", a->eval.dataset, "dataset name (default: the one the model was trained on)");
  app.add_option("--root", a->eval.root, "dataset folder (default: the dataset's)");
  app.add_option("--batch", a->eval.batch, "images per forward pass")->check(CLI::PositiveNumber);
  app.add_option("--limit", a->eval.limit, "evaluate only the first N images")->check(CLI::NonNegativeNumber);
  app.add_flag("--reference", a->eval.reference, "also run the fake-quant model and report argmax agreement");
  app.add_option("--onnx", a->eval.onnx,
                 "also run this ONNX file with ONNX Runtime (needs node + onnxruntime-node)");
  app.add_option("--ort-threads", a->eval.ort_threads, "ONNX Runtime intra-op threads")
      ->check(CLI::PositiveNumber);
  app.add_flag("--layers", a->layers, "print how each layer runs (integer or float fallback) and exit");
  app.add_option("--profile", a->profile,
                 "time each layer of the integer runtime at this batch size and exit")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_infer(*a); };
}

}  // namespace oqa::cli
