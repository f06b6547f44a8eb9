// Registry: the datasets a config can name, their default locations, splits and normalisation.
#pragma once

#include <string>
#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

struct DataOptions {
  std::string dataset = "fashion-mnist";  // fashion-mnist | mnist | cifar10 | cifar100 | image-folder | synthetic
  std::string root;                       // "" = default; fashion-mnist default /usr/share/datasets/fashion-mnist
  double val_fraction = 0.1;
  int64_t image_size = 0;  // image-folder: resize to this (default 32); synthetic: size (default 28)
  int64_t channels = 0;    // image-folder: 1 or 3 (default 3); synthetic: default 1
  int64_t synthetic_train = 2048, synthetic_test = 512, synthetic_classes = 10;
  int64_t train_images = 0, val_images = 0;  // > 0: keep only the first N of the split (quick runs, tests)
  std::string check_images = "auto";          // image-folder: auto | decode | header | none (ImageCheck)
  std::string on_bad_image = "error";         // image-folder: error | skip
};

struct Splits {
  DatasetPtr train, val, test;
};

// The dataset names open_splits accepts.
const std::vector<std::string>& dataset_names();

// The root used when DataOptions::root is empty ("" for synthetic).
std::string default_root(const std::string& dataset);

// Train/val from the training files (seeded split, val_fraction of them), test from the test files.
// Files: fashion-mnist / mnist: root/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
// cifar10: root/data_batch_{1..5}.bin + root/test_batch.bin; cifar100: root/train.bin + root/test.bin;
// image-folder: root/train/<class>/... and root/test/<class>/... (root/val when there is no test);
// synthetic: generated (its pixels do not depend on `seed`, only the split does).
Splits open_splits(const DataOptions& opt, uint64_t seed);

// Whether a horizontal flip keeps the class, so training may flip by default: not for digits (mnist).
bool flip_keeps_class(const std::string& dataset);

// Default input normalisation per dataset (mean/std per channel, on [0,1] pixels) for the loader;
// statistics of a dataset with another channel count are averaged (3 -> 1) or repeated (1 -> 3);
// channels 0 means the dataset's own count.
void default_normalization(const std::string& dataset, int64_t channels, std::vector<float>& mean,
                           std::vector<float>& std);

}  // namespace oqa::data
