// ONNX Runtime bridge: runs an exported model through tools/ort_run.js (onnxruntime-node) from C++.
#pragma once

#include <string>

#include <torch/types.h>

namespace oqa::deploy {

// The runner script: $OQA_ORT_SCRIPT when set, else <source dir>/tools/ort_run.js.
std::string default_ort_script();

struct OrtOptions {
  int batch = 64;   // inputs per session.run (the last batch may be partial)
  int threads = 1;  // intraOpNumThreads
  int repeat = 1;   // whole passes timed; outputs come from the last
  int warmup = 0;   // untimed passes first
  std::string script = default_ort_script();
  std::string node = "node";  // the Node.js executable (looked up on PATH)
};

struct OrtResult {
  torch::Tensor logits;     // [N, classes] float32
  double seconds = 0;       // inference time of one pass over every input (median pass)
  double per_batch_ms = 0;  // median latency of one full batch
  std::string version;      // onnxruntime-node version
};

// Runs `inputs` ([N, C, H, W] float, already normalised and at the model's resolution) through the ONNX model
// at model_path with ONNX Runtime (CPU, graph optimisation level "all"). Inputs and outputs travel through
// temporary files under $TMPDIR (removed afterwards). Throws oqa::util::Error naming what failed: a missing
// node or onnxruntime-node, the model file, or the runner's own one-line message.
OrtResult run_onnx_runtime(const std::string& model_path, const torch::Tensor& inputs,
                           const OrtOptions& o = {});

// True when node runs and the runner can load onnxruntime-node; otherwise false with the reason in *why
// ("node not found", "onnxruntime-node not installed: run scripts/install-deps.sh", ...).
bool onnx_runtime_available(std::string* why = nullptr, const OrtOptions& o = {});

}  // namespace oqa::deploy
