// .oqa writer and validating reader. Layout: magic[8] | u32 version | u32 flags | u64 metadata JSON bytes |
// u64 stored metadata bytes (zlib) | u64 stored payload bytes | metadata | payload (zlib or as is, version 3)
// | u32 CRC-32 of everything before. Little-endian.
#include "oqa/deploy/oqa_format.h"

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <ATen/ATen.h>

#include "oqa/deploy/bit_pack.h"
#include "oqa/deploy/levels.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

using nlohmann::json;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;
constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 32;
constexpr size_t kCrcBytes = 4;
constexpr int64_t kMaxSize = int64_t{1} << 20;         // one dimension, stride, padding, groups, channels
constexpr int64_t kMaxElements = int64_t{1} << 40;     // one tensor
constexpr int64_t kMaxResolution = int64_t{1} << 14;   // input height and width
constexpr uint64_t kZlibMaxRatio = 1032;  // deflate never expands a stream by more than ~1032:1

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <typename T>
T get(const std::string& in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

uint32_t crc_of(const char* p, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string deflate(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  OQA_ASSERT(
      compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION) == Z_OK,
      "zlib could not compress " + std::to_string(raw.size()) + " bytes");
  packed.resize(size);
  return packed;
}

// Inflates `n` bytes at `p` to exactly `raw_bytes`; false when the stream is corrupt or of another size.
bool inflate_to(const char* p, uint64_t n, uint64_t raw_bytes, std::string& out) {
  out.assign(raw_bytes, '\0');
  uLongf size = static_cast<uLongf>(raw_bytes);
  return uncompress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(p),
                    static_cast<uLong>(n)) == Z_OK &&
         size == raw_bytes;
}

// ---- writing ---------------------------------------------------------------------------------------------

// The payload holds every packed weight first, then every float32 array starting at `float_base`: apart,
// each kind compresses better (the deflated 2-bit MobileNetV3 payload: 116 instead of 122 KB interleaved).
struct Payload {
  std::string packed, floats;
  size_t float_base = 0;
  json add_packed(const std::vector<uint8_t>& p) {
    json ref{{"offset", packed.size()}, {"bytes", p.size()}};
    packed.append(reinterpret_cast<const char*>(p.data()), p.size());
    return ref;
  }
  json add_floats(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kFloat).contiguous();
    const size_t n = static_cast<size_t>(c.numel()) * sizeof(float);
    json ref{{"offset", float_base + floats.size()}, {"bytes", n}};
    floats.append(reinterpret_cast<const char*>(c.data_ptr<float>()), n);
    return ref;
  }
};

std::vector<double> values_of(const torch::Tensor& t) {
  if (!t.defined()) return {};
  const torch::Tensor c = t.to(torch::kDouble).contiguous().reshape({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

json quant_json(const nn::StaticQuant& q) {
  json j{{"quant", q.spec}};
  if (!q.spec.is_float()) j["step"] = values_of(q.step_size);
  if (q.offset.defined()) j["offset"] = values_of(q.offset);
  return j;
}

json weight_json(const nn::StaticLayer& l, Payload& payload) {
  json j = quant_json(l.weight_quant);
  if (l.weight_quant.spec.is_float()) {
    j["data"] = payload.add_floats(l.weight);
    j["encoding"] = "float32";
    return j;
  }
  const torch::Tensor levels = integer_levels(l.weight, l.weight_quant).contiguous();
  const std::vector<uint8_t> packed =
      pack_levels(levels.data_ptr<int32_t>(), levels.numel(), l.weight_quant.spec.bits,
                  static_cast<int32_t>(l.weight_quant.spec.qn()));
  j["data"] = payload.add_packed(packed);
  j["encoding"] = "packed";
  return j;
}

json layer_json(const nn::StaticLayer& l, Payload& payload) {
  json j{{"op", nn::to_string(l.op)}, {"name", l.name}, {"inputs", l.inputs}};
  if (l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear || l.op == nn::StaticOp::kAdd)
    j["act"] = nn::to_string(l.act);
  if (l.op != nn::StaticOp::kConv && l.op != nn::StaticOp::kLinear) return j;
  j["shape"] = l.weight.sizes().vec();
  if (l.op == nn::StaticOp::kConv)
    j.update({{"stride", l.stride}, {"padding", l.padding}, {"groups", l.groups}});
  j["weight"] = weight_json(l, payload);
  j["input_quant"] = quant_json(l.input_quant);
  if (l.bias.defined()) j["bias"] = payload.add_floats(l.bias);
  if (l.batch_norm) {
    // Folded to the per-channel affine bn(y) = a * y + c that inference applies: 2 floats per channel.
    const nn::StaticBatchNorm& bn = *l.batch_norm;
    const torch::Tensor a =
        bn.weight.to(torch::kDouble) / (bn.running_var.to(torch::kDouble) + bn.eps).sqrt();
    const torch::Tensor c = bn.bias.to(torch::kDouble) - bn.running_mean.to(torch::kDouble) * a;
    j["batch_norm"] = {{"encoding", "folded"}, {"data", payload.add_floats(at::cat({a, c}))}};
  }
  return j;
}

// ---- reading ---------------------------------------------------------------------------------------------

class Reader {
 public:
  Reader(const std::string& path, const std::string& payload) : path_(path), payload_(payload) {}

  util::Error error(const std::string& field, const std::string& message,
                    const std::string& value = "") const {
    util::Error e = util::input_error(message);
    e.file(path_).field(field);
    if (!value.empty()) e.value(value);
    return e;
  }

  const json& at(const json& j, const std::string& key, const std::string& where) const {
    if (!j.is_object() || !j.contains(key)) throw error(where + "." + key, "missing");
    return j.at(key);
  }

  // A number of type T; an integer field must hold an integer that T can represent (a conversion of 1e300 or
  // of 2^64 - 1 to int64_t would be undefined or wrong).
  template <typename T>
  T number(const json& j, const std::string& key, const std::string& where) const {
    const json& v = at(j, key, where);
    if (!v.is_number()) throw error(where + "." + key, "not a number", v.dump());
    if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) throw error(where + "." + key, "not an integer", v.dump());
      bool fits = true;
      if (v.is_number_unsigned()) {
        fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
      } else if constexpr (std::is_unsigned_v<T>) {
        fits = v.get<int64_t>() >= 0;
      } else {
        const int64_t x = v.get<int64_t>();
        fits = x >= int64_t{std::numeric_limits<T>::min()} && x <= int64_t{std::numeric_limits<T>::max()};
      }
      if (!fits) throw error(where + "." + key, "out of range", v.dump());
    }
    return v.get<T>();
  }

  // A size read from the file, checked against an implausibility bound before any arithmetic on it.
  int64_t bounded(const json& j, const std::string& key, const std::string& where, int64_t lo, int64_t hi) const {
    const auto v = number<int64_t>(j, key, where);
    if (v < lo || v > hi)
      throw error(where + "." + key, util::range_message(lo, hi), std::to_string(v));
    return v;
  }

  // The element count of a shape whose sizes are each in [1, kMaxSize]; refused when above kMaxElements.
  int64_t elements(const std::vector<int64_t>& shape, const std::string& where) const {
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d > kMaxElements / n) throw error(where, "implausibly many elements (over 2^40)");
      n *= d;
    }
    return n;
  }

  std::vector<float> floats(const json& j, const std::string& where) const {
    if (!j.is_array()) throw error(where, "not an array", j.dump());
    std::vector<float> out;
    for (const json& v : j) {
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        throw error(where, "not a finite number", v.dump());
      out.push_back(v.get<float>());
    }
    return out;
  }

  // A payload slice {offset, bytes} whose size must be `expected` bytes.
  const char* slice(const json& ref, const std::string& where, int64_t expected) const {
    const auto offset = number<int64_t>(ref, "offset", where), bytes = number<int64_t>(ref, "bytes", where);
    if (bytes != expected)
      throw error(where + ".bytes", "expected " + std::to_string(expected) + " bytes", std::to_string(bytes));
    const auto size = static_cast<int64_t>(payload_.size());
    if (offset < 0 || bytes < 0 || bytes > size || offset > size - bytes)
      throw error(where + ".offset", "outside the payload of " + std::to_string(payload_.size()) + " bytes",
                  std::to_string(offset));
    return payload_.data() + offset;
  }

  torch::Tensor float_tensor(const json& ref, const std::string& where, std::vector<int64_t> shape) const {
    const int64_t n = elements(shape, where);
    const char* p = slice(ref, where, n * static_cast<int64_t>(sizeof(float)));
    torch::Tensor t = torch::empty(shape, torch::kFloat);
    std::memcpy(t.data_ptr<float>(), p, static_cast<size_t>(n) * sizeof(float));
    if (!torch::isfinite(t).all().item<bool>()) throw error(where, "holds a non-finite value");
    return t;
  }

  nn::StaticQuant quant(const json& j, const std::string& where, int64_t channels) const {
    nn::StaticQuant q;
    try {
      q.spec = at(j, "quant", where).get<quant::QuantSpec>();
    } catch (const util::Error& e) {
      throw error(where + ".quant" + (e.field_name().empty() ? "" : "." + e.field_name()), e.message(),
                  e.field_value());
    } catch (const json::exception& e) {
      throw error(where + ".quant", e.what());
    }
    if (q.spec.is_float()) return q;
    const int64_t n = q.spec.per_channel() ? channels : 1;
    const std::vector<float> step = floats(at(j, "step", where), where + ".step");
    if (static_cast<int64_t>(step.size()) != n)
      throw error(where + ".step", "expected " + std::to_string(n) + " values", std::to_string(step.size()));
    for (float s : step)
      if (!(s > 0)) throw error(where + ".step", "step sizes must be > 0", std::to_string(s));
    q.step_size = torch::tensor(step, torch::kFloat);
    if (!q.spec.symmetric) {
      const std::vector<float> off = floats(at(j, "offset", where), where + ".offset");
      if (static_cast<int64_t>(off.size()) != n)
        throw error(where + ".offset", "expected " + std::to_string(n) + " values",
                    std::to_string(off.size()));
      q.offset = torch::tensor(off, torch::kFloat);
    }
    return q;
  }

  // "folded" (version 2): scale a and shift c, kept as a batch norm with weight a, bias c, mean 0, variance 1
  // and eps 0, which computes a * y + c exactly. "stats" (version 1, the default): weight, bias, running
  // mean, running variance and eps.
  nn::StaticBatchNorm batch_norm(const json& j, const std::string& where, int64_t out) const {
    const std::string encoding = j.contains("encoding") && j.at("encoding").is_string()
                                     ? j.at("encoding").get<std::string>()
                                     : "stats";
    nn::StaticBatchNorm bn;
    if (encoding == "folded") {
      const torch::Tensor t = float_tensor(at(j, "data", where), where + ".data", {2, out});
      bn.weight = t[0].clone(), bn.bias = t[1].clone();
      bn.running_mean = torch::zeros({out}), bn.running_var = torch::ones({out}), bn.eps = 0.0;
      return bn;
    }
    if (encoding != "stats") throw error(where + ".encoding", "must be 'folded' or 'stats'", encoding);
    bn.eps = number<double>(j, "eps", where);
    if (!(bn.eps > 0)) throw error(where + ".eps", "must be > 0", std::to_string(bn.eps));
    const torch::Tensor t = float_tensor(at(j, "data", where), where + ".data", {4, out});
    bn.weight = t[0].clone(), bn.bias = t[1].clone(), bn.running_mean = t[2].clone(),
    bn.running_var = t[3].clone();
    if ((bn.running_var < 0).any().item<bool>()) throw error(where, "negative running variance");
    return bn;
  }

  torch::Tensor weight(const json& j, const std::string& where, const std::vector<int64_t>& shape,
                       const nn::StaticQuant& q) const {
    const int64_t n = elements(shape, where);
    const std::string encoding =
        at(j, "encoding", where).is_string() ? j.at("encoding").get<std::string>() : "";
    if (q.spec.is_float()) {
      if (encoding != "float32")
        throw error(where + ".encoding", "a float weight must be 'float32'", encoding);
      return float_tensor(at(j, "data", where), where + ".data", shape);
    }
    if (encoding != "packed")
      throw error(where + ".encoding", "a quantized weight must be 'packed'", encoding);
    const int bits = q.spec.bits;
    const char* p = slice(at(j, "data", where), where + ".data", packed_bytes(n, bits));
    torch::Tensor levels = torch::empty(shape, torch::kInt);
    unpack_levels(reinterpret_cast<const uint8_t*>(p), packed_bytes(n, bits), n, bits,
                  static_cast<int32_t>(q.spec.qn()), levels.data_ptr<int32_t>());
    if (levels.max().item<int64_t>() > q.spec.qp())
      throw error(where + ".data", "a level lies above " + std::to_string(q.spec.qp()));
    const int64_t dim = static_cast<int64_t>(shape.size());
    torch::Tensor w = levels.to(torch::kFloat) * broadcast_param(q.step_size, q, dim);
    if (q.offset.defined()) w = w + broadcast_param(q.offset, q, dim);
    return w;
  }

  nn::StaticLayer layer(const json& j, const std::string& where, const nn::StaticModel& model) const {
    nn::StaticLayer l;
    const std::string op = at(j, "op", where).is_string() ? j.at("op").get<std::string>() : "";
    const std::vector<nn::StaticOp> ops = {nn::StaticOp::kConv, nn::StaticOp::kLinear, nn::StaticOp::kAdd,
                                           nn::StaticOp::kMul, nn::StaticOp::kGlobalAvgPool};
    bool known = false;
    for (nn::StaticOp o : ops)
      if (nn::to_string(o) == op) l.op = o, known = true;
    if (!known) throw error(where + ".op", "unknown op (conv, linear, add, mul, global_avg_pool)", op);
    l.name = at(j, "name", where).is_string() ? j.at("name").get<std::string>() : "";
    const json& inputs = at(j, "inputs", where);
    const size_t arity = (l.op == nn::StaticOp::kAdd || l.op == nn::StaticOp::kMul) ? 2 : 1;
    const int index = static_cast<int>(model.layers().size());
    if (!inputs.is_array() || inputs.size() != arity)
      throw error(where + ".inputs", "expected " + std::to_string(arity) + " input(s)", inputs.dump());
    for (const json& i : inputs) {
      if (!i.is_number_integer() || (i.is_number_unsigned() && i.get<uint64_t>() >= uint64_t{1} << 62) ||
          i.get<int64_t>() < -1 || i.get<int64_t>() >= index)
        throw error(where + ".inputs", "must name earlier layers (or -1, the input)", inputs.dump());
      l.inputs.push_back(i.get<int>());
    }
    if (j.contains("act")) {
      const std::string act = j.at("act").is_string() ? j.at("act").get<std::string>() : j.at("act").dump();
      const auto a = nn::activation_from_name(act);
      if (!a) throw error(where + ".act", "unknown activation (none, relu, hswish, hsigmoid)", act);
      l.act = *a;
    }
    if (l.op == nn::StaticOp::kAdd || l.op == nn::StaticOp::kMul) {
      if (model.out_channels(l.inputs[0]) != model.out_channels(l.inputs[1]) && l.op == nn::StaticOp::kAdd)
        throw error(where + ".inputs", "added layers have different channel counts", inputs.dump());
      return l;
    }
    if (l.op == nn::StaticOp::kGlobalAvgPool) return l;
    read_weighted(j, where, model, l);
    return l;
  }

  void read_weighted(const json& j, const std::string& where, const nn::StaticModel& model,
                     nn::StaticLayer& l) const {
    const json& shape_j = at(j, "shape", where);
    const size_t dims = l.op == nn::StaticOp::kConv ? 4 : 2;
    std::vector<int64_t> shape;
    if (shape_j.is_array())
      for (const json& d : shape_j)
        if (d.is_number_unsigned() ? d.get<uint64_t>() <= uint64_t{kMaxSize}
                                   : d.is_number_integer() && d.get<int64_t>() <= kMaxSize)
          if (d.get<int64_t>() > 0) shape.push_back(d.get<int64_t>());
    if (shape.size() != dims || shape_j.size() != dims)
      throw error(where + ".shape", "expected " + std::to_string(dims) + " sizes in [1, 2^20]", shape_j.dump());
    elements(shape, where + ".shape");
    const int64_t out = shape[0];
    if (l.op == nn::StaticOp::kConv) {
      l.stride = bounded(j, "stride", where, 1, kMaxSize);
      l.padding = bounded(j, "padding", where, 0, kMaxSize);
      l.groups = bounded(j, "groups", where, 1, kMaxSize);
      if (out % l.groups != 0 || shape[2] != shape[3])
        throw error(where, "bad groups or kernel",
                    "groups " + std::to_string(l.groups) + " kernel " + std::to_string(shape[2]) + " x " +
                        std::to_string(shape[3]));
      const int64_t in = model.out_channels(l.inputs[0]);
      if (in % l.groups != 0 || shape[1] != in / l.groups)
        throw error(where + ".shape",
                    "input channels " + std::to_string(shape[1]) + " x " + std::to_string(l.groups) +
                        " groups do not match the " + std::to_string(in) + " the input has",
                    shape_j.dump());
    }
    l.weight_quant = quant(at(j, "weight", where), where + ".weight", out);
    if (l.weight_quant.spec.per_channel() && l.weight_quant.spec.axis != 0)
      throw error(where + ".weight.quant.axis", "per-channel weights must use axis 0",
                  std::to_string(l.weight_quant.spec.axis));
    if (!l.weight_quant.spec.is_float() && !l.weight_quant.spec.is_signed)
      throw error(where + ".weight.quant.signed", "weights must be signed", "false");
    l.weight = weight(j.at("weight"), where + ".weight", shape, l.weight_quant);
    l.input_quant = quant(at(j, "input_quant", where), where + ".input_quant", 1);
    if (l.input_quant.spec.per_channel())
      throw error(where + ".input_quant.quant.granularity", "inputs are quantized per tensor", "per_channel");
    if (j.contains("bias")) l.bias = float_tensor(j.at("bias"), where + ".bias", {out});
    if (j.contains("batch_norm")) {
      l.batch_norm = batch_norm(j.at("batch_norm"), where + ".batch_norm", out);
    }
  }

 private:
  const std::string& path_;
  const std::string& payload_;
};

}  // namespace

std::string encode_oqa(const DeployModel& m, PayloadCompression c) {
  check_finite(m);
  Payload payload;  // the float arrays start after every packed weight
  for (const nn::StaticLayer& l : m.model.layers())
    if ((l.op == nn::StaticOp::kConv || l.op == nn::StaticOp::kLinear) && !l.weight_quant.spec.is_float())
      payload.float_base += static_cast<size_t>(packed_bytes(l.weight.numel(), l.weight_quant.spec.bits));
  json layers = json::array();
  for (const nn::StaticLayer& l : m.model.layers()) layers.push_back(layer_json(l, payload));
  OQA_ASSERT(payload.packed.size() == payload.float_base, "packed weights do not fill their section");
  std::string raw = std::move(payload.packed);
  raw += payload.floats;
  const bool zlib = c == PayloadCompression::kZlib;
  const json meta{
      {"format", "oqa-packed"},
      {"version", kOqaVersion},
      {"payload", {{"compression", zlib ? "zlib" : "none"}, {"bytes", raw.size()}}},
      {"in_channels", m.model.in_channels()},
      {"resolution", m.model.resolution()},
      {"classes", m.classes()},
      {"input", {{"mean", m.mean}, {"std", m.std}, {"layout", "NCHW float32, (pixel / 255 - mean) / std"}}},
      {"info", m.info},
      {"layers", std::move(layers)}};
  const std::string text = meta.dump();
  const std::string packed = deflate(text);
  const std::string stored = zlib ? deflate(raw) : std::move(raw);
  std::string out(kOqaMagic, sizeof(kOqaMagic));
  put<uint32_t>(out, kOqaVersion);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, text.size());
  put<uint64_t>(out, packed.size());
  put<uint64_t>(out, stored.size());
  out += packed;
  out += stored;
  put<uint32_t>(out, crc_of(out.data(), out.size()));
  return out;
}

DeployModel decode_oqa(const std::string& bytes, const std::string& path) {
  auto fail = [&](const std::string& field, const std::string& message, const std::string& value = "") {
    util::Error e = util::input_error(message);
    e.file(path).field(field);
    if (!value.empty()) e.value(value);
    return e;
  };
  if (bytes.size() < sizeof(kOqaMagic) || std::memcmp(bytes.data(), kOqaMagic, sizeof(kOqaMagic)) != 0)
    throw fail("magic", "not an .oqa model file");
  if (bytes.size() < kHeaderBytes + kCrcBytes)
    throw fail("header", "truncated: " + std::to_string(bytes.size()) + " bytes");
  const auto version = get<uint32_t>(bytes, 8);
  if (version > kOqaVersion)
    throw fail("version",
               "written by a newer oqa; this one reads versions up to " + std::to_string(kOqaVersion),
               std::to_string(version));
  if (version == 0) throw fail("version", "invalid", "0");
  if (get<uint32_t>(bytes, 12) != 0)
    throw fail("flags", "unknown flags", std::to_string(get<uint32_t>(bytes, 12)));
  const auto raw_bytes = get<uint64_t>(bytes, 16), meta_bytes = get<uint64_t>(bytes, 24),
             payload_bytes = get<uint64_t>(bytes, 32);
  const uint64_t expected = kHeaderBytes + meta_bytes + payload_bytes + kCrcBytes;
  if (meta_bytes > bytes.size() || payload_bytes > bytes.size() || expected > bytes.size())
    throw fail("size", "truncated: the header announces " + std::to_string(expected) +
                           " bytes, the file has " + std::to_string(bytes.size()));
  if (expected < bytes.size())
    throw fail("size", std::to_string(bytes.size() - expected) + " unexpected trailing bytes");
  const uint32_t crc = get<uint32_t>(bytes, bytes.size() - kCrcBytes);
  if (crc != crc_of(bytes.data(), bytes.size() - kCrcBytes))
    throw fail("checksum", "CRC-32 mismatch: the file is corrupt");

  if (raw_bytes > kMaxMetadataBytes) throw fail("metadata", "implausible size", std::to_string(raw_bytes));
  std::string text;
  if (!inflate_to(bytes.data() + kHeaderBytes, meta_bytes, raw_bytes, text))
    throw fail("metadata", "cannot be decompressed");
  json meta;
  try {
    meta = json::parse(text);
  } catch (const json::exception& e) {
    throw fail("metadata", std::string("not valid JSON: ") + e.what());
  }
  std::string payload = bytes.substr(kHeaderBytes + meta_bytes, payload_bytes);
  const Reader r(path, payload);
  if (version >= 3) {  // the payload's compression and size after decompression
    const json& p = r.at(meta, "payload", "metadata");
    const json& how = r.at(p, "compression", "metadata.payload");
    const auto raw = r.number<uint64_t>(p, "bytes", "metadata.payload");
    if (how == "zlib") {
      if (raw > payload_bytes * kZlibMaxRatio + 64)
        throw fail("metadata.payload.bytes",
                   "implausible for " + std::to_string(payload_bytes) + " stored bytes", std::to_string(raw));
      std::string inflated;
      if (!inflate_to(payload.data(), payload.size(), raw, inflated))
        throw fail("payload", "cannot be decompressed to the " + std::to_string(raw) +
                                  " bytes metadata.payload.bytes announces");
      payload = std::move(inflated);
    } else if (how != "none") {
      throw fail("metadata.payload.compression", "must be 'zlib' or 'none'", how.dump());
    } else if (raw != payload_bytes) {
      throw fail("metadata.payload.bytes", "the header stores " + std::to_string(payload_bytes) + " bytes",
                 std::to_string(raw));
    }
  }
  const int64_t in_channels = r.bounded(meta, "in_channels", "metadata", 1, kMaxSize);
  const int64_t resolution = r.bounded(meta, "resolution", "metadata", 1, kMaxResolution);
  DeployModel m{nn::StaticModel(in_channels, resolution)};
  const json& input = r.at(meta, "input", "metadata");
  m.mean = r.floats(r.at(input, "mean", "metadata.input"), "metadata.input.mean");
  m.std = r.floats(r.at(input, "std", "metadata.input"), "metadata.input.std");
  for (const auto* v : {&m.mean, &m.std})
    if (!(v->empty() || v->size() == 1 || static_cast<int64_t>(v->size()) == in_channels) ||
        m.mean.size() != m.std.size())
      throw fail(v == &m.mean ? "metadata.input.mean" : "metadata.input.std",
                 "needs one value, one per input channel or none, as many means as stds",
                 std::to_string(v->size()));
  for (float s : m.std)
    if (!(s > 0)) throw fail("metadata.input.std", "must be > 0", std::to_string(s));
  if (meta.contains("info")) m.info = meta.at("info");
  const json& layers = r.at(meta, "layers", "metadata");
  if (!layers.is_array() || layers.empty()) throw fail("metadata.layers", "must be a non-empty array");
  for (size_t i = 0; i < layers.size(); ++i)
    m.model.add(r.layer(layers[i], "metadata.layers[" + std::to_string(i) + "]", m.model));
  const auto classes = r.number<int64_t>(meta, "classes", "metadata");
  if (classes != m.classes())
    throw fail("metadata.classes", "the last layer has " + std::to_string(m.classes()) + " outputs",
               std::to_string(classes));
  return m;
}

void write_oqa(const DeployModel& m, const std::string& path, PayloadCompression c) {
  util::atomic_write(path, encode_oqa(m, c));
}

DeployModel read_oqa(const std::string& path) {
  return decode_oqa(util::read_file(path), path);
}

}  // namespace oqa::deploy
