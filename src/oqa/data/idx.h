// IDX reader (MNIST / Fashion-MNIST): unsigned-byte image and label files, gzip-compressed or raw.
#pragma once

#include <string>

#include "oqa/data/dataset.h"

namespace oqa::data {

// Loads an images file (magic 0x00000803: count, rows, cols) and a labels file (magic 0x00000801:
// count) into memory. Every label must be < num_classes. Errors name the file and say what was
// expected and what was found.
DatasetPtr load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                    int64_t num_classes = 10);

}  // namespace oqa::data
