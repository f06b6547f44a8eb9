// Predictor encodings of subnets: Once-for-All's one-hot of the architecture genes (resolution, kernel,
// expand, depth or widths); the same with every searched layer's bit-widths and forms one-hot; or EQ-Net's
// conditional one (CQAP), with the per-layer bit-widths one-hot and the forms as conditions.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "oqa/space/space.h"

namespace oqa::search {

// kCond: the architecture and bit-width one-hots, then one column per elastic form (weight granularity,
// weight symmetry, activation symmetry): the share of the subnet's active searched layers that are
// per-channel, weight-symmetric, activation-symmetric (one-hot-like 0 / 1 when a subnet's forms are uniform,
// as EQ-Net samples them).
enum class Encoding { kArch, kQuant, kCond };
std::string encoding_name(Encoding e);             // "arch" | "quant" | "cond"
Encoding parse_encoding(const std::string& name);  // usage error naming the value
const std::vector<Encoding>& all_encodings();

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
  struct Condition {
    size_t column;
    std::vector<size_t> genes;  // that form's gene in every searched layer (counted where coded 1)
  };
  std::vector<Condition> conditions_;  // kCond only
};

}  // namespace oqa::search
