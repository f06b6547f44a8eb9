// LatencyTable: measured forward time of every layer choice on one machine, keyed by the layer's geometry and
// quantization form; a subnet's predicted latency is the sum of its layers' entries. Stored as JSON.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/cost/cost.h"
#include "oqa/nn/static_model.h"

namespace oqa::cost {

class LatencyTable {
 public:
  // Key of one static layer reading maps of the given sizes: op, weight shape, stride, padding, groups, batch
  // norm, activation, quantization forms without the bit-width ("s_pt_sym" or "float"; fake quantization
  // costs the same at every bit-width) and input sizes. E.g. "conv w=24x1x5x5 s=2 p=2 g=24 bn act=hswish
  // wq=s_pt_sym aq=u_pt_sym in=24x16x16".
  static std::string layer_key(const nn::StaticLayer& layer, const std::vector<MapSize>& inputs);
  // Keys of every layer of a model, in layer order.
  static std::vector<std::string> layer_keys(const nn::StaticModel& model);

  void set(const std::string& key, double ms) { entries_[key] = ms; }
  bool has(const std::string& key) const { return entries_.count(key) > 0; }
  double at(const std::string& key) const;  // throws oqa::util::Error naming the key when missing
  const std::map<std::string, double>& entries() const { return entries_; }

  // Sum of the entries of the model's layers (ms). Throws naming the first layer without an entry.
  double predict(const nn::StaticModel& model) const;

  // {"format": "oqa-latency-table", "version": 1, "batch", "threads", "unit": "ms", "entries": {key: ms},
  //  "info": {...}}; "info" holds anything the producer adds (e.g. the validation of predictions).
  nlohmann::json to_json() const;
  static LatencyTable from_json(const nlohmann::json& j, const std::string& file = "");
  void save(const std::string& path) const;  // atomic
  static LatencyTable load(const std::string& path);

  int64_t batch = 1;
  int threads = 1;
  nlohmann::json info;  // object; free-form

 private:
  std::map<std::string, double> entries_;
};

}  // namespace oqa::cost
