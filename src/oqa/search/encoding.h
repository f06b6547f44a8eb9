// Predictor encodings of subnets: Once-for-All's one-hot of the architecture genes (resolution, kernel,
// expand, depth or widths) or EQ-Net's, which adds every searched layer's bit-widths and forms.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "oqa/space/space.h"

namespace oqa::search {

enum class Encoding { kArch, kQuant };
std::string encoding_name(Encoding e);             // "arch" | "quant"
Encoding parse_encoding(const std::string& name);  // usage error naming the value

class Encoder {
 public:
  Encoder(const space::Space& space, Encoding encoding);
  Encoding encoding() const { return encoding_; }
  size_t size() const { return size_; }
  // One row per subnet (float32, [N, size()]).
  torch::Tensor encode(const std::vector<space::Subnet>& subnets) const;
  // The same from gene values (Space::gene_values of valid subnets; the search's candidates), no subnet
  // built.
  torch::Tensor encode_values(const space::GeneRows& rows) const;

 private:
  void encode_into(const std::vector<int64_t>& values, std::vector<unsigned char>& blocks, float* row) const;

  const space::Space& space_;
  Encoding encoding_;
  size_t size_ = 0;
  std::vector<space::Space::OneHotGene> columns_;  // the genes the encoding keeps and their first column
};

}  // namespace oqa::search
