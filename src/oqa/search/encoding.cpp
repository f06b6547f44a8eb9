// Encoder: selects the architecture or all positions of the space's one-hot encoding.
#include "oqa/search/encoding.h"

#include "oqa/util/error.h"

namespace oqa::search {

std::string encoding_name(Encoding e) {
  return e == Encoding::kArch ? "arch" : "quant";
}

Encoding parse_encoding(const std::string& name) {
  if (name == "arch") return Encoding::kArch;
  if (name == "quant") return Encoding::kQuant;
  throw util::usage_error("predictor encoding must be arch (Once-for-All) or quant (EQ-Net)").value(name);
}

Encoder::Encoder(const space::Space& space, Encoding encoding) : space_(space), encoding_(encoding) {
  // The columns of Space::one_hot that the encoding keeps, gene by gene.
  for (const auto& gene : space.genes()) {
    const bool quant_gene = gene.field.rfind("quant.", 0) == 0;
    // The arch encoding leaves out quant genes; both leave out single-choice genes (constant columns).
    const bool keep = gene.choices.size() > 1 && (encoding == Encoding::kQuant || !quant_gene);
    if (!keep) continue;
    columns_.push_back({static_cast<size_t>(&gene - space.genes().data()), size_});
    size_ += gene.choices.size();
  }
}

void Encoder::encode_into(const std::vector<int64_t>& values, std::vector<unsigned char>& blocks,
                          float* row) const {
  space_.block_activity_into(values, blocks);
  space_.one_hot_into(values, blocks, columns_, row, size_);
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
