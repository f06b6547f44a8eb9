// Subnet: equality and canonical JSON encoding.
#include "oqa/space/subnet.h"

#include <nlohmann/json.hpp>

namespace oqa::space {
namespace {

// One quant attribute: a scalar when every layer agrees, else the per-layer list.
template <class F>
nlohmann::json attribute(const std::vector<LayerQuant>& layers, F get) {
  nlohmann::json list = nlohmann::json::array();
  for (const LayerQuant& q : layers) list.push_back(get(q));
  for (const auto& v : list)
    if (v != list.front()) return list;
  return list.empty() ? list : list.front();
}

}  // namespace

bool LayerQuant::operator==(const LayerQuant& o) const {
  return weight_bits == o.weight_bits && act_bits == o.act_bits &&
         weight_granularity == o.weight_granularity && weight_symmetric == o.weight_symmetric &&
         act_symmetric == o.act_symmetric;
}

bool StageChoice::operator==(const StageChoice& o) const {
  return depth == o.depth && kernel == o.kernel && expand == o.expand;
}

bool Subnet::operator==(const Subnet& o) const {
  return kind == o.kind && resolution == o.resolution && stages == o.stages && widths == o.widths &&
         quant == o.quant;
}

nlohmann::json to_json(const Subnet& s) {
  nlohmann::json j{{"kind", s.kind}, {"resolution", s.resolution}};
  if (!s.stages.empty()) {
    nlohmann::json stages = nlohmann::json::array();
    for (const StageChoice& st : s.stages)
      stages.push_back({{"depth", st.depth}, {"kernel", st.kernel}, {"expand", st.expand}});
    j["stages"] = stages;
  }
  if (!s.widths.empty()) j["widths"] = s.widths;
  j["quant"] = {
      {"weight_bits", attribute(s.quant, [](const LayerQuant& q) { return q.weight_bits; })},
      {"act_bits", attribute(s.quant, [](const LayerQuant& q) { return q.act_bits; })},
      {"weight_granularity",
       attribute(s.quant, [](const LayerQuant& q) { return quant::to_string(q.weight_granularity); })},
      {"weight_symmetric", attribute(s.quant, [](const LayerQuant& q) { return q.weight_symmetric; })},
      {"act_symmetric", attribute(s.quant, [](const LayerQuant& q) { return q.act_symmetric; })},
  };
  return j;
}

std::string to_string(const Subnet& s) {
  return to_json(s).dump();
}

}  // namespace oqa::space
