// MemoryDataset: a dataset held fully in memory (pixels as one uint8 array, labels as int64).
#pragma once

#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

class MemoryDataset final : public Dataset {
 public:
  // `pixels` holds labels.size() images of shape.numel() bytes each, CHW.
  MemoryDataset(std::string name, ImageShape shape, int64_t num_classes, std::vector<uint8_t> pixels,
                std::vector<int64_t> labels);

  size_t size() const override { return labels_.size(); }
  ImageShape shape() const override { return shape_; }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(size_t i) const override;
  void read_image(size_t i, uint8_t* dst) const override;
  std::string name() const override { return name_; }

 private:
  std::string name_;
  ImageShape shape_;
  int64_t num_classes_;
  std::vector<uint8_t> pixels_;
  std::vector<int64_t> labels_;
};

}  // namespace oqa::data
