// evaluate_deployed: loads a split once, then times the integer runtime, the fake-quant reference and ORT on
// it.
#include "oqa/deploy/evaluate_deployed.h"

#include <chrono>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/data/loader.h"
#include "oqa/data/registry.h"
#include "oqa/data/transforms.h"
#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/ort_bridge.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F>
torch::Tensor run_batched(const torch::Tensor& images, int64_t batch, F&& forward, double& seconds) {
  std::vector<torch::Tensor> outs;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < images.size(0); i += batch)
    outs.push_back(forward(images.narrow(0, i, std::min(batch, images.size(0) - i))));
  seconds = seconds_since(t0);
  return torch::cat(outs);
}

RuntimeScore score(const torch::Tensor& logits, const torch::Tensor& labels, double seconds,
                   const torch::Tensor& reference) {
  RuntimeScore s;
  const torch::Tensor pred = logits.argmax(1);
  s.top1 = 100.0 * pred.eq(labels).sum().item<double>() / static_cast<double>(labels.size(0));
  s.images_per_s = seconds > 0 ? static_cast<double>(labels.size(0)) / seconds : 0;
  if (reference.defined())
    s.agreement =
        100.0 * pred.eq(reference.argmax(1)).sum().item<double>() / static_cast<double>(labels.size(0));
  return s;
}

nlohmann::json score_json(const RuntimeScore& s) {
  nlohmann::json j{{"top1", s.top1}, {"images_per_s", s.images_per_s}};
  if (s.agreement >= 0) j["argmax_agreement"] = s.agreement;
  return j;
}

}  // namespace

nlohmann::json DeployedEvalReport::to_json() const {
  nlohmann::json j{
      {"images", images}, {"dataset", dataset}, {"split", split}, {"integer", score_json(integer)}};
  if (reference) j["fake_quant"] = score_json(*reference);
  if (onnx) j["onnx_runtime"] = score_json(*onnx);
  return j;
}

namespace {

// The data settings recorded in the model's info.data, with the command line's overrides; a field of the
// wrong type (a hand-edited or crafted file) is an input error naming it.
data::DataOptions model_data_options(const DeployModel& m, const DeployedEvalOptions& o, uint64_t& seed) try {
  const nlohmann::json d = m.info.value("data", nlohmann::json::object());
  data::DataOptions opt;
  opt.dataset = !o.dataset.empty() ? o.dataset : d.value("dataset", std::string());
  opt.root = !o.root.empty() ? o.root : (o.dataset.empty() ? d.value("root", std::string()) : "");
  opt.val_fraction = d.value("val_fraction", 0.1);
  opt.val_images = d.value("val_images", int64_t{0});
  // The data settings the model was trained with; a model file without them (older oqa) takes the channel
  // count and size its first layer expects, which are the same for the readers that have these settings.
  opt.channels = d.contains("channels") ? d.at("channels").get<int64_t>() : m.model.in_channels();
  opt.image_size = d.contains("image_size") ? d.at("image_size").get<int64_t>() : m.model.resolution();
  if (d.contains("synthetic") && d.at("synthetic").is_array() && d.at("synthetic").size() == 3) {
    opt.synthetic_train = d.at("synthetic")[0].get<int64_t>();
    opt.synthetic_test = d.at("synthetic")[1].get<int64_t>();
    opt.synthetic_classes = d.at("synthetic")[2].get<int64_t>();
  }
  seed = d.value("seed", uint64_t{0});
  return opt;
} catch (const nlohmann::json::exception& e) {
  throw util::input_error(std::string("malformed data settings in the model file: ") + e.what()).field("info.data");
}

}  // namespace

LabelledImages load_split(const DeployModel& m, const DeployedEvalOptions& o) {
  uint64_t seed = 0;
  const data::DataOptions opt = model_data_options(m, o, seed);
  if (opt.dataset.empty())
    throw util::usage_error("the model does not say which dataset it was trained on: pass --data NAME");
  const data::Splits splits = data::open_splits(opt, seed);
  const data::DatasetPtr set = o.split == "val" ? splits.val : splits.test;
  if (!set || set->size() == 0)
    throw util::usage_error("dataset " + opt.dataset + " has no " + o.split + " split");
  if (set->shape().channels != m.model.in_channels())
    throw util::input_error("the model takes " + std::to_string(m.model.in_channels()) + " channels, " +
                            opt.dataset + " has " + std::to_string(set->shape().channels))
        .field("data");
  data::LoaderOptions lo;
  lo.batch_size = 1024;
  lo.shuffle = false;
  lo.workers = 1;
  lo.transform.mean = m.mean;
  lo.transform.std = m.std;
  data::Loader loader(set, lo);
  std::vector<torch::Tensor> images, labels;
  int64_t count = 0;
  while (auto b = loader.next()) {
    images.push_back(b->images);
    labels.push_back(b->labels);
    count += b->images.size(0);
    if (o.limit > 0 && count >= o.limit) break;
  }
  LabelledImages out{torch::cat(images), torch::cat(labels)};
  if (o.limit > 0 && out.images.size(0) > o.limit) {
    out.images = out.images.narrow(0, 0, o.limit);
    out.labels = out.labels.narrow(0, 0, o.limit);
  }
  return out;
}

DeployedEvalReport evaluate_deployed(const DeployModel& m, const DeployedEvalOptions& o) {
  const LabelledImages data = load_split(m, o);
  DeployedEvalReport r;
  r.images = data.images.size(0);
  r.dataset = !o.dataset.empty() ? o.dataset : m.info.at("data").at("dataset").get<std::string>();
  r.split = o.split;
  torch::NoGradGuard no_grad;
  torch::Tensor ref;
  double secs = 0;
  if (o.reference) {
    ref = run_batched(
        data.images, o.batch, [&](const torch::Tensor& x) { return m.model.forward(x); }, secs);
    r.reference = score(ref, data.labels, secs, {});
  }
  IntegerModel im(m);
  const torch::Tensor logits = run_batched(
      data.images, o.batch, [&](const torch::Tensor& x) { return im.forward(x); }, secs);
  r.integer = score(logits, data.labels, secs, ref);
  if (!o.onnx.empty()) {
    OrtOptions oo;
    oo.batch = static_cast<int>(o.batch);
    oo.threads = o.ort_threads;
    const torch::Tensor resized = data::resize_batch(data.images, m.model.resolution());
    const OrtResult ort = run_onnx_runtime(o.onnx, resized, oo);
    r.onnx = score(ort.logits, data.labels, ort.seconds, ref);
  }
  return r;
}

}  // namespace oqa::deploy
