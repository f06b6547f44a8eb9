// Deploy benchmark: per-batch latency of the integer runtime, the LibTorch fake-quant model and ONNX Runtime
// on the same exported model and inputs, plus the file sizes (packed vs float32).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/deploy/deploy_model.h"

namespace oqa::deploy {

struct DeployBenchOptions {
  std::vector<int64_t> batches = {1, 64};
  double seconds = 1.0;  // timed time per runtime and batch (at least `min_runs` runs)
  int min_runs = 10;
  int threads = 1;       // ONNX Runtime intra-op threads (the others use the process's LibTorch threads)
  std::string onnx;      // "" = no ONNX Runtime column
  std::string oqa_path;  // for the file size (optional)
};

// {"batches": [{"batch": b, "integer_ms": .., "fake_quant_ms": .., "onnx_runtime_ms": ..,
//   "integer_speedup_vs_onnx_runtime": .., "integer_speedup_vs_fake_quant": ..}, ...],
//  "files": {"oqa_bytes" (zlib payload), "oqa_bytes_stored" (payload as is), "float32_oqa_bytes_stored",
//  "oqa_over_float32" (oqa_bytes / float32_oqa_bytes_stored), "oqa_file_bytes" (oqa_path's size),
//  "onnx_bytes"}, "gemm": "avx2"}.
// Latencies are medians of whole-batch forward passes on random normal inputs.
nlohmann::json bench_deployed(const DeployModel& m, const DeployBenchOptions& o);

}  // namespace oqa::deploy
