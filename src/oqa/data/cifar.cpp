// CIFAR binary parsing: record size checks, label checks, concatenation of batch files.
#include "oqa/data/cifar.h"

#include <cstring>

#include "oqa/data/gzip_file.h"
#include "oqa/data/memory_dataset.h"
#include "oqa/util/error.h"

namespace oqa::data {

DatasetPtr load_cifar(const std::vector<std::string>& batch_files, int num_classes, std::string name) {
  if (num_classes != 10 && num_classes != 100)
    throw util::input_error("CIFAR has 10 or 100 classes").field("num_classes").value(std::to_string(num_classes));
  if (batch_files.empty()) throw util::input_error("no CIFAR batch files given for " + name);
  const ImageShape shape{3, 32, 32};
  const size_t image_bytes = static_cast<size_t>(shape.numel());
  const size_t label_bytes = num_classes == 10 ? 1 : 2;
  const size_t record = label_bytes + image_bytes;

  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const std::string& path : batch_files) {
    const std::string bytes = read_maybe_gzip(path);
    if (bytes.empty()) throw util::input_error("empty CIFAR batch file").file(path);
    if (bytes.size() % record != 0)
      throw util::input_error("truncated CIFAR record: " + std::to_string(bytes.size()) +
                              " bytes is not a whole number of " + std::to_string(record) + "-byte records (" +
                              std::to_string(label_bytes) + " label byte(s) + 3x32x32 pixels); last record has " +
                              std::to_string(bytes.size() % record) + " bytes")
          .file(path);
    const size_t n = bytes.size() / record;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t first = labels.size();
    labels.resize(first + n);
    pixels.resize((first + n) * image_bytes);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* r = p + i * record;
      if (label_bytes == 2 && r[0] >= 20)
        throw util::input_error("coarse label " + std::to_string(r[0]) + " of record " + std::to_string(i) +
                                " is out of range: expected 0..19 (is this a CIFAR-10 file?)")
            .file(path);
      const int64_t label = r[label_bytes - 1];
      if (label >= num_classes)
        throw util::input_error("label " + std::to_string(label) + " of record " + std::to_string(i) +
                                " is out of range: expected 0.." + std::to_string(num_classes - 1))
            .file(path);
      labels[first + i] = label;
      std::memcpy(pixels.data() + (first + i) * image_bytes, r + label_bytes, image_bytes);
    }
  }
  return std::make_shared<MemoryDataset>(std::move(name), shape, num_classes, std::move(pixels), std::move(labels));
}

}  // namespace oqa::data
