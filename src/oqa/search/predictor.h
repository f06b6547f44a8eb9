// AccuracyPredictor: an MLP (Once-for-All: 3 hidden layers of 400, ReLU) from a subnet encoding to top-1,
// trained with SmoothL1 on standardised targets (EQ-Net), evaluated on held-out pairs (RMSE, Kendall tau),
// saved as predictor.pt + predictor.json and reloaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/modules/container/sequential.h>
#include <nlohmann/json.hpp>

#include "oqa/search/encoding.h"
#include "oqa/space/space.h"

namespace oqa::search {

class PackedMlp;

// Arithmetic of the predictor's forward pass in search. bfloat16 runs through oqa's PackedMlp (AVX512-BF16 dot
// products; oneDNN through LibTorch where PackedMlp is not compiled) and is 4-5x faster than float32; its
// predictions differ from float32 by a small fraction of a point (docs/performance.md), and the search
// re-scores its final population and front in float32. Training is always float32.
enum class Precision { kFloat32, kBFloat16 };
std::string precision_name(Precision p);  // "float32" | "bfloat16"
// "float32", "bfloat16" or "auto" (bfloat16 when native_bfloat16(), else float32); usage error naming the
// value.
Precision parse_precision(const std::string& name);
bool native_bfloat16();  // this CPU has AVX512-BF16 and PackedMlp or LibTorch's oneDNN can use it

struct PredictorOptions {
  Encoding encoding = Encoding::kQuant;
  int64_t hidden = 400;
  int64_t layers = 3;  // hidden layers
  int64_t epochs = 300;
  int64_t batch_size = 128;
  double lr = 1e-3;
  double weight_decay = 1e-3;
  double held_out = 0.2;  // share of the pairs kept for RMSE / Kendall tau
  uint64_t seed = 0;
};

struct PredictorReport {
  int64_t train_pairs = 0, held_out_pairs = 0;
  double rmse = 0, kendall_tau = 0;  // on held-out pairs (top-1 points)
  double train_rmse = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

class AccuracyPredictor {
 public:
  // An untrained predictor (random weights seeded by options.seed).
  AccuracyPredictor(const space::Space& space, const PredictorOptions& options);

  // Trains on (subnets, top-1 %) pairs: a seeded shuffle keeps options.held_out of them aside for the report
  // (at least one pair each side; all pairs train when there are fewer than 5).
  PredictorReport train(const std::vector<space::Subnet>& subnets, const std::vector<double>& top1);

  // Predicted top-1 (%) of each subnet, batched, no gradients, in precision() or the one given.
  std::vector<double> predict(const std::vector<space::Subnet>& subnets) const;
  std::vector<double> predict(const std::vector<space::Subnet>& subnets, Precision precision) const;
  // The same from gene values (Space::gene_values rows; the search's candidates), in precision().
  std::vector<double> predict_values(const space::GeneRows& rows) const;
  // The same from already encoded rows [N, encoder().size()].
  torch::Tensor predict_encoded(const torch::Tensor& x) const;
  torch::Tensor predict_encoded(const torch::Tensor& x, Precision precision) const;

  // Precision of predict() (float32 after construction, train and load): bfloat16 keeps a converted copy of
  // the weights.
  void set_precision(Precision precision);
  Precision precision() const { return precision_; }

  const Encoder& encoder() const { return encoder_; }
  const PredictorOptions& options() const { return options_; }
  const PredictorReport& report() const { return report_; }
  // Number of weights (for FLOP counts of the benchmark).
  int64_t parameters() const;

  // <prefix>.pt (weights) and <prefix>.json (options, target scaling, encoding size, report), both atomic.
  void save(const std::string& prefix) const;
  // Refuses files made for another encoding size or architecture with an error naming the file.
  static AccuracyPredictor load(const space::Space& space, const std::string& prefix);

 private:
  PredictorOptions options_;
  Encoder encoder_;
  torch::nn::Sequential mlp_{nullptr};
  // Predictions as numbers, through packed_ when it runs the precision.
  std::vector<double> predictions(const torch::Tensor& x, Precision precision) const;

  torch::nn::Sequential mlp_bf16_{nullptr};  // set_precision(kBFloat16)'s copy where PackedMlp is unavailable
  std::shared_ptr<const PackedMlp> packed_;  // set_precision(kBFloat16)'s weights where it is available
  Precision precision_ = Precision::kFloat32;
  double mean_ = 0, scale_ = 1;  // target standardisation
  PredictorReport report_;
};

}  // namespace oqa::search
