// DeployModel: a static quantized subnet with what a runtime needs besides its layers (input normalisation,
// class count, provenance); what `oqa export` writes and every runtime loads.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/nn/static_model.h"

namespace oqa::deploy {

struct DeployModel {
  explicit DeployModel(nn::StaticModel m) : model(std::move(m)) {}

  nn::StaticModel model;
  // Input normalisation on [0, 1] pixels, one value per channel (or one for all): x = (p - mean) / std.
  std::vector<float> mean, std;
  // Provenance and costs: run, stage, subnet JSON, MACs, BitOPs, bytes, ... (free-form, kept in the file).
  nlohmann::json info = nlohmann::json::object();

  int64_t classes() const;  // output width of the last layer
};

// Throws an input error naming the first layer and tensor (weight, bias, step sizes, offsets, batch norm)
// that holds a NaN or an infinity: such a model is never written (a collapsed stage exports nothing).
void check_finite(const DeployModel& m);

// The same model with every quantized weight turned back to float32 (the size a float export would have).
DeployModel float_weights(const DeployModel& m);

}  // namespace oqa::deploy
