// Dataset: the random-access sample interface every reader implements, plus subsets and train/val splits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace oqa::data {

// Shape of one image, channels-first.
struct ImageShape {
  int64_t channels = 1, height = 28, width = 28;
  int64_t numel() const { return channels * height * width; }
  std::string str() const;  // "1x28x28"
};

bool operator==(const ImageShape& a, const ImageShape& b);
bool operator!=(const ImageShape& a, const ImageShape& b);

// Random access to labelled images; every sample has the same shape, pixels are uint8 CHW.
// All const methods must be safe to call from several threads at once (loader workers do).
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual ImageShape shape() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual int64_t label(size_t i) const = 0;
  virtual void read_image(size_t i, uint8_t* dst) const = 0;  // writes shape().numel() bytes, CHW
  virtual std::string name() const = 0;
  // Names of the classes by label, when the data has them (an image folder's subfolders); else empty.
  virtual std::vector<std::string> class_names() const { return {}; }
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// A view on some indices of another dataset (indices may repeat; each must be < base->size()).
DatasetPtr subset(DatasetPtr base, std::vector<size_t> indices);

// Seeded split of a training set into (train, validation); val_fraction in [0,1).
// The validation part holds round(size * val_fraction) samples drawn at random; both parts keep
// the base order. The same (size, val_fraction, seed) always gives the same split.
std::pair<DatasetPtr, DatasetPtr> split_train_val(DatasetPtr full, double val_fraction, uint64_t seed);

// Indices of a subset view, or nullptr when `d` is not one (tests and diagnostics).
const std::vector<size_t>* subset_indices(const Dataset& d);

}  // namespace oqa::data
