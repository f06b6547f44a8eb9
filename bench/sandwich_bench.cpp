// Sandwich training-step benchmark: images/s of one step (4 fixed subnets, accumulate, SGD) on the peer's space.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "oqa/quant/step_guard.h"
#include "oqa/space/mbv3_space.h"
#include "oqa/space/supernet.h"
#include "oqa/train/optimizer.h"
#include "oqa/train/sandwich.h"

namespace {

using oqa::space::Subnet;

// The four fixed subnets of ../shared/peer/supernet_peer.py (largest, middle_a, middle_b, smallest) on its
// default SPACE (Mbv3Options' defaults are that space: 28 px, 1 channel, 5 stages, kernel 3/5/7, expand 3/4/6,
// depth 2/3/4; elastic blocks quantized, the rest float).
std::vector<Subnet> peer_subnets(const oqa::space::Space& space, const std::string& quant) {
  auto uniform = [](int64_t k, int64_t e, int64_t d) {
    nlohmann::json stages = nlohmann::json::array();
    for (int s = 0; s < 5; ++s) stages.push_back({{"depth", d}, {"kernel", k}, {"expand", e}});
    return stages;
  };
  nlohmann::json middle_b = nlohmann::json::array();
  const int64_t depth_b[] = {4, 2, 3, 2, 4};
  for (int s = 0; s < 5; ++s)
    middle_b.push_back({{"depth", depth_b[s]}, {"kernel", {3, 5, 7, 5}}, {"expand", {6, 3, 4, 4}}});
  std::vector<Subnet> out;
  for (const auto& stages : {uniform(7, 6, 4), uniform(5, 4, 3), middle_b, uniform(3, 3, 2)})
    out.push_back(space.parse({{"kind", "mbv3"}, {"resolution", 28}, {"stages", stages}, {"quant", quant}}));
  return out;
}

// state.range(0): batch; range(1): threads; range(2): 0 = w4a4, 1 = w2a2, 2 = float.
void BM_SandwichStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  torch::set_num_threads(static_cast<int>(state.range(1)));
  const char* modes[] = {"w4a4", "w2a2", "float"};
  const std::string quant = modes[state.range(2)];
  torch::manual_seed(0);
  auto space = std::make_shared<oqa::space::Mbv3Space>(oqa::space::Mbv3Options{});
  auto net = oqa::space::make_supernet(space);
  net->train();
  oqa::train::OptimizerOptions oo;  // the peer's SGD: lr 0.05, Nesterov 0.9, decay 3e-5 off BN/bias/steps
  // The peer's 12 steps at lr 0.05 on random labels stay finite, but the repetitions here run many more and
  // diverge to NaN step sizes; a small lr keeps the weights sane and costs exactly the same per step.
  oo.lr = 1e-3;
  auto optimizer = oqa::train::make_optimizer(*net, oo);
  const auto subnets = peer_subnets(*space, quant);
  oqa::data::Batch b{torch::randn({batch, 1, 28, 28}), torch::randint(0, 10, {batch}), 0};
  oqa::train::DistillOptions distill;
  distill.label_smoothing = 0.1;
  distill.kd_ce_weight = 1.0;  // the peer's students: CE + KL
  oqa::quant::StepSizeGuard guard(0.1);  // the trainer's default bound
  auto step = [&] {
    optimizer->zero_grad();
    oqa::train::sandwich_step(*net, b, subnets, distill);
    guard.before_step(*net);  // as the trainer does around every update
    optimizer->step();
    guard.after_step();
  };
  for (int i = 0; i < 2; ++i) step();  // warm-up (step-size init, allocator), as the peer
  for (auto _ : state) step();
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(quant);
}

}  // namespace

BENCHMARK(BM_SandwichStep)
    ->ArgNames({"batch", "threads", "mode"})
    ->Args({128, 2, 0})
    ->Args({128, 2, 1})
    ->Args({128, 2, 2})
    ->Args({128, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(10);  // bench/run_supernet_peer.sh filters on these argument names
