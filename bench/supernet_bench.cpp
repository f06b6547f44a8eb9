// Supernet benchmark: forward + backward images/s of the largest and smallest subnets of the 28 px mbv3
// space, float vs w4a4, batch 128; the 4-bit runs report their time relative to float (quantization
// overhead).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "oqa/space/mbv3_space.h"
#include "oqa/space/supernet.h"

namespace {

constexpr int64_t kBatch = 128;

// Mbv3Options' defaults: the 28 px small-input space (1 channel, 5 stages, kernel 3/5/7, expand 3/4/6, depth
// 2/3/4); searched (elastic-block) layers at 4 bits, the stem, first block, SE and head float.
std::shared_ptr<oqa::space::Supernet> supernet() {
  static std::shared_ptr<oqa::space::Supernet> net = [] {
    torch::manual_seed(0);
    return oqa::space::make_supernet(std::make_shared<oqa::space::Mbv3Space>(oqa::space::Mbv3Options{}));
  }();
  return net;
}

// Seconds per iteration of the float runs, by subnet, for the 4-bit runs' ratio.
std::map<std::string, double>& float_seconds() {
  static std::map<std::string, double> m;
  return m;
}

// range(0): 0 = largest, 1 = smallest; range(1): 0 = float, 1 = w4a4.
void BM_SupernetForwardBackward(benchmark::State& state) {
  auto net = supernet();
  const auto& space = net->space();
  const std::string which = state.range(0) == 0 ? "largest" : "smallest";
  const bool quantized = state.range(1) == 1;
  const oqa::space::Subnet subnet = space.with_quant(state.range(0) == 0 ? space.largest() : space.smallest(),
                                                     quantized ? "w4a4" : "float");
  net->set_active(subnet);
  net->train();
  const torch::Tensor x = torch::randn({kBatch, space.input_channels(), 28, 28});
  const torch::Tensor y = torch::randint(space.classes(), {kBatch});
  auto step = [&] {
    for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
    at::cross_entropy_loss(net->forward(x), y).backward();
  };
  step();  // initialises the step sizes this subnet uses
  double seconds = 0.0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double per_iter = seconds / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["images_per_s"] = static_cast<double>(kBatch) / per_iter;
  if (!quantized)
    float_seconds()[which] = per_iter;
  else if (float_seconds().count(which))
    state.counters["cost_vs_float"] = per_iter / float_seconds()[which];
  state.SetLabel(which + (quantized ? " w4a4" : " float"));
}

BENCHMARK(BM_SupernetForwardBackward)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"subnet", "w4a4"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace
