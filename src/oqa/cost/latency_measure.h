// Latency measurement on this machine: timing of single layers and whole extracted models, the subnets whose
// layers cover every layer choice of a space, and the table built from them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "oqa/cost/latency_table.h"
#include "oqa/nn/static_model.h"
#include "oqa/space/supernet.h"

namespace oqa::cost {

struct LatencyOptions {
  int64_t batch = 1;
  int warmup = 3;
  int repeats = 15;  // the median of this many timed runs
};

// Median wall time of fn in milliseconds (after warm-up runs).
double median_ms(const std::function<void()>& fn, const LatencyOptions& options);

// Forward time of a whole model on a random batch at its resolution (no grad).
double measure_model_ms(const nn::StaticModel& model, const LatencyOptions& options);

// Subnets that together contain every layer key any sampled subnet of the space can have (every resolution,
// every per-block or per-group choice and every quantization form; bit-widths do not change keys). mbv3: each
// (kernel, expand) everywhere at full depth; resnet: every (input, inner, output) width-index triple.
std::vector<space::Subnet> covering_subnets(const space::Space& space);

// Extracts each subnet (priming uninitialised quantizers with one eval forward of random data), runs its
// model warmup + repeats times layer by layer, timing each layer, and stores the median time of every layer
// key not yet in the table. progress(done, total) after each subnet.
LatencyTable measure_latency_table(space::Supernet& supernet, const std::vector<space::Subnet>& subnets,
                                   const LatencyOptions& options,
                                   const std::function<void(size_t, size_t)>& progress = {});

// The extracted model of subnet, primed as measure_latency_table does (eval mode, quantizers initialised).
nn::StaticModel extract_for_timing(space::Supernet& supernet, const space::Subnet& subnet);

}  // namespace oqa::cost
