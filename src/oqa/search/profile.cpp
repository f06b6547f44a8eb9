// HardwareProfile: reading (config section or --profile), JSON form, admission and gene domains.
#include "oqa/search/profile.h"

#include <algorithm>
#include <filesystem>

#include "oqa/util/error.h"
#include "oqa/util/json_reader.h"

namespace oqa::search {
namespace {

const char* const kKeys[] = {"weight_bits", "act_bits", "weight_granularity", "weight_symmetric",
                             "act_symmetric"};

std::vector<int64_t>& list_of(HardwareProfile& p, size_t k) {
  std::vector<int64_t>* lists[] = {&p.weight_bits, &p.act_bits, &p.weight_granularity, &p.weight_symmetric,
                                   &p.act_symmetric};
  return *lists[k];
}
const std::vector<int64_t>& list_of(const HardwareProfile& p, size_t k) {
  return list_of(const_cast<HardwareProfile&>(p), k);
}

// One JSON value of key k as a gene value; throws naming the key.
int64_t gene_value(const util::ConfigNode& node, size_t k, const nlohmann::json& v) {
  if (k < 2) {
    if (!v.is_number_integer() || v.get<int64_t>() < 2 || v.get<int64_t>() > 8)
      throw node.error(kKeys[k], "bit-widths must be integers in 2..8").value(v.dump());
    return v.get<int64_t>();
  }
  if (k == 2) {
    if (v == "per_tensor") return 0;
    if (v == "per_channel") return 1;
    throw node.error(kKeys[k], "must be \"per_tensor\" or \"per_channel\"").value(v.dump());
  }
  if (!v.is_boolean()) throw node.error(kKeys[k], "must be true or false").value(v.dump());
  return v.get<bool>() ? 1 : 0;
}

// The profile key of a quant gene ("quant.act_bits[3]" -> 1); -1 for other genes.
int key_of(const space::Gene& g) {
  for (size_t k = 0; k < std::size(kKeys); ++k)
    if (g.field.rfind(std::string("quant.") + kKeys[k], 0) == 0) return static_cast<int>(k);
  return -1;
}

}  // namespace

bool HardwareProfile::empty() const {
  for (size_t k = 0; k < std::size(kKeys); ++k)
    if (!list_of(*this, k).empty()) return false;
  return true;
}

nlohmann::json HardwareProfile::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t k = 0; k < std::size(kKeys); ++k) {
    const auto& l = list_of(*this, k);
    if (l.empty()) continue;
    nlohmann::json a = nlohmann::json::array();
    for (int64_t v : l) {
      if (k < 2)
        a.push_back(v);
      else if (k == 2)
        a.push_back(quant::to_string(v ? quant::Granularity::kPerChannel : quant::Granularity::kPerTensor));
      else
        a.push_back(v != 0);
    }
    j[kKeys[k]] = a;
  }
  return j;
}

bool HardwareProfile::admits(const space::Subnet& subnet) const {
  auto ok = [](const std::vector<int64_t>& allowed, int64_t v) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), v) != allowed.end();
  };
  for (const space::LayerQuant& q : subnet.quant)
    if (!ok(weight_bits, q.weight_bits) || !ok(act_bits, q.act_bits) ||
        !ok(weight_granularity, q.weight_granularity == quant::Granularity::kPerChannel ? 1 : 0) ||
        !ok(weight_symmetric, q.weight_symmetric) || !ok(act_symmetric, q.act_symmetric))
      return false;
  return true;
}

HardwareProfile read_profile(util::ConfigNode node) {
  HardwareProfile p;
  for (size_t k = 0; k < std::size(kKeys); ++k) {
    nlohmann::json v = node.get<nlohmann::json>(kKeys[k], nlohmann::json::array());  // [] = any
    if (!v.is_array()) v = nlohmann::json::array({v});
    auto& l = list_of(p, k);
    for (const auto& x : v) {
      const int64_t g = gene_value(node, k, x);
      if (std::find(l.begin(), l.end(), g) == l.end()) l.push_back(g);
    }
  }
  return p;
}

HardwareProfile parse_profile_arg(const std::string& text) {
  const bool inline_json = text.find('{') != std::string::npos;
  if (!inline_json && !std::filesystem::exists(text))
    throw util::usage_error("--profile: expected a JSON object or a JSON file, and no file is there")
        .value(text);
  nlohmann::json j;
  if (inline_json) {
    j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) throw util::usage_error("--profile: not valid JSON").value(text);
  } else {
    j = util::read_json(text);
  }
  if (!j.is_object()) throw util::usage_error("--profile: expected a JSON object").value(text);
  util::Config c = util::Config::from_json(j, inline_json ? "--profile" : text);
  HardwareProfile p = read_profile(c.root());
  c.check_unknown();
  return p;
}

std::vector<GeneDomain> profile_domains(const space::Space& space, const HardwareProfile& profile) {
  std::vector<GeneDomain> out;
  const auto& genes = space.genes();
  for (size_t i = space.quant_genes_begin(); i < genes.size(); ++i) {
    const int k = key_of(genes[i]);
    OQA_ASSERT(k >= 0, "quant gene without a profile key: " + genes[i].field);
    const auto& allowed = list_of(profile, static_cast<size_t>(k));
    if (allowed.empty()) continue;
    GeneDomain d{i, {}};
    for (int64_t c : genes[i].choices)
      if (std::find(allowed.begin(), allowed.end(), c) != allowed.end()) d.values.push_back(c);
    if (d.values.empty()) {
      std::string have;
      for (int64_t c : genes[i].choices) have += (have.empty() ? "" : ", ") + space::gene_value_text(genes[i], c);
      throw util::usage_error("the profile leaves no choice for the " + genes[i].label +
                              ", which the space allows " + have + " only; no subnet can satisfy it")
          .field(std::string("profile.") + kKeys[k])
          .value(profile.to_json()[kKeys[k]].dump());
    }
    if (d.values.size() < genes[i].choices.size()) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace oqa::search
