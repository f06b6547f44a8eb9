// AccuracyPredictor: MLP construction, training with SmoothL1 on standardised top-1, held-out report,
// save/load.
#include "oqa/search/predictor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include <ATen/Context.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include "oqa/search/kendall.h"
#include "oqa/search/packed_mlp.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::search {
namespace {

torch::nn::Sequential make_mlp(int64_t in, const PredictorOptions& o) {
  torch::nn::Sequential mlp;
  int64_t width = in;
  for (int64_t i = 0; i < o.layers; ++i) {
    mlp->push_back(torch::nn::Linear(width, o.hidden));
    mlp->push_back(torch::nn::ReLU());
    width = o.hidden;
  }
  mlp->push_back(torch::nn::Linear(width, 1));
  return mlp;
}

nlohmann::json options_json(const PredictorOptions& o) {
  return {{"encoding", encoding_name(o.encoding)},
          {"hidden", o.hidden},
          {"layers", o.layers},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"lr", o.lr},
          {"weight_decay", o.weight_decay},
          {"held_out", o.held_out},
          {"seed", o.seed}};
}

std::vector<double> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

std::string precision_name(Precision p) {
  return p == Precision::kBFloat16 ? "bfloat16" : "float32";
}

Precision parse_precision(const std::string& name) {
  if (name == "float32") return Precision::kFloat32;
  if (name == "bfloat16") return Precision::kBFloat16;
  if (name == "auto") return native_bfloat16() ? Precision::kBFloat16 : Precision::kFloat32;
  throw util::usage_error("predictor precision must be auto, float32 or bfloat16").value(name);
}

bool native_bfloat16() {
#if defined(__x86_64__) && defined(__GNUC__)
  return PackedMlp::available() || (at::hasMKLDNN() && __builtin_cpu_supports("avx512bf16"));
#else
  return false;
#endif
}

nlohmann::json PredictorReport::to_json() const {
  return {{"train_pairs", train_pairs}, {"held_out_pairs", held_out_pairs}, {"rmse", rmse},
          {"kendall_tau", kendall_tau}, {"train_rmse", train_rmse},         {"seconds", seconds}};
}

AccuracyPredictor::AccuracyPredictor(const space::Space& space, const PredictorOptions& options)
    : options_(options), encoder_(space, options.encoding) {
  if (options.layers < 1 || options.hidden < 1)
    throw util::usage_error("predictor needs at least one hidden layer of at least one unit");
  torch::manual_seed(options.seed);
  mlp_ = make_mlp(static_cast<int64_t>(encoder_.size()), options);
  mlp_->eval();
}

int64_t AccuracyPredictor::parameters() const {
  int64_t n = 0;
  for (const auto& p : mlp_->parameters()) n += p.numel();
  return n;
}

torch::Tensor AccuracyPredictor::predict_encoded(const torch::Tensor& x) const {
  return predict_encoded(x, precision_);
}

torch::Tensor AccuracyPredictor::predict_encoded(const torch::Tensor& x, Precision precision) const {
  torch::NoGradGuard no_grad;
  // forward is not const; eval mode, no grad
  if (precision == Precision::kBFloat16) {
    if (packed_) {
      const torch::Tensor xc = x.to(torch::kFloat).contiguous();
      torch::Tensor y = torch::empty({xc.size(0)});
      packed_->forward(xc.data_ptr<float>(), xc.size(0), y.data_ptr<float>());
      return y * scale_ + mean_;
    }
    if (!mlp_bf16_) throw util::internal_error("predictor: bfloat16 asked before set_precision(kBFloat16)");
    return mlp_bf16_.ptr()->forward(x.to(torch::kBFloat16)).to(torch::kFloat).squeeze(1) * scale_ + mean_;
  }
  return mlp_.ptr()->forward(x).squeeze(1) * scale_ + mean_;
}

std::vector<double> AccuracyPredictor::predict(const std::vector<space::Subnet>& subnets) const {
  return predict(subnets, precision_);
}

std::vector<double> AccuracyPredictor::predict(const std::vector<space::Subnet>& subnets,
                                               Precision precision) const {
  if (subnets.empty()) return {};
  return predictions(encoder_.encode(subnets), precision);
}

std::vector<double> AccuracyPredictor::predictions(const torch::Tensor& x, Precision precision) const {
  if (precision != Precision::kBFloat16 || !packed_) return to_vector(predict_encoded(x, precision));
  // The search's path: no tensor operations after the encoding.
  std::vector<float> y(static_cast<size_t>(x.size(0)));
  packed_->forward(x.data_ptr<float>(), x.size(0), y.data());
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = static_cast<double>(y[i]) * scale_ + mean_;
  return out;
}

std::vector<double> AccuracyPredictor::predict_values(const space::GeneRows& rows) const {
  if (rows.empty()) return {};
  return predictions(encoder_.encode_values(rows), precision_);
}

void AccuracyPredictor::set_precision(Precision precision) {
  precision_ = precision;
  mlp_bf16_ = nullptr;
  packed_ = nullptr;
  if (precision != Precision::kBFloat16) return;
  if (PackedMlp::available()) {  // oqa's own kernel: no framework call per layer
    std::vector<torch::Tensor> weights, biases;
    for (const auto& m : mlp_->children())
      if (const auto* linear = m->as<torch::nn::Linear>()) {
        weights.push_back(linear->weight);
        biases.push_back(linear->bias);
      }
    packed_ = std::make_shared<const PackedMlp>(weights, biases);
    return;
  }
  mlp_bf16_ = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(mlp_->clone());
  mlp_bf16_->to(torch::kBFloat16);
  mlp_bf16_->eval();
}

PredictorReport AccuracyPredictor::train(const std::vector<space::Subnet>& subnets,
                                         const std::vector<double>& top1) {
  if (subnets.size() != top1.size() || subnets.size() < 2)
    throw util::input_error("the predictor needs at least 2 (subnet, accuracy) pairs")
        .value(std::to_string(subnets.size()));
  const auto start = std::chrono::steady_clock::now();
  const size_t n = subnets.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(options_.seed);
  std::shuffle(order.begin(), order.end(), rng);
  size_t held =
      n < 5 ? 0 : std::clamp<size_t>(static_cast<size_t>(std::round(options_.held_out * n)), 1, n - 1);
  if (options_.held_out <= 0) held = 0;
  std::vector<size_t> train_idx(order.begin() + static_cast<long>(held), order.end());
  std::vector<size_t> test_idx(order.begin(), order.begin() + static_cast<long>(held));

  const torch::Tensor x_all = encoder_.encode(subnets);
  const torch::Tensor y_all = torch::tensor(top1, torch::kDouble).to(torch::kFloat);
  auto pick = [](const torch::Tensor& t, const std::vector<size_t>& idx) {
    std::vector<int64_t> i(idx.begin(), idx.end());
    return t.index_select(0, torch::tensor(i, torch::kLong));
  };
  const torch::Tensor x = pick(x_all, train_idx), y = pick(y_all, train_idx);
  mean_ = y.mean().item<double>();
  scale_ = train_idx.size() > 1 ? y.std().item<double>() : 1.0;
  if (!(scale_ > 1e-6)) scale_ = 1.0;
  const torch::Tensor target = (y - mean_) / scale_;

  torch::manual_seed(options_.seed);
  mlp_ = make_mlp(static_cast<int64_t>(encoder_.size()), options_);
  set_precision(Precision::kFloat32);
  torch::optim::Adam opt(mlp_->parameters(),
                         torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
  const int64_t rows = x.size(0), bs = std::max<int64_t>(1, std::min(options_.batch_size, rows));
  const int64_t steps_per_epoch = (rows + bs - 1) / bs, total = steps_per_epoch * options_.epochs;
  mlp_->train();
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
    const torch::Tensor perm = torch::randperm(rows, torch::kLong);
    for (int64_t b = 0; b < rows; b += bs, ++step) {
      const torch::Tensor idx = perm.slice(0, b, std::min(rows, b + bs));
      // Cosine learning rate from lr to 0 over the run.
      const double lr =
          0.5 * options_.lr * (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
      for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
      opt.zero_grad();
      const torch::Tensor loss = torch::nn::functional::smooth_l1_loss(
          mlp_->forward(x.index_select(0, idx)).squeeze(1), target.index_select(0, idx));
      loss.backward();
      opt.step();
    }
  }
  mlp_->eval();

  PredictorReport r;
  r.train_pairs = static_cast<int64_t>(train_idx.size());
  r.held_out_pairs = static_cast<int64_t>(test_idx.size());
  r.train_rmse = rmse(to_vector(predict_encoded(x, Precision::kFloat32)), to_vector(y));
  if (!test_idx.empty()) {
    const std::vector<double> pred = to_vector(predict_encoded(pick(x_all, test_idx), Precision::kFloat32));
    const std::vector<double> truth = to_vector(pick(y_all, test_idx));
    r.rmse = rmse(pred, truth);
    r.kendall_tau = kendall_tau(pred, truth);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report_ = r;
  return r;
}

void AccuracyPredictor::save(const std::string& prefix) const {
  torch::serialize::OutputArchive archive;
  mlp_->save(archive);
  std::ostringstream weights;
  archive.save_to(weights);
  util::atomic_write(prefix + ".pt", weights.str());
  util::write_json(prefix + ".json", {{"format", "oqa-accuracy-predictor"},
                                      {"version", 1},
                                      {"options", options_json(options_)},
                                      {"input_size", encoder_.size()},
                                      {"target_mean", mean_},
                                      {"target_scale", scale_},
                                      {"report", report_.to_json()}});
}

AccuracyPredictor AccuracyPredictor::load(const space::Space& space, const std::string& prefix) {
  const std::string meta_path = prefix + ".json";
  const util::Json meta = util::read_json(meta_path);
  PredictorOptions o;
  try {
    if (meta.at("format") != "oqa-accuracy-predictor")
      throw util::input_error("not an accuracy predictor").file(meta_path).field("format");
    if (meta.at("version").get<int>() > 1)
      throw util::input_error("predictor file of a newer version").file(meta_path).field("version");
    const auto& j = meta.at("options");
    o.encoding = parse_encoding(j.at("encoding").get<std::string>());
    o.hidden = j.at("hidden");
    o.layers = j.at("layers");
    o.epochs = j.at("epochs");
    o.batch_size = j.at("batch_size");
    o.lr = j.at("lr");
    o.weight_decay = j.at("weight_decay");
    o.held_out = j.at("held_out");
    o.seed = j.at("seed");
  } catch (const nlohmann::json::exception& e) {
    throw util::input_error(std::string("malformed predictor metadata: ") + e.what()).file(meta_path);
  }
  AccuracyPredictor p(space, o);
  if (meta.value("input_size", size_t{0}) != p.encoder_.size())
    throw util::input_error("predictor made for another space (encoding size " +
                            std::to_string(meta.value("input_size", size_t{0})) + ", this space " +
                            std::to_string(p.encoder_.size()) + ")")
        .file(meta_path)
        .field("input_size");
  p.mean_ = meta.value("target_mean", 0.0);
  p.scale_ = meta.value("target_scale", 1.0);
  const auto& r = meta.value("report", nlohmann::json::object());
  p.report_.train_pairs = r.value("train_pairs", int64_t{0});
  p.report_.held_out_pairs = r.value("held_out_pairs", int64_t{0});
  p.report_.rmse = r.value("rmse", 0.0);
  p.report_.kendall_tau = r.value("kendall_tau", 0.0);
  p.report_.train_rmse = r.value("train_rmse", 0.0);
  p.report_.seconds = r.value("seconds", 0.0);
  const std::string weights_path = prefix + ".pt";
  try {
    torch::serialize::InputArchive archive;
    std::istringstream in(util::read_file(weights_path));
    archive.load_from(in);
    p.mlp_->load(archive);
  } catch (const c10::Error& e) {
    throw util::input_error(std::string("unreadable or mismatched predictor weights: ") +
                            e.what_without_backtrace())
        .file(weights_path);
  }
  p.mlp_->eval();
  return p;
}

}  // namespace oqa::search
