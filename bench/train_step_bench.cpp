// Float training-step benchmark: the baseline CNN (width 16, batch 128, 28 px), 1 vs 2 LibTorch threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "oqa/nn/baseline_cnn.h"
#include "oqa/train/optimizer.h"

namespace {

void BM_FloatTrainStep(benchmark::State& state) {
  const int previous = at::get_num_threads();
  at::set_num_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(0);
  oqa::nn::BaselineCnn model(oqa::nn::BaselineCnnOptions{1, 10, 16});
  auto opt = oqa::train::make_optimizer(*model, oqa::train::OptimizerOptions{});
  const auto x = torch::randn({128, 1, 28, 28});
  const auto y = torch::randint(0, 10, {128});
  for (auto _ : state) {
    opt->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt->step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 128), benchmark::Counter::kIsRate);
  at::set_num_threads(previous);
}
BENCHMARK(BM_FloatTrainStep)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->MinTime(3.0);

}  // namespace
