// QuantSpec: levels, validation, stable keys and JSON conversion.
#include "oqa/quant/quant_spec.h"

#include <nlohmann/json.hpp>

#include "oqa/util/error.h"

namespace oqa::quant {

namespace {

const char* granularity_code(const QuantSpec& s) { return s.per_channel() ? "pc" : "pt"; }

util::Error key_error(const std::string& key, const std::string& why) {
  return util::input_error("not a quantizer key (expected e.g. b4_s_pc_sym): " + why).field("key").value(key);
}

}  // namespace

int64_t QuantSpec::qn() const {
  if (is_float()) return 0;
  return is_signed ? -(int64_t{1} << (bits - 1)) : 0;
}

int64_t QuantSpec::qp() const {
  if (is_float()) return 0;
  return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
}

void QuantSpec::validate() const {
  if (bits != 0 && (bits < 2 || bits > 8))
    throw util::input_error("bit-width must be 2..8 (or 0 for float)").field("bits").value(std::to_string(bits));
  if (granularity != Granularity::kPerTensor && granularity != Granularity::kPerChannel)
    throw util::input_error("granularity must be per_tensor or per_channel")
        .field("granularity")
        .value(std::to_string(static_cast<int>(granularity)));
  if (axis < 0)
    throw util::input_error("channel axis must be >= 0 (count from the first dimension)")
        .field("axis")
        .value(std::to_string(axis));
}

std::string QuantSpec::form_key() const {
  if (is_float()) return "float";
  std::string k = is_signed ? "s_" : "u_";
  k += granularity_code(*this);
  if (per_channel() && axis != 0) k += std::to_string(axis);
  k += symmetric ? "_sym" : "_asym";
  return k;
}

std::string QuantSpec::key() const {
  if (is_float()) return "float";
  return "b" + std::to_string(bits) + "_" + form_key();
}

QuantSpec QuantSpec::from_key(const std::string& key) {
  if (key == "float") return float_spec();
  // b<bits>_<s|u>_<pt|pc[axis]>_<sym|asym>
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = key.find('_', start);
    parts.push_back(key.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  if (parts.size() != 4) throw key_error(key, "needs 4 parts separated by '_'");
  QuantSpec s;
  const std::string& b = parts[0];
  if (b.size() != 2 || b[0] != 'b' || b[1] < '0' || b[1] > '9') throw key_error(key, "bad bit-width part");
  s.bits = b[1] - '0';
  if (parts[1] == "s") s.is_signed = true;
  else if (parts[1] == "u") s.is_signed = false;
  else throw key_error(key, "sign part must be s or u");
  const std::string& g = parts[2];
  if (g == "pt") {
    s.granularity = Granularity::kPerTensor;
  } else if (g.rfind("pc", 0) == 0) {
    s.granularity = Granularity::kPerChannel;
    std::string a = g.substr(2);
    if (!a.empty()) {
      if (a.size() > 3 || a.find_first_not_of("0123456789") != std::string::npos)
        throw key_error(key, "bad channel axis");
      s.axis = std::stoll(a);
    }
  } else {
    throw key_error(key, "granularity part must be pt or pc<axis>");
  }
  if (parts[3] == "sym") s.symmetric = true;
  else if (parts[3] == "asym") s.symmetric = false;
  else throw key_error(key, "symmetry part must be sym or asym");
  s.validate();
  if (s.is_float() || s.key() != key) throw key_error(key, "not in canonical form");
  return s;
}

QuantSpec QuantSpec::with_bits(int b) const {
  QuantSpec s = *this;
  s.bits = b;
  return s;
}

bool QuantSpec::operator==(const QuantSpec& o) const {
  if (is_float() || o.is_float()) return is_float() == o.is_float();
  return bits == o.bits && is_signed == o.is_signed && granularity == o.granularity &&
         (!per_channel() || axis == o.axis) && symmetric == o.symmetric;
}

std::string to_string(Granularity g) { return g == Granularity::kPerChannel ? "per_channel" : "per_tensor"; }

void to_json(nlohmann::json& j, const QuantSpec& spec) {
  j = nlohmann::json{{"bits", spec.bits},
                     {"signed", spec.is_signed},
                     {"granularity", to_string(spec.granularity)},
                     {"axis", spec.axis},
                     {"symmetric", spec.symmetric}};
}

void from_json(const nlohmann::json& j, QuantSpec& spec) {
  if (!j.is_object()) throw util::input_error("a quantization spec must be a JSON object").field("quant_spec").value(j.dump());
  QuantSpec s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    auto bad = [&](const std::string& what) { return util::input_error(what).field(k).value(v.dump()); };
    if (k == "bits") {
      if (!v.is_number_integer()) throw bad("must be an integer");
      s.bits = v.get<int>();
    } else if (k == "signed") {
      if (!v.is_boolean()) throw bad("must be true or false");
      s.is_signed = v.get<bool>();
    } else if (k == "granularity") {
      if (v == "per_tensor") s.granularity = Granularity::kPerTensor;
      else if (v == "per_channel") s.granularity = Granularity::kPerChannel;
      else throw bad("must be \"per_tensor\" or \"per_channel\"");
    } else if (k == "axis") {
      if (!v.is_number_integer()) throw bad("must be an integer");
      s.axis = v.get<int64_t>();
    } else if (k == "symmetric") {
      if (!v.is_boolean()) throw bad("must be true or false");
      s.symmetric = v.get<bool>();
    } else {
      throw util::input_error("unknown quantization spec field (known: bits, signed, granularity, axis, symmetric)")
          .field(k);
    }
  }
  s.validate();
  spec = s;
}

}  // namespace oqa::quant
