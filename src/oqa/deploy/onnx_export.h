// ONNX export of a StaticModel: integer weights with QuantizeLinear / DequantizeLinear pairs (opset 14).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/nn/static_model.h"

namespace oqa::deploy {

struct OnnxExportOptions {
  // Input normalisation the model expects (one value per input channel, or empty): stored as metadata_props
  // "oqa.mean" / "oqa.std" (JSON lists). The graph does not apply it: its input is already normalised.
  std::vector<float> mean, std;
  std::string producer_version;  // empty: OQA_VERSION
  nlohmann::json metadata;       // stored as metadata_props "oqa.metadata" (dump()) unless null
};

// The ONNX graph of `model` (IR version of libonnx 1.12, opset 14, default domain):
//   input  "input":  float [batch, in_channels, resolution, resolution], already normalised and already at
//                    the model's resolution (StaticModel::forward's bilinear resize is not part of the
//                    graph);
//   output "logits": the last layer's output, float [batch, classes] when the last layer is linear.
// Every quantized tensor becomes Q/DQ: activations Sub(beta) -> Clip(s*Qn, s*Qp) -> QuantizeLinear(s, 0) ->
// DequantizeLinear -> Add(beta) (int8 zero point for signed specs, uint8 otherwise; the Clip keeps 2..7-bit
// ranges inside the 8-bit containers); weights are int8 initializers of integer_levels() with a per-tensor
// or per-axis DequantizeLinear (+ Add(offset) for asymmetric weights). Float specs stay float.
// The result passes onnx::checker::check_model. Returns the serialised ModelProto.
// Throws oqa::util::Error naming the layer and field for a model it cannot express (bad options, missing
// weights, non-positive step sizes).
std::string onnx_model_bytes(const nn::StaticModel& model, const OnnxExportOptions& opt);

// onnx_model_bytes written atomically to `path` (an error names the file when it cannot be written).
void export_onnx(const nn::StaticModel& model, const OnnxExportOptions& opt, const std::string& path);

}  // namespace oqa::deploy
