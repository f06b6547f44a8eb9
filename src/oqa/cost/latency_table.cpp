// LatencyTable: layer keys, prediction by summation, JSON encoding and atomic storage.
#include "oqa/cost/latency_table.h"

#include <set>

#include <nlohmann/json.hpp>

#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::cost {
namespace {

constexpr const char* kFormat = "oqa-latency-table";
constexpr int kVersion = 1;

std::string form(const nn::StaticQuant& q) {
  return q.spec.is_float() ? "float" : q.spec.form_key();
}

std::string size_text(const MapSize& m) {
  return std::to_string(m.channels) + "x" + std::to_string(m.height) + "x" + std::to_string(m.width);
}

}  // namespace

std::string LatencyTable::layer_key(const nn::StaticLayer& l, const std::vector<MapSize>& inputs) {
  std::string key = nn::to_string(l.op);
  if (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) {
    key += " w=";
    for (int64_t d = 0; d < l.weight.dim(); ++d) key += (d ? "x" : "") + std::to_string(l.weight.size(d));
    if (l.op == nn::StaticOp::kConv)
      key += " s=" + std::to_string(l.stride) + " p=" + std::to_string(l.padding) +
             " g=" + std::to_string(l.groups);
    if (l.bias.defined()) key += " bias";
    if (l.batch_norm) key += " bn";
    key += " wq=" + form(l.weight_quant) + " aq=" + form(l.input_quant);
  }
  if (l.op != nn::StaticOp::kMul && l.op != nn::StaticOp::kGlobalAvgPool)
    key += " act=" + nn::to_string(l.act);
  key += " in=";
  for (size_t i = 0; i < inputs.size(); ++i) key += (i ? "," : "") + size_text(inputs[i]);
  return key;
}

std::vector<std::string> LatencyTable::layer_keys(const nn::StaticModel& model) {
  const std::vector<MapSize> maps = static_output_sizes(model);
  const MapSize input{model.in_channels(), model.resolution(), model.resolution()};
  std::vector<std::string> keys;
  for (const nn::StaticLayer& l : model.layers()) {
    std::vector<MapSize> in;
    for (int i : l.inputs) in.push_back(i < 0 ? input : maps[static_cast<size_t>(i)]);
    keys.push_back(layer_key(l, in));
  }
  return keys;
}

double LatencyTable::at(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end())
    throw util::input_error(
        "the latency table has no entry for this layer (measure it with `oqa bench latency` "
        "on the same space config)")
        .field("entries")
        .value(key);
  return it->second;
}

double LatencyTable::predict(const nn::StaticModel& model) const {
  const std::vector<std::string> keys = layer_keys(model);
  double total = 0.0;
  for (size_t i = 0; i < keys.size(); ++i) {
    try {
      total += at(keys[i]);
    } catch (util::Error& e) {
      e.field("entries (layer " + model.layers()[i].name + ")");
      throw;
    }
  }
  return total;
}

nlohmann::json LatencyTable::to_json() const {
  return {{"format", kFormat},
          {"version", kVersion},
          {"batch", batch},
          {"threads", threads},
          {"unit", "ms"},
          {"entries", entries_},
          {"info", info.is_null() ? nlohmann::json::object() : info}};
}

LatencyTable LatencyTable::from_json(const nlohmann::json& j, const std::string& file) {
  auto bad = [&](const std::string& field, const std::string& message) {
    util::Error e = util::input_error(message).file(file).field(field);
    if (j.is_object() && j.contains(field)) e.value(j.at(field).dump());
    return e;
  };
  if (!j.is_object() || j.value("format", std::string()) != kFormat)
    throw bad("format", std::string("not a latency table (expected \"") + kFormat + "\")");
  if (j.value("version", 0) != kVersion)
    throw bad("version",
              "unsupported latency table version (this oqa reads " + std::to_string(kVersion) + ")");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!std::set<std::string>{"format", "version", "batch", "threads", "unit", "entries", "info"}.count(
            it.key()))
      throw bad(it.key(), "unknown key");
  LatencyTable t;
  const auto& batch = j.value("batch", nlohmann::json(1));
  const auto& threads = j.value("threads", nlohmann::json(1));
  if (!batch.is_number_integer() || batch.get<int64_t>() < 1) throw bad("batch", "expected an integer >= 1");
  if (!threads.is_number_integer() || threads.get<int64_t>() < 1)
    throw bad("threads", "expected an integer >= 1");
  if (j.value("unit", std::string("ms")) != "ms") throw bad("unit", "only \"ms\" is supported");
  t.batch = batch.get<int64_t>();
  t.threads = threads.get<int>();
  t.info = j.value("info", nlohmann::json::object());
  if (!j.contains("entries") || !j.at("entries").is_object())
    throw bad("entries", "expected an object: layer key -> ms");
  for (auto it = j.at("entries").begin(); it != j.at("entries").end(); ++it) {
    if (!it.value().is_number() || !(it.value().get<double>() >= 0.0))
      throw util::input_error("latencies must be numbers >= 0 (ms)")
          .file(file)
          .field("entries." + it.key())
          .value(it.value().dump());
    t.set(it.key(), it.value().get<double>());
  }
  return t;
}

void LatencyTable::save(const std::string& path) const {
  util::atomic_write(path, to_json().dump(1) + "\n");
}

LatencyTable LatencyTable::load(const std::string& path) {
  return from_json(util::read_json(path), path);
}

}  // namespace oqa::cost
