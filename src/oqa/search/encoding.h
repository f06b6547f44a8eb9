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
  void encode_into(const space::Subnet& subnet, float* row) const;

 private:
  const space::Space& space_;
  Encoding encoding_;
  size_t size_ = 0;
  std::vector<int64_t>
      offset_;  // per gene: column of its first choice, or -1 when the encoding leaves it out
};

}  // namespace oqa::search
