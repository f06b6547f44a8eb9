// Fuzz harness: the IDX reader (MNIST / Fashion-MNIST). Input: a 2-byte little-endian length k, an images
// file of k bytes, then a labels file (the rest); what loads is read image by image.
#include <vector>

#include "fuzz/fuzz_support.h"
#include "oqa/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t k = std::min<size_t>(size - 2, data[0] | (size_t{data[1]} << 8));
  const std::string images = oqa::fuzz::temp_file(data + 2, k, "images.idx");
  const std::string labels = oqa::fuzz::temp_file(data + 2 + k, size - 2 - k, "labels.idx");
  oqa::fuzz::expect_clear_errors([&] {
    const oqa::data::DatasetPtr d = oqa::data::load_idx(images, labels, "fuzz");
    std::vector<uint8_t> img(static_cast<size_t>(d->shape().numel()));
    for (size_t i = 0; i < std::min<size_t>(d->size(), 16); ++i) {
      d->read_image(i, img.data());
      if (d->label(i) < 0 || d->label(i) >= d->num_classes()) oqa::fuzz::finding("label out of range");
    }
  });
  return 0;
}
