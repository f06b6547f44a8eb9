// Space: genes, validation, JSON decoding, sampling, mutation, crossover, hashing and encodings.
#include "oqa/space/space.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "oqa/util/hash.h"

namespace oqa::space {
namespace {

constexpr size_t kQuantGenes =
    5;  // weight_bits, act_bits, weight_granularity, weight_symmetric, act_symmetric
const char* const kQuantKeys[kQuantGenes] = {"weight_bits", "act_bits", "weight_granularity",
                                             "weight_symmetric", "act_symmetric"};

int64_t code(quant::Granularity g) {
  return g == quant::Granularity::kPerChannel ? 1 : 0;
}
quant::Granularity granularity_of(int64_t c) {
  return c == 1 ? quant::Granularity::kPerChannel : quant::Granularity::kPerTensor;
}

void write_quant(const LayerQuant& q, std::vector<int64_t>& v) {
  v.insert(v.end(), {q.weight_bits, q.act_bits, code(q.weight_granularity), q.weight_symmetric ? 1 : 0,
                     q.act_symmetric ? 1 : 0});
}

LayerQuant read_quant(const int64_t* v) {
  LayerQuant q;
  q.weight_bits = static_cast<int>(v[0]);
  q.act_bits = static_cast<int>(v[1]);
  q.weight_granularity = granularity_of(v[2]);
  q.weight_symmetric = v[3] != 0;
  q.act_symmetric = v[4] != 0;
  return q;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string allowed_text(const Gene& g) {
  std::string s;
  for (int64_t c : g.choices) s += (s.empty() ? "" : ", ") + gene_value_text(g, c);
  for (int64_t c : g.also_valid)
    s += " (or " + gene_value_text(g, c) + (g.field.find("bits") != std::string::npos ? " = float)" : ")");
  return s;
}

// A JSON scalar of a quant attribute as its gene code; errors name field.
int64_t quant_code(const nlohmann::json& v, Gene::Type type, const std::string& field,
                   const std::string& file) {
  auto bad = [&](const std::string& what) {
    return util::input_error(what).file(file).field(field).value(v.dump());
  };
  switch (type) {
    case Gene::Type::kInt:
      if (!v.is_number_integer()) throw bad("expected an integer bit-width");
      return v.get<int64_t>();
    case Gene::Type::kGranularity:
      if (v == "per_tensor") return 0;
      if (v == "per_channel") return 1;
      throw bad("expected \"per_tensor\" or \"per_channel\"");
    case Gene::Type::kBool:
      if (!v.is_boolean()) throw bad("expected true or false");
      return v.get<bool>() ? 1 : 0;
  }
  return 0;
}

}  // namespace

std::string gene_value_text(const Gene& gene, int64_t value) {
  switch (gene.type) {
    case Gene::Type::kGranularity: return value == 1 ? "per_channel" : "per_tensor";
    case Gene::Type::kBool: return value != 0 ? "true" : "false";
    case Gene::Type::kInt: break;
  }
  return std::to_string(value);
}

Space::Space(int64_t input_channels, int64_t classes, std::vector<int64_t> resolutions, QuantChoices quant)
    : input_channels_(input_channels),
      classes_(classes),
      resolutions_(std::move(resolutions)),
      quant_(std::move(quant)) {}

double Space::size() const {
  return std::pow(10.0, log10_size());
}

const LayerSlot& Space::slot(const std::string& name) const {
  for (const auto& s : slots_)
    if (s.name == name) return s;
  throw util::internal_error("no layer slot named " + name);
}

void Space::set_slots(std::vector<LayerSlot> slots) {
  slots_ = std::move(slots);
  searched_ = 0;
  for (auto& s : slots_) {
    s.searched = s.precision.kind == Precision::Kind::kSearched ? static_cast<int>(searched_++) : -1;
    if (s.precision.kind == Precision::Kind::kFixed)
      s.fixed = quant_.uniform(s.precision.weight_bits, s.precision.act_bits);
  }
  genes_.clear();
  genes_.push_back(Gene{"resolution", "input resolution", resolutions_, {}, true, Gene::Type::kInt, -1});
  for (Gene& g : arch_genes()) genes_.push_back(std::move(g));
  arch_end_ = genes_.size();
  std::vector<int64_t> wb(quant_.weight_bits.begin(), quant_.weight_bits.end());
  std::vector<int64_t> ab(quant_.act_bits.begin(), quant_.act_bits.end());
  std::vector<int64_t> gran, wsym, asym;
  for (auto g : quant_.weight_granularity) gran.push_back(code(g));
  for (bool b : quant_.weight_symmetric) wsym.push_back(b ? 1 : 0);
  for (bool b : quant_.act_symmetric) asym.push_back(b ? 1 : 0);
  const std::vector<int64_t> float_bits =
      quant_.allow_float ? std::vector<int64_t>{0} : std::vector<int64_t>{};
  for (const auto& s : slots_) {
    if (s.searched < 0) continue;
    auto field = [&](size_t k) {
      return util::indexed(std::string("quant.") + kQuantKeys[k], static_cast<size_t>(s.searched));
    };
    genes_.push_back(
        Gene{field(0), "weight bits of " + s.name, wb, float_bits, true, Gene::Type::kInt, s.block});
    genes_.push_back(
        Gene{field(1), "activation bits of " + s.name, ab, float_bits, true, Gene::Type::kInt, s.block});
    genes_.push_back(Gene{
        field(2), "weight granularity of " + s.name, gran, {}, false, Gene::Type::kGranularity, s.block});
    genes_.push_back(
        Gene{field(3), "weight symmetry of " + s.name, wsym, {}, false, Gene::Type::kBool, s.block});
    genes_.push_back(
        Gene{field(4), "activation symmetry of " + s.name, asym, {}, false, Gene::Type::kBool, s.block});
  }
  for (const Gene& g : genes_) block_slots_ = std::max(block_slots_, static_cast<size_t>(g.block + 1));
  all_genes_.resize(genes_.size());
  std::iota(all_genes_.begin(), all_genes_.end(), size_t{0});
}

bool Space::block_active(const std::vector<int64_t>&, int) const {
  return true;
}

double Space::log10_quant_per_layer() const {
  return std::log10(quant_.combinations());
}

// ---- genes <-> subnets ------------------------------------------------------------------------------

std::vector<int64_t> Space::gene_values(const Subnet& s) const {
  std::vector<int64_t> v;
  v.reserve(genes_.size());
  v.push_back(s.resolution);
  write_arch(s, v);
  for (const LayerQuant& q : s.quant) write_quant(q, v);
  OQA_ASSERT(v.size() == genes_.size(), "gene count mismatch: validate the subnet first");
  return v;
}

Subnet Space::from_gene_values(const std::vector<int64_t>& v) const {
  if (v.size() != genes_.size())
    throw util::input_error("expected " + std::to_string(genes_.size()) + " gene values")
        .field("genes")
        .value(std::to_string(v.size()));
  Subnet s = from_valid_gene_values(v);
  validate(s);
  return s;
}

std::vector<bool> Space::active_genes(const Subnet& s) const {
  std::vector<unsigned char> a;
  active_genes_into(gene_values(s), a);
  return std::vector<bool>(a.begin(), a.end());
}

void Space::active_genes_into(const std::vector<int64_t>& v, std::vector<unsigned char>& a) const {
  std::vector<unsigned char> blocks;
  block_activity_into(v, blocks);
  a.resize(genes_.size());
  for (size_t i = 0; i < genes_.size(); ++i) a[i] = gene_active(i, blocks) ? 1 : 0;
}

void Space::block_activity_into(const std::vector<int64_t>& v, std::vector<unsigned char>& blocks) const {
  blocks.resize(block_slots_);
  for (size_t b = 0; b < block_slots_; ++b) blocks[b] = block_active(v, static_cast<int>(b)) ? 1 : 0;
}

Subnet Space::from_valid_gene_values(const std::vector<int64_t>& v) const {
  Subnet s;
  from_valid_gene_values(v, s);
  return s;
}

void Space::from_valid_gene_values(const std::vector<int64_t>& v, Subnet& s) const {
  OQA_ASSERT(v.size() == genes_.size(), "gene count mismatch");
  s.kind = kind();
  s.resolution = v[0];
  size_t pos = 1;
  read_arch(v, pos, s);
  OQA_ASSERT(pos == arch_end_, "read_arch consumed the wrong number of genes");
  s.quant.resize((v.size() - pos) / kQuantGenes);
  for (LayerQuant& q : s.quant) {
    q = read_quant(&v[pos]);
    pos += kQuantGenes;
  }
}

// ---- validation and decoding ------------------------------------------------------------------------

void Space::validate(const Subnet& s) const {
  if (s.kind != kind())
    throw util::input_error("subnet kind must be \"" + kind() + "\" for this space")
        .field("kind")
        .value(s.kind);
  check_arch_shape(s);
  if (s.quant.size() != searched_)
    throw util::input_error("expected " + std::to_string(searched_) + " searched layers, got " +
                            std::to_string(s.quant.size()))
        .field("quant")
        .value(std::to_string(s.quant.size()));
  const std::vector<int64_t> v = gene_values(s);
  for (size_t i = 0; i < genes_.size(); ++i) {
    const Gene& g = genes_[i];
    if (!contains(g.choices, v[i]) && !contains(g.also_valid, v[i]))
      throw util::input_error(g.label + " must be one of " + allowed_text(g))
          .field(g.field)
          .value(gene_value_text(g, v[i]));
  }
}

Subnet Space::parse(const nlohmann::json& j, const std::string& file) const {
  try {
    util::JsonReader r(j, "", file);
    Subnet s;
    s.kind = r.get_string("kind", kind());
    if (s.kind != kind()) throw r.error("kind", "subnet kind must be \"" + kind() + "\" for this space");
    s.resolution = r.get_int("resolution", *std::max_element(resolutions_.begin(), resolutions_.end()));
    parse_arch(r, s);
    if (r.has("quant"))
      s.quant = parse_quant(r.at("quant"), file);
    else
      s.quant = largest().quant;
    r.check_unknown();
    validate(s);
    return s;
  } catch (util::Error& e) {
    if (!file.empty() && e.file_name().empty()) e.file(file);
    throw;
  }
}

std::vector<LayerQuant> Space::parse_quant(const nlohmann::json& j, const std::string& file) const {
  if (j.is_string()) {
    const std::string text = j.get<std::string>();
    int w = 0, a = 0;
    if (text != "float" && !parse_wa(text, w, a))
      throw util::input_error("quant shortcut must be \"float\" or \"w<b>a<b>\" with b in 2..8")
          .file(file)
          .field("quant")
          .value(j.dump());
    return std::vector<LayerQuant>(searched_, quant_.uniform(w, a));
  }
  util::JsonReader r(j, "quant", file);
  const std::vector<int64_t> defaults = gene_values(largest());
  std::vector<std::vector<int64_t>> codes(kQuantGenes);
  const size_t first = arch_end_;  // genes of the first searched layer: every layer has the same choices
  for (size_t k = 0; k < kQuantGenes; ++k) {
    const std::string key = kQuantKeys[k];
    if (searched_ == 0) {
      if (r.has(key)) r.at(key);
      continue;
    }
    const Gene& g = genes_[first + k];
    if (!r.has(key)) {
      codes[k].assign(searched_, defaults[first + k]);
      continue;
    }
    const nlohmann::json& v = r.at(key);
    if (v.is_array()) {
      if (v.size() != searched_)
        throw r.error(key, "expected " + std::to_string(searched_) +
                               " values (one per searched layer), got " + std::to_string(v.size()));
      for (size_t i = 0; i < v.size(); ++i)
        codes[k].push_back(quant_code(v[i], g.type, util::indexed(r.field(key), i), file));
    } else {
      const int64_t c = quant_code(v, g.type, r.field(key), file);
      if (!contains(g.choices, c) && !contains(g.also_valid, c))
        throw r.error(key, std::string(kQuantKeys[k]) + " must be one of " + allowed_text(g));
      codes[k].assign(searched_, c);
    }
  }
  r.check_unknown();
  std::vector<LayerQuant> layers;
  for (size_t i = 0; i < searched_; ++i) {
    int64_t v[kQuantGenes];
    for (size_t k = 0; k < kQuantGenes; ++k) v[k] = codes[k][i];
    layers.push_back(read_quant(v));
  }
  return layers;
}

// ---- sampling and evolution -------------------------------------------------------------------------

Subnet Space::largest() const {
  std::vector<int64_t> v;
  for (const Gene& g : genes_)
    v.push_back(g.ordered ? *std::max_element(g.choices.begin(), g.choices.end()) : g.choices[0]);
  return from_valid_gene_values(v);
}

Subnet Space::smallest() const {
  std::vector<int64_t> v;
  for (const Gene& g : genes_)
    v.push_back(g.ordered ? *std::min_element(g.choices.begin(), g.choices.end()) : g.choices[0]);
  return from_valid_gene_values(v);
}

Subnet Space::sample(std::mt19937_64& rng) const {
  std::vector<int64_t> v;
  for (const Gene& g : genes_) {
    std::uniform_int_distribution<size_t> pick(0, g.choices.size() - 1);
    v.push_back(g.choices[pick(rng)]);
  }
  return from_valid_gene_values(v);
}

Subnet Space::mutate(const Subnet& s, double prob, std::mt19937_64& rng) const {
  validate(s);
  std::vector<int64_t> v = gene_values(s);
  mutate_values(v, prob, rng);
  return from_valid_gene_values(v);
}

Subnet Space::crossover(const Subnet& a, const Subnet& b, std::mt19937_64& rng) const {
  validate(a);
  validate(b);
  std::vector<int64_t> va = gene_values(a);
  crossover_values(va, gene_values(b), rng);
  return from_valid_gene_values(va);
}

void Space::mutate_values(std::vector<int64_t>& v, double prob, std::mt19937_64& rng) const {
  mutate_values(v, prob, rng, all_genes_);
}

void Space::mutate_values(std::vector<int64_t>& v, double prob, std::mt19937_64& rng,
                          const std::vector<size_t>& genes) const {
  OQA_ASSERT(v.size() == genes_.size(), "gene count mismatch");
  if (!(prob > 0)) return;
  // The genes redrawn are a Bernoulli(prob) subset: jump from one to the next by geometric gaps instead of
  // tossing a coin per gene (the same distribution, one draw per mutated gene).
  std::geometric_distribution<int64_t> gap(std::min(prob, 1.0));
  for (size_t k = static_cast<size_t>(gap(rng)); k < genes.size(); k += 1 + static_cast<size_t>(gap(rng))) {
    const size_t i = genes[k];
    const std::vector<int64_t>& c = genes_[i].choices;
    v[i] = c[std::uniform_int_distribution<size_t>(0, c.size() - 1)(rng)];
  }
}

void Space::crossover_values(std::vector<int64_t>& a, const std::vector<int64_t>& b,
                             std::mt19937_64& rng) const {
  crossover_values(a, b, rng, all_genes_);
}

void Space::crossover_values(std::vector<int64_t>& a, const std::vector<int64_t>& b, std::mt19937_64& rng,
                             const std::vector<size_t>& genes) const {
  OQA_ASSERT(a.size() == genes_.size() && b.size() == genes_.size(), "gene count mismatch");
  uint64_t bits = 0;  // 64 fair coins per draw
  for (size_t k = 0; k < genes.size(); ++k, bits >>= 1) {
    if (k % 64 == 0) bits = rng();
    if (bits & 1) a[genes[k]] = b[genes[k]];
  }
}

Subnet Space::with_quant(Subnet s, const std::string& shortcut) const {
  s.quant = parse_quant(nlohmann::json(shortcut), "");
  validate(s);
  return s;
}

// ---- canonical form and hashing ---------------------------------------------------------------------

Subnet Space::canonical(const Subnet& s) const {
  validate(s);
  std::vector<int64_t> v = gene_values(s);
  std::vector<unsigned char> active;
  active_genes_into(v, active);
  for (size_t i = 0; i < v.size(); ++i)
    if (!active[i]) v[i] = genes_[i].choices[0];
  for (size_t pos = arch_end_; pos < v.size(); pos += kQuantGenes) {
    if (v[pos] == 0) v[pos + 2] = genes_[pos + 2].choices[0], v[pos + 3] = genes_[pos + 3].choices[0];
    if (v[pos + 1] == 0) v[pos + 4] = genes_[pos + 4].choices[0];
  }
  return from_valid_gene_values(v);
}

uint64_t Space::hash(const Subnet& s) const {
  return util::fnv1a64(to_json(canonical(s)).dump());
}

std::string Space::hash_hex(const Subnet& s) const {
  return util::hex64(hash(s));
}

// ---- encodings --------------------------------------------------------------------------------------

size_t Space::one_hot_size() const {
  size_t n = 0;
  for (const Gene& g : genes_) n += g.choices.size();
  return n;
}

std::vector<float> Space::one_hot(const Subnet& s) const {
  std::vector<OneHotGene> all;
  size_t column = 0;
  for (size_t i = 0; i < genes_.size(); ++i) {
    all.push_back({i, column});
    column += genes_[i].choices.size();
  }
  const std::vector<int64_t> values = gene_values(s);
  std::vector<unsigned char> blocks;
  block_activity_into(values, blocks);
  std::vector<float> out(column);
  one_hot_into(values, blocks, all, out.data(), out.size());
  return out;
}

void Space::one_hot_into(const std::vector<int64_t>& values, const std::vector<unsigned char>& blocks,
                         const std::vector<OneHotGene>& genes, float* row, size_t columns) const {
  std::fill(row, row + columns, 0.0f);
  for (const OneHotGene& g : genes) {
    if (!gene_active(g.gene, blocks)) continue;
    const std::vector<int64_t>& c = genes_[g.gene].choices;
    const auto it = std::find(c.begin(), c.end(), values[g.gene]);
    if (it != c.end()) row[g.column + static_cast<size_t>(it - c.begin())] = 1.0f;  // float values: all-zero
  }
}

// ---- quantization -----------------------------------------------------------------------------------

nn::LayerQuantSpecs Space::slot_specs(const Subnet& s, size_t i) const {
  const LayerSlot& slot = slots_[i];
  switch (slot.precision.kind) {
    case Precision::Kind::kFloat: return {};
    case Precision::Kind::kFixed: return resolve_specs(slot.fixed, slot.input_range, quant_.small_negative);
    case Precision::Kind::kSearched:
      return resolve_specs(s.quant.at(static_cast<size_t>(slot.searched)), slot.input_range, quant_.small_negative);
  }
  return {};
}

std::vector<nn::LayerQuantSpecs> Space::layer_specs(const Subnet& s) const {
  std::vector<nn::LayerQuantSpecs> out;
  out.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) out.push_back(slot_specs(s, i));
  return out;
}

std::vector<nn::LayerShape> Space::layer_shapes(const Subnet& s) const {
  validate(s);
  struct Named final : LayerSink {
    const std::vector<LayerSlot>& slots;
    std::vector<nn::LayerShape> shapes;
    explicit Named(const std::vector<LayerSlot>& sl) : slots(sl) {}
    void layer(const nn::LayerShape& shape, size_t slot) override {
      shapes.push_back(shape);
      shapes.back().name = slots[slot].name;
    }
  } named(slots_);
  visit_layers(s, named);
  return std::move(named.shapes);
}

std::vector<quant::QuantSpec> Space::weight_specs(const LayerSlot& slot) const {
  std::vector<quant::QuantSpec> out;
  if (slot.precision.kind == Precision::Kind::kFixed) out.push_back(resolve_specs(slot.fixed, InputRange::kSigned).weight);
  if (slot.precision.kind != Precision::Kind::kSearched) return out;
  for (int b : quant_.weight_bits)
    for (auto g : quant_.weight_granularity)
      for (bool sym : quant_.weight_symmetric)
        out.push_back(resolve_specs(LayerQuant{b, 0, g, sym, true}, InputRange::kSigned).weight);
  return out;
}

std::vector<quant::QuantSpec> Space::input_specs(const LayerSlot& slot) const {
  std::vector<quant::QuantSpec> out;
  if (slot.precision.kind == Precision::Kind::kFixed)
    out.push_back(resolve_specs(slot.fixed, slot.input_range, quant_.small_negative).input);
  if (slot.precision.kind != Precision::Kind::kSearched) return out;
  for (int b : quant_.act_bits)
    for (bool sym : quant_.act_symmetric)
      out.push_back(
          resolve_specs(LayerQuant{0, b, quant::Granularity::kPerTensor, true, sym}, slot.input_range,
                        quant_.small_negative)
              .input);
  return out;
}

nlohmann::json Space::describe_common() const {
  nlohmann::json fl = nlohmann::json::array(), fixed = nlohmann::json::object();
  for (const auto& s : slots_) {
    if (s.precision.kind == Precision::Kind::kFloat) fl.push_back(s.name);
    if (s.precision.kind == Precision::Kind::kFixed) fixed[s.name] = s.precision.to_string();
  }
  return {{"kind", kind()},
          {"input_channels", input_channels_},
          {"classes", classes_},
          {"resolutions", resolutions_},
          {"quant", quant_.to_json()},
          {"layers", slots_.size()},
          {"searched_layers", searched_},
          {"float_layers", fl},
          {"fixed_layers", fixed},
          {"genes", genes_.size()},
          {"one_hot_size", one_hot_size()},
          {"log10_size", log10_size()},
          {"size", size()}};
}

}  // namespace oqa::space
