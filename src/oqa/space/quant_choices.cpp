// QuantChoices and Precision: config reading, shortcuts and spec resolution.
#include "oqa/space/quant_choices.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace oqa::space {
namespace {

template <class T>
void check_list(const util::ConfigNode& node, const std::string& key, const std::vector<T>& v) {
  if (v.empty()) throw node.error(key, "needs at least one choice");
  if (std::set<T>(v.begin(), v.end()).size() != v.size()) throw node.error(key, "lists a choice twice");
}

std::vector<int> read_bits(util::ConfigNode& node, const std::string& key) {
  auto bits = node.get<std::vector<int>>(key, {4});
  check_list(node, key, bits);
  for (int b : bits)
    if (b < 2 || b > 8) throw node.error(key, "bit-widths must lie in 2..8 (float is allow_float)");
  return bits;
}

std::vector<bool> read_flags(util::ConfigNode& node, const std::string& key) {
  auto flags = node.get<std::vector<bool>>(key, {true});
  check_list(node, key, flags);
  return flags;
}

}  // namespace

LayerQuant QuantChoices::uniform(int w, int a) const {
  LayerQuant q;
  q.weight_bits = w;
  q.act_bits = a;
  q.weight_granularity = weight_granularity.front();
  q.weight_symmetric = weight_symmetric.front();
  q.act_symmetric = act_symmetric.front();
  return q;
}

double QuantChoices::combinations() const {
  return static_cast<double>(weight_bits.size() * act_bits.size() * weight_granularity.size() *
                             weight_symmetric.size() * act_symmetric.size());
}

nlohmann::json QuantChoices::to_json() const {
  nlohmann::json gran = nlohmann::json::array();
  for (auto g : weight_granularity) gran.push_back(quant::to_string(g));
  return {{"weight_bits", weight_bits},     {"act_bits", act_bits},
          {"weight_granularity", gran},     {"weight_symmetric", weight_symmetric},
          {"act_symmetric", act_symmetric}, {"allow_float", allow_float},
          {"small_negative", to_string(small_negative)}};
}

QuantChoices read_quant_choices(util::ConfigNode node) {
  QuantChoices c;
  c.weight_bits = read_bits(node, "weight_bits");
  c.act_bits = read_bits(node, "act_bits");
  auto gran = node.get<std::vector<std::string>>("weight_granularity", {"per_tensor"});
  check_list(node, "weight_granularity", gran);
  c.weight_granularity.clear();
  for (const auto& g : gran) {
    if (g == "per_tensor")
      c.weight_granularity.push_back(quant::Granularity::kPerTensor);
    else if (g == "per_channel")
      c.weight_granularity.push_back(quant::Granularity::kPerChannel);
    else
      throw node.error("weight_granularity", "choices must be \"per_tensor\" or \"per_channel\"");
  }
  c.weight_symmetric = read_flags(node, "weight_symmetric");
  c.act_symmetric = read_flags(node, "act_symmetric");
  c.allow_float = node.get<bool>("allow_float", true);
  const std::string small = node.get_choice("small_negative", to_string(c.small_negative),
                                            {"unsigned", "asymmetric", "signed"});
  for (auto g : {SmallNegativeGrid::kUnsigned, SmallNegativeGrid::kAsymmetric, SmallNegativeGrid::kSigned})
    if (to_string(g) == small) c.small_negative = g;
  return c;
}

bool parse_wa(const std::string& text, int& weight_bits, int& act_bits) {
  if (text.size() != 4 || text[0] != 'w' || text[2] != 'a') return false;
  const int w = text[1] - '0', a = text[3] - '0';
  if (w < 2 || w > 8 || a < 2 || a > 8) return false;
  weight_bits = w;
  act_bits = a;
  return true;
}

Precision Precision::parse(const std::string& text, const util::ConfigNode& node, const std::string& key) {
  Precision p;
  if (text == "float")
    p.kind = Kind::kFloat;
  else if (text == "searched")
    p.kind = Kind::kSearched;
  else if (parse_wa(text, p.weight_bits, p.act_bits))
    p.kind = Kind::kFixed;
  else
    throw node.error(
        key, "precision must be \"float\", \"searched\" or \"w<b>a<b>\" with b in 2..8 (e.g. \"w8a8\")");
  return p;
}

std::string Precision::to_string() const {
  if (kind == Kind::kFloat) return "float";
  if (kind == Kind::kSearched) return "searched";
  return "w" + std::to_string(weight_bits) + "a" + std::to_string(act_bits);
}

Precision read_precision(util::ConfigNode& node, const std::string& key, const std::string& fallback) {
  return Precision::parse(node.get<std::string>(key, fallback), node, key);
}

std::string to_string(SmallNegativeGrid g) {
  switch (g) {
    case SmallNegativeGrid::kUnsigned: return "unsigned";
    case SmallNegativeGrid::kAsymmetric: return "asymmetric";
    case SmallNegativeGrid::kSigned: return "signed";
  }
  return "unsigned";
}

nn::LayerQuantSpecs resolve_specs(const LayerQuant& q, InputRange range, SmallNegativeGrid small) {
  nn::LayerQuantSpecs s;
  if (q.weight_bits != 0) {
    s.weight.bits = q.weight_bits;
    s.weight.is_signed = true;
    s.weight.granularity = q.weight_granularity;
    s.weight.axis = 0;
    s.weight.symmetric = q.weight_symmetric;
  }
  if (q.act_bits != 0) {
    s.input.bits = q.act_bits;
    bool symmetric = q.act_symmetric, is_signed = range == InputRange::kSigned;
    if (range == InputRange::kSmallNegative) {
      if (small == SmallNegativeGrid::kAsymmetric) symmetric = false;
      is_signed = small == SmallNegativeGrid::kSigned;
    }
    s.input.is_signed = symmetric && is_signed;
    s.input.granularity = quant::Granularity::kPerTensor;
    s.input.symmetric = symmetric;
  }
  return s;
}

}  // namespace oqa::space
