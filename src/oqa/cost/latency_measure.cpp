// Latency measurement: median timing, covering subnets of each space kind, and the table of layer latencies.
#include "oqa/cost/latency_measure.h"

#include <algorithm>
#include <chrono>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "oqa/space/mbv3_space.h"
#include "oqa/space/resnet_space.h"
#include "oqa/util/error.h"

namespace oqa::cost {
namespace {

// Every combination of the quantization forms, with the first listed bit-widths.
std::vector<space::LayerQuant> quant_variants(const space::QuantChoices& q) {
  std::vector<space::LayerQuant> out;
  for (auto g : q.weight_granularity)
    for (bool ws : q.weight_symmetric)
      for (bool as : q.act_symmetric) out.push_back({q.weight_bits.front(), q.act_bits.front(), g, ws, as});
  return out;
}

std::vector<space::Subnet> mbv3_cover(const space::Mbv3Space& s) {
  std::vector<space::Subnet> out;
  const auto& o = s.options();
  for (int64_t k : o.kernel)
    for (int64_t e : o.expand) {
      space::Subnet sub = s.largest();
      for (auto& st : sub.stages) {
        std::fill(st.kernel.begin(), st.kernel.end(), k);
        std::fill(st.expand.begin(), st.expand.end(), e);
      }
      out.push_back(sub);
    }
  return out;
}

std::vector<space::Subnet> resnet_cover(const space::ResNetSpace& s) {
  // Residual-stream groups alternate between indices a and c (consecutive streams meet in projection blocks),
  // inner groups take index b; indices are clamped to each group's candidates.
  const auto& groups = s.width_groups();
  std::vector<int> stream_pos(groups.size(), -1);
  int streams = 0;
  for (const auto& b : s.blocks())
    for (size_t g : {b.in_group, b.out_group})
      if (stream_pos[g] < 0) stream_pos[g] = streams++;
  size_t n = 0;
  for (const auto& g : groups) n = std::max(n, g.candidates.size());
  std::vector<space::Subnet> out;
  for (size_t a = 0; a < n; ++a)
    for (size_t c = 0; c < n; ++c)
      for (size_t b = 0; b < n; ++b) {
        space::Subnet sub = s.largest();
        for (size_t g = 0; g < groups.size(); ++g) {
          const size_t idx = stream_pos[g] < 0 ? b : (stream_pos[g] % 2 == 0 ? a : c);
          sub.widths[g] = groups[g].candidates[std::min(idx, groups[g].candidates.size() - 1)];
        }
        out.push_back(sub);
      }
  return out;
}

}  // namespace

double median_ms(const std::function<void()>& fn, const LatencyOptions& o) {
  for (int i = 0; i < o.warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < std::max(1, o.repeats); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

double measure_model_ms(const nn::StaticModel& model, const LatencyOptions& o) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      torch::randn({o.batch, model.in_channels(), model.resolution(), model.resolution()});
  return median_ms([&] { model.forward(x); }, o);
}

std::vector<space::Subnet> covering_subnets(const space::Space& space) {
  std::vector<space::Subnet> arch;
  if (auto m = dynamic_cast<const space::Mbv3Space*>(&space))
    arch = mbv3_cover(*m);
  else if (auto r = dynamic_cast<const space::ResNetSpace*>(&space))
    arch = resnet_cover(*r);
  else
    throw util::internal_error("no covering subnets for space kind " + space.kind());
  std::vector<space::Subnet> out;
  for (int64_t res : space.resolutions())
    for (const space::LayerQuant& q : quant_variants(space.quant_choices()))
      for (space::Subnet s : arch) {
        s.resolution = res;
        std::fill(s.quant.begin(), s.quant.end(), q);
        space.validate(s);
        out.push_back(std::move(s));
      }
  return out;
}

nn::StaticModel extract_for_timing(space::Supernet& supernet, const space::Subnet& subnet) {
  torch::NoGradGuard no_grad;
  supernet.eval();
  supernet.set_active(subnet);
  const auto& s = supernet.space();
  supernet.forward(torch::randn({2, s.input_channels(), subnet.resolution, subnet.resolution}));
  return supernet.extract();
}

LatencyTable measure_latency_table(space::Supernet& supernet, const std::vector<space::Subnet>& subnets,
                                   const LatencyOptions& o,
                                   const std::function<void(size_t, size_t)>& progress) {
  torch::NoGradGuard no_grad;
  LatencyTable table;
  table.batch = o.batch;
  table.threads = at::get_num_threads();
  using Clock = std::chrono::steady_clock;
  for (size_t i = 0; i < subnets.size(); ++i) {
    const nn::StaticModel model = extract_for_timing(supernet, subnets[i]);
    const std::vector<std::string> keys = LatencyTable::layer_keys(model);
    const auto& layers = model.layers();
    // Each layer is timed inside whole-model passes (its input produced by the previous layer, as in a real
    // forward: caches and allocator in the state a model run leaves them).
    const torch::Tensor x =
        torch::randn({o.batch, model.in_channels(), model.resolution(), model.resolution()});
    std::vector<std::vector<double>> times(layers.size());
    std::vector<torch::Tensor> outs(layers.size()), args;
    for (int pass = 0; pass < o.warmup + std::max(1, o.repeats); ++pass) {
      for (size_t l = 0; l < layers.size(); ++l) {
        args.clear();
        for (int src : layers[l].inputs) args.push_back(src < 0 ? x : outs[static_cast<size_t>(src)]);
        const auto t0 = Clock::now();
        outs[l] = nn::StaticModel::run_layer(layers[l], args);
        if (pass >= o.warmup)
          times[l].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    }
    for (size_t l = 0; l < layers.size(); ++l) {
      if (table.has(keys[l])) continue;
      std::vector<double>& t = times[l];
      std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
      table.set(keys[l], t[t.size() / 2]);
    }
    if (progress) progress(i + 1, subnets.size());
  }
  return table;
}

}  // namespace oqa::cost
