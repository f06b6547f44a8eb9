// MemoryDataset: bounds-checked access to in-memory images and labels.
#include "oqa/data/memory_dataset.h"

#include <cstring>

#include "oqa/util/error.h"

namespace oqa::data {

MemoryDataset::MemoryDataset(std::string name, ImageShape shape, int64_t num_classes, std::vector<uint8_t> pixels,
                             std::vector<int64_t> labels)
    : name_(std::move(name)),
      shape_(shape),
      num_classes_(num_classes),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  OQA_ASSERT(shape_.numel() > 0, "empty image shape for " + name_);
  OQA_ASSERT(pixels_.size() == labels_.size() * static_cast<size_t>(shape_.numel()),
             "pixel buffer does not match the label count for " + name_);
}

int64_t MemoryDataset::label(size_t i) const {
  OQA_ASSERT(i < labels_.size(), "sample " + std::to_string(i) + " out of range in " + name_);
  return labels_[i];
}

void MemoryDataset::read_image(size_t i, uint8_t* dst) const {
  OQA_ASSERT(i < labels_.size(), "sample " + std::to_string(i) + " out of range in " + name_);
  const size_t n = static_cast<size_t>(shape_.numel());
  std::memcpy(dst, pixels_.data() + i * n, n);
}

}  // namespace oqa::data
