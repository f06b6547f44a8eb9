// bench_deployed: median batch latency of three runtimes on one exported model, and file sizes.
#include "oqa/deploy/deploy_bench.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "oqa/deploy/deploy_model.h"
#include "oqa/deploy/int_runtime.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/deploy/ort_bridge.h"

namespace oqa::deploy {
namespace {

// Median milliseconds of f() over at least min_runs runs and `seconds` of timing, after 3 warm-up runs.
template <typename F>
double median_ms(F&& f, double seconds, int min_runs) {
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> ms;
  const auto start = std::chrono::steady_clock::now();
  while (static_cast<int>(ms.size()) < min_runs ||
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

nlohmann::json bench_deployed(const DeployModel& m, const DeployBenchOptions& o) {
  torch::NoGradGuard no_grad;
  IntegerModel im(m);
  nlohmann::json rows = nlohmann::json::array();
  const int64_t r = m.model.resolution(), c = m.model.in_channels();
  for (int64_t b : o.batches) {
    torch::manual_seed(0);
    const torch::Tensor x = torch::randn({b, c, r, r});
    nlohmann::json row{{"batch", b}};
    const double integer = median_ms([&] { im.forward(x); }, o.seconds, o.min_runs);
    const double fake = median_ms([&] { m.model.forward(x); }, o.seconds, o.min_runs);
    row["integer_ms"] = integer;
    row["fake_quant_ms"] = fake;
    row["integer_speedup_vs_fake_quant"] = fake / integer;
    if (!o.onnx.empty()) {
      OrtOptions oo;
      oo.batch = static_cast<int>(b);
      oo.threads = o.threads;
      oo.warmup = 3;
      oo.repeat = std::max<int>(o.min_runs, static_cast<int>(o.seconds / std::max(integer, 1e-3) * 1000.0));
      oo.repeat = std::min(oo.repeat, 2000);
      const OrtResult ort = run_onnx_runtime(o.onnx, x, oo);
      row["onnx_runtime_ms"] = ort.per_batch_ms;
      row["integer_speedup_vs_onnx_runtime"] = ort.per_batch_ms / integer;
      row["onnx_runtime_version"] = ort.version;
    }
    rows.push_back(std::move(row));
  }
  // The float32 file is counted stored as is: a model read from an .oqa file holds dequantized weights (a few
  // values per tensor), which deflate far better than trained float weights would, so its zlib size would
  // flatter neither side. The .oqa is encoded here (default zlib payload, and stored as is).
  nlohmann::json files{
      {"oqa_bytes", encode_oqa(m).size()},
      {"oqa_bytes_stored", encode_oqa(m, PayloadCompression::kNone).size()},
      {"float32_oqa_bytes_stored", encode_oqa(float_weights(m), PayloadCompression::kNone).size()}};
  if (!o.oqa_path.empty()) files["oqa_file_bytes"] = std::filesystem::file_size(o.oqa_path);
  files["oqa_over_float32"] =
      files["oqa_bytes"].get<double>() / files["float32_oqa_bytes_stored"].get<double>();
  if (!o.onnx.empty()) files["onnx_bytes"] = std::filesystem::file_size(o.onnx);
  return {{"batches", std::move(rows)},
          {"files", std::move(files)},
          {"gemm", im.summary().at("gemm")},
          {"integer_summary",
           {{"integer_layers", im.summary().at("integer_layers")},
            {"float_layers", im.summary().at("float_layers")}}}};
}

}  // namespace oqa::deploy
