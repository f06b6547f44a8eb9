// Fuzz harness: the CIFAR binary reader, as CIFAR-10 (1 label byte) and CIFAR-100 (2 label bytes) batches.
#include <vector>

#include "fuzz/fuzz_support.h"
#include "oqa/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = oqa::fuzz::temp_file(data, size, "batch.bin");
  for (int classes : {10, 100})
    oqa::fuzz::expect_clear_errors([&] {
      const oqa::data::DatasetPtr d = oqa::data::load_cifar({file}, classes, "fuzz");
      std::vector<uint8_t> img(static_cast<size_t>(d->shape().numel()));
      for (size_t i = 0; i < std::min<size_t>(d->size(), 16); ++i) {
        d->read_image(i, img.data());
        if (d->label(i) < 0 || d->label(i) >= classes) oqa::fuzz::finding("label out of range");
      }
    });
  return 0;
}
