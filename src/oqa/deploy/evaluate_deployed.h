// Evaluation of a deployed model on a dataset split: integer runtime top-1 and images/s, optionally against
// the fake-quant reference (the StaticModel in LibTorch) and ONNX Runtime on the exported .onnx file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "oqa/deploy/deploy_model.h"

namespace oqa::deploy {

struct DeployedEvalOptions {
  std::string split = "test";  // test | val
  std::string dataset, root;   // "" = the ones recorded at export (info.data)
  int64_t batch = 64;
  int64_t limit = 0;       // 0 = every image of the split
  bool reference = false;  // also run the fake-quant model
  std::string onnx;        // also run this .onnx file with ONNX Runtime
  int ort_threads = 1;
};

struct RuntimeScore {
  double top1 = 0;  // percent
  double images_per_s = 0;
  double agreement = -1;  // percent of images whose argmax equals the reference's (-1: no reference)
};

struct DeployedEvalReport {
  int64_t images = 0;
  std::string dataset, split;
  RuntimeScore integer;
  std::optional<RuntimeScore> reference, onnx;
  nlohmann::json to_json() const;
};

// The normalised images ([N, C, H, W] float) and labels of a split, as the model's input expects.
struct LabelledImages {
  torch::Tensor images, labels;
};
LabelledImages load_split(const DeployModel& m, const DeployedEvalOptions& o);

DeployedEvalReport evaluate_deployed(const DeployModel& m, const DeployedEvalOptions& o);

}  // namespace oqa::deploy
