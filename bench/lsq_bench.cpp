// LSQ fake-quantization benchmark: fused op vs composed LibTorch ops vs a memory-copy baseline (4M floats).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "oqa/quant/lsq.h"
#include "oqa/quant/parallel.h"
#include "oqa/quant/step_init.h"

namespace {

using oqa::quant::Granularity;
using oqa::quant::QuantSpec;

constexpr int64_t kNumel = 4 * 1024 * 1024;
constexpr int64_t kRows = 1024;
constexpr int kBits = 4;
// Bytes a fused forward + backward must move per element: read x and dy, write y and dx (as the peer counts).
constexpr double kBytesPerElement = 16.0;

// The three cases of ../shared/peer/lsq_peer.py, same order and names.
struct Case {
  const char* name;
  bool is_signed, per_channel, asymmetric;
};
const Case kCases[] = {
    {"weights_signed_per_channel", true, true, false},
    {"acts_unsigned_per_tensor", false, false, false},
    {"acts_asymmetric_per_tensor", false, false, true},
};

// Inputs made like the peer's: x, dy ~ N(0, 1); every step size 2*mean|x|/sqrt(Qp); offset 0.
struct Inputs {
  QuantSpec spec;
  torch::Tensor x, step, offset, dy;
  double grad_scale = 0.0;
};

Inputs make_inputs(const Case& c) {
  torch::manual_seed(0);
  Inputs in;
  in.spec.bits = kBits;
  in.spec.is_signed = c.is_signed;
  in.spec.granularity = c.per_channel ? Granularity::kPerChannel : Granularity::kPerTensor;
  in.spec.symmetric = !c.asymmetric;
  in.x = c.per_channel ? torch::randn({kRows, kNumel / kRows}) : torch::randn({kNumel});
  in.x.requires_grad_(true);
  const double qp = static_cast<double>(in.spec.qp());
  const double init = 2.0 * in.x.detach().abs().mean().item<double>() / std::sqrt(qp);
  in.step = torch::full({c.per_channel ? kRows : 1}, init).requires_grad_(true);
  if (c.asymmetric) in.offset = torch::zeros({1}).requires_grad_(true);
  in.dy = torch::randn_like(in.x);
  in.grad_scale = oqa::quant::grad_scale_for(in.x, in.spec);
  return in;
}

// Seconds per iteration of earlier benchmarks in this run, for the ratio counters of later ones.
std::map<std::pair<std::string, int>, double>& timings() {
  static std::map<std::pair<std::string, int>, double> t;
  return t;
}

void record(benchmark::State& state, const std::string& what, int threads, double seconds) {
  if (state.thread_index() == 0 && state.iterations() > 0) timings()[{what, threads}] = seconds / state.iterations();
}

// Memory-copy bandwidth: 2 x 16 MiB copied into 2 x 16 MiB, split over the threads like the LSQ kernels.
// Counts 64 MiB moved per iteration, the same bytes the LSQ op moves for 4M elements.
void BM_Copy(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  at::set_num_threads(threads);
  std::vector<std::vector<float>> src(2, std::vector<float>(kNumel, 1.0f)), dst(2, std::vector<float>(kNumel, 0.0f));
  const int64_t pieces = 64, piece = kNumel / pieces;
  double total = 0.0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    oqa::quant::detail::parallel_chunks(pieces, [&](int64_t b, int64_t e) {
      for (int k = 0; k < 2; ++k)
        std::memcpy(dst[k].data() + b * piece, src[k].data() + b * piece, (e - b) * piece * sizeof(float));
    });
    benchmark::ClobberMemory();
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  record(state, "copy", threads, total);
  state.counters["GB/s"] =
      benchmark::Counter(kNumel * kBytesPerElement / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

template <bool kFused>
void BM_Lsq(benchmark::State& state) {
  const Case& c = kCases[state.range(0)];
  const int threads = static_cast<int>(state.range(1));
  at::set_num_threads(threads);
  Inputs in = make_inputs(c);
  double total = 0.0;
  for (auto _ : state) {
    for (auto* t : {&in.x, &in.step, &in.offset})
      if (t->defined()) t->mutable_grad() = torch::Tensor();
    auto t0 = std::chrono::steady_clock::now();
    auto y = kFused ? oqa::quant::lsq_quantize(in.x, in.step, in.offset, in.spec, in.grad_scale)
                    : oqa::quant::lsq_quantize_reference(in.x, in.step, in.offset, in.spec, in.grad_scale);
    y.backward(in.dy);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.SetLabel(c.name);
  state.SetItemsProcessed(state.iterations() * kNumel);
  state.counters["GB/s"] =
      benchmark::Counter(kNumel * kBytesPerElement / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  record(state, std::string(kFused ? "fused/" : "composed/") + c.name, threads, total);
  if (!kFused || state.iterations() == 0) return;
  const double per_iter = total / state.iterations();
  auto& t = timings();
  // fused vs composed (how many times faster), and effective GB/s as a share of copy bandwidth.
  if (auto it = t.find({std::string("composed/") + c.name, threads}); it != t.end())
    state.counters["x_composed"] = it->second / per_iter;
  if (auto it = t.find({"copy", threads}); it != t.end()) state.counters["of_copy"] = it->second / per_iter;
}

// 1 and 2 threads, and every core when there are more (bench/run_lsq_peer.sh --threads picks one).
std::vector<int> thread_counts() {
  std::vector<int> t = {1, 2};
  int all = static_cast<int>(std::thread::hardware_concurrency());
  if (all > 2) t.push_back(all);
  return t;
}

void CopyArgs(benchmark::internal::Benchmark* b) {
  for (int threads : thread_counts()) b->Arg(threads);
  b->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
}

void Args(benchmark::internal::Benchmark* b) {
  for (int threads : thread_counts())
    for (int64_t c = 0; c < 3; ++c) b->Args({c, threads});
  b->ArgNames({"case", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

// Registration order is run order: copy and composed first, so the fused rows can show the ratios.
BENCHMARK(BM_Copy)->Apply(CopyArgs);
BENCHMARK_TEMPLATE(BM_Lsq, false)->Name("BM_LsqComposed")->Apply(Args);
BENCHMARK_TEMPLATE(BM_Lsq, true)->Name("BM_LsqFused")->Apply(Args);

}  // namespace
