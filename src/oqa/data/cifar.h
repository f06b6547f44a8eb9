// CIFAR binary batches: CIFAR-10 (1 label byte per record) and CIFAR-100 (coarse + fine label bytes).
#pragma once

#include <string>
#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

// Loads and concatenates the given batch files (records of label byte(s) + 3x32x32 pixels, CHW).
// num_classes 10: one label byte; 100: two bytes (coarse, fine) and the fine label is used.
// A file whose size is not a whole number of records, or a label out of range, is an input error.
DatasetPtr load_cifar(const std::vector<std::string>& batch_files, int num_classes, std::string name);

}  // namespace oqa::data
