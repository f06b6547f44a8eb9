// Search benchmarks on the peer's space (../shared/peer/search_peer.py): the full evolution (100 x 500, MACs
// budget halfway between the smallest and largest subnet, 3 x 400 MLP predictor with random weights on the
// architecture one-hot), predictor throughput on 10000 encoded configurations, and the machine's fp32
// matrix-multiply rate for the predictor's share of peak.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <random>

#include "oqa/cost/cost.h"
#include "oqa/search/evolution.h"
#include "oqa/search/predictor.h"
#include "oqa/space/mbv3_space.h"

namespace {

using oqa::space::Subnet;

std::shared_ptr<oqa::space::Mbv3Space> peer_space() {
  static auto space = std::make_shared<oqa::space::Mbv3Space>(oqa::space::Mbv3Options{});
  return space;
}

oqa::search::PredictorOptions peer_predictor() {
  oqa::search::PredictorOptions o;  // 3 x 400, ReLU: the peer's MLP
  o.encoding = oqa::search::Encoding::kArch;
  return o;
}

// The search's predictor arithmetic here: `oqa search`'s default ("auto": bfloat16 where the CPU has it).
oqa::search::Precision search_precision() {
  return oqa::search::parse_precision("auto");
}

// state.range(0): threads.
void BM_SearchEvolution(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  const auto space = peer_space();
  oqa::search::AccuracyPredictor predictor(*space, peer_predictor());
  predictor.set_precision(search_precision());
  oqa::search::SearchProblem p;
  p.space = space.get();
  p.fixed_genes = oqa::search::stage_fixed_genes(*space, "w4a4");
  p.score = [&](const std::vector<Subnet>& v) { return predictor.predict(v); };
  p.score_genes = [&](const oqa::space::GeneRows& rows) { return predictor.predict_values(rows); };
  if (predictor.precision() != oqa::search::Precision::kFloat32)  // as oqa search: final results in float32
    p.exact_score = [&](const std::vector<Subnet>& v) {
      return predictor.predict(v, oqa::search::Precision::kFloat32);
    };
  p.costs = [&](const Subnet& s) {
    oqa::search::Costs c;
    c.macs = oqa::cost::count_totals(*space, s).macs;
    return c;
  };
  const double lo = p.costs(space->smallest()).macs, hi = p.costs(space->largest()).macs;
  p.budgets = {{oqa::search::Metric::kMacs, lo + 0.5 * (hi - lo)}};
  p.objective = oqa::search::Metric::kMacs;
  oqa::search::EvolutionOptions o;  // Once-for-All defaults: 100 x 500, parents 25%, mutation 50%, p 0.1
  int64_t scored = 0, predicted = 0;
  for (auto _ : state) {
    const auto r = oqa::search::evolve(p, o);
    scored = r.scored;
    predicted = r.predicted;
    benchmark::DoNotOptimize(r.best.score);
  }
  state.counters["candidates"] = static_cast<double>(scored);
  state.counters["predicted"] = static_cast<double>(predicted);  // distinct networks the predictor ran on
  state.counters["encoding_dim"] = static_cast<double>(predictor.encoder().size());
  state.counters["bf16"] = predictor.precision() == oqa::search::Precision::kBFloat16;
}
BENCHMARK(BM_SearchEvolution)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Predictor forward on 10000 pre-encoded configurations (the peer times the same); range(1) = 1 adds
// encoding; range(2): 0 float32, 1 the search's precision.
void BM_PredictorThroughput(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  const auto space = peer_space();
  oqa::search::AccuracyPredictor predictor(*space, peer_predictor());
  predictor.set_precision(state.range(2) ? search_precision() : oqa::search::Precision::kFloat32);
  std::mt19937_64 rng(0);
  std::vector<Subnet> batch;
  for (int i = 0; i < 10000; ++i) batch.push_back(space->sample(rng));
  const torch::Tensor x = predictor.encoder().encode(batch);
  // The peer times one call right after building its model (cold: first-touch of the BLAS buffers); report
  // the same first call here, then time warm calls.
  const auto t0 = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(predictor.predict_encoded(x));
  const double cold_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto _ : state) {
    if (state.range(1)) {
      benchmark::DoNotOptimize(predictor.predict(batch));
    } else {
      benchmark::DoNotOptimize(predictor.predict_encoded(x));
    }
  }
  const double per_config = 2.0 * static_cast<double>(predictor.parameters());  // multiply-adds of the MLP
  state.counters["configs_per_s"] =
      benchmark::Counter(10000.0 * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["cold_configs_per_s"] = 10000.0 / cold_s;
  state.counters["gflops"] =
      benchmark::Counter(per_config * 10000.0 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["bf16"] = predictor.precision() == oqa::search::Precision::kBFloat16;
}
BENCHMARK(BM_PredictorThroughput)
    ->ArgNames({"threads", "encode", "search_precision"})
    ->ArgsProduct({{1, 2}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// fp32 matrix multiply, 1024^3: the machine's practical peak for the predictor's share.
void BM_MatmulPeak(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  torch::Tensor c = torch::empty({1024, 1024});
  for (auto _ : state) torch::mm_out(c, a, b);
  state.counters["gflops"] =
      benchmark::Counter(2.0 * 1024 * 1024 * 1024 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatmulPeak)->ArgNames({"threads"})->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
