// Encoder: selects the architecture or all positions of the space's one-hot encoding.
#include "oqa/search/encoding.h"

#include "oqa/util/error.h"

namespace oqa::search {

std::string encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kArch: return "arch";
    case Encoding::kQuant: return "quant";
    case Encoding::kCond: return "cond";
  }
  return "?";
}

Encoding parse_encoding(const std::string& name) {
  for (Encoding e : all_encodings())
    if (name == encoding_name(e)) return e;
  throw util::usage_error("predictor encoding must be arch (Once-for-All), quant (per-layer bits and forms) or cond "
                          "(EQ-Net's conditional predictor)")
      .value(name);
}

const std::vector<Encoding>& all_encodings() {
  static const std::vector<Encoding> all = {Encoding::kArch, Encoding::kQuant, Encoding::kCond};
  return all;
}

namespace {

bool is_bits_gene(const std::string& field) {
  return field.rfind("quant.weight_bits[", 0) == 0 || field.rfind("quant.act_bits[", 0) == 0;
}

}  // namespace

Encoder::Encoder(const space::Space& space, Encoding encoding) : space_(space), encoding_(encoding) {
  // The one-hot columns of Space::one_hot that the encoding keeps, gene by gene; every encoding leaves out
  // single-choice genes (constant columns).
  const std::vector<space::Gene>& genes = space.genes();
  for (const auto& gene : genes) {
    const bool quant_gene = gene.field.rfind("quant.", 0) == 0;
    const bool keep = encoding == Encoding::kQuant || !quant_gene || (encoding == Encoding::kCond && is_bits_gene(gene.field));
    if (gene.choices.size() < 2 || !keep) continue;
    columns_.push_back({static_cast<size_t>(&gene - genes.data()), size_});
    size_ += gene.choices.size();
  }
  if (encoding != Encoding::kCond) return;
  for (const char* form : {"quant.weight_granularity[", "quant.weight_symmetric[", "quant.act_symmetric["}) {
    Condition c{size_, {}};
    bool elastic = false;
    for (size_t g = 0; g < genes.size(); ++g)
      if (genes[g].field.rfind(form, 0) == 0) {
        c.genes.push_back(g);
        elastic = elastic || genes[g].choices.size() > 1;
      }
    if (!elastic) continue;
    conditions_.push_back(std::move(c));
    ++size_;
  }
}

void Encoder::encode_into(const std::vector<int64_t>& values, std::vector<unsigned char>& blocks,
                          float* row) const {
  space_.block_activity_into(values, blocks);
  space_.one_hot_into(values, blocks, columns_, row, size_);
  for (const Condition& c : conditions_) {
    int64_t active = 0, with = 0;
    for (size_t g : c.genes) {
      if (!space_.gene_active(g, blocks)) continue;
      ++active;
      with += values[g] == 1;  // coded forms: per-channel 1, symmetric 1
    }
    row[c.column] = active > 0 ? static_cast<float>(with) / static_cast<float>(active) : 0.0f;
  }
}

torch::Tensor Encoder::encode(const std::vector<space::Subnet>& subnets) const {
  torch::Tensor x = torch::empty({static_cast<int64_t>(subnets.size()), static_cast<int64_t>(size())});
  float* data = x.data_ptr<float>();
  std::vector<unsigned char> blocks;
  for (size_t i = 0; i < subnets.size(); ++i)
    encode_into(space_.gene_values(subnets[i]), blocks, data + i * size());
  return x;
}

torch::Tensor Encoder::encode_values(const space::GeneRows& rows) const {
  torch::Tensor x = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(size())});
  float* data = x.data_ptr<float>();
  std::vector<unsigned char> blocks;
  for (size_t i = 0; i < rows.size(); ++i) encode_into(*rows[i], blocks, data + i * size());
  return x;
}

}  // namespace oqa::search
