// `oqa bench deploy`: latency of the integer runtime vs ONNX Runtime vs LibTorch fake-quant, and file sizes.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "oqa/cli/commands.h"
#include "oqa/deploy/deploy_bench.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/util/error.h"

namespace oqa::cli {
namespace {

struct DeployBenchArgs {
  std::string model;
  deploy::DeployBenchOptions options;
  bool json = false;
};

int run_bench_deploy(const DeployBenchArgs& a) {
  const deploy::DeployModel m = deploy::read_oqa(a.model);
  deploy::DeployBenchOptions o = a.options;
  o.oqa_path = a.model;
  const nlohmann::json r = deploy::bench_deployed(m, o);
  if (a.json) {
    std::printf("%s\n", r.dump(2).c_str());
    return 0;
  }
  std::printf("%s: %d integer layers, %d float layers, GEMM %s\n", a.model.c_str(),
              r.at("integer_summary").at("integer_layers").get<int>(),
              r.at("integer_summary").at("float_layers").get<int>(), r.at("gemm").get<std::string>().c_str());
  std::printf("%6s %12s %14s %16s %14s %14s\n", "batch", "integer ms", "fake-quant ms", "ONNX Runtime ms",
              "int vs ORT", "int vs LibTorch");
  for (const auto& row : r.at("batches")) {
    const bool ort = row.contains("onnx_runtime_ms");
    std::printf(
        "%6lld %12.4f %14.4f %16s %13s %13.2fx\n", row.at("batch").get<long long>(),
        row.at("integer_ms").get<double>(), row.at("fake_quant_ms").get<double>(),
        ort ? std::to_string(row.at("onnx_runtime_ms").get<double>()).c_str() : "-",
        ort ? (std::to_string(row.at("integer_speedup_vs_onnx_runtime").get<double>()) + "x").c_str() : "-",
        row.at("integer_speedup_vs_fake_quant").get<double>());
  }
  const auto& f = r.at("files");
  std::printf(
      "files: .oqa %lld bytes (stored as is: %lld), float32 .oqa stored as is %lld bytes (ratio 1/%.1f)",
      f.at("oqa_bytes").get<long long>(), f.at("oqa_bytes_stored").get<long long>(),
      f.at("float32_oqa_bytes_stored").get<long long>(), 1.0 / f.at("oqa_over_float32").get<double>());
  if (f.contains("onnx_bytes")) std::printf(", .onnx %lld bytes", f.at("onnx_bytes").get<long long>());
  std::printf("\n");
  return 0;
}

}  // namespace

Runner add_bench_deploy(CLI::App& bench) {
  auto a = std::make_shared<DeployBenchArgs>();
  CLI::App* sub = bench.add_subcommand(
      "deploy",
      "latency of an exported model: integer runtime vs ONNX Runtime vs LibTorch fake-quant; file sizes");
  sub->add_option("model", a->model, "an .oqa file written by `oqa export`")->required();
  sub->add_option("--onnx", a->options.onnx, "the same model as .onnx (adds the ONNX Runtime column)");
  sub->add_option("--batches", a->options.batches, "batch sizes")->capture_default_str();
  sub->add_option("--seconds", a->options.seconds, "timed seconds per runtime and batch")
      ->capture_default_str();
  sub->add_option("--ort-threads", a->options.threads, "ONNX Runtime intra-op threads (match --threads)")
      ->capture_default_str();
  sub->add_flag("--json", a->json, "print one JSON object");
  return [a, sub]() -> int { return sub->parsed() ? run_bench_deploy(*a) : 0; };
}

}  // namespace oqa::cli
