// Dataset helpers: image shape printing, subset views and the seeded train/validation split.
#include "oqa/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "oqa/data/random.h"
#include "oqa/util/error.h"

namespace oqa::data {

std::string ImageShape::str() const {
  return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
}

bool operator==(const ImageShape& a, const ImageShape& b) {
  return a.channels == b.channels && a.height == b.height && a.width == b.width;
}
bool operator!=(const ImageShape& a, const ImageShape& b) { return !(a == b); }

namespace {

class SubsetDataset final : public Dataset {
 public:
  SubsetDataset(DatasetPtr base, std::vector<size_t> indices, std::string name)
      : base_(std::move(base)), indices_(std::move(indices)), name_(std::move(name)) {}

  size_t size() const override { return indices_.size(); }
  ImageShape shape() const override { return base_->shape(); }
  int64_t num_classes() const override { return base_->num_classes(); }
  int64_t label(size_t i) const override { return base_->label(at(i)); }
  void read_image(size_t i, uint8_t* dst) const override { base_->read_image(at(i), dst); }
  std::string name() const override { return name_; }
  std::vector<std::string> class_names() const override { return base_->class_names(); }
  const std::vector<size_t>& indices() const { return indices_; }

 private:
  size_t at(size_t i) const {
    OQA_ASSERT(i < indices_.size(), "subset index " + std::to_string(i) + " out of range " +
                                        std::to_string(indices_.size()) + " in " + name_);
    return indices_[i];
  }
  DatasetPtr base_;
  std::vector<size_t> indices_;
  std::string name_;
};

DatasetPtr make_subset(DatasetPtr base, std::vector<size_t> indices, std::string name) {
  OQA_ASSERT(base != nullptr, "subset of a null dataset");
  const size_t n = base->size();
  for (size_t idx : indices)
    OQA_ASSERT(idx < n, "subset index " + std::to_string(idx) + " >= dataset size " + std::to_string(n) +
                            " of " + base->name());
  return std::make_shared<SubsetDataset>(std::move(base), std::move(indices), std::move(name));
}

}  // namespace

DatasetPtr subset(DatasetPtr base, std::vector<size_t> indices) {
  OQA_ASSERT(base != nullptr, "subset of a null dataset");
  std::string name = base->name() + "[subset]";
  return make_subset(std::move(base), std::move(indices), std::move(name));
}

std::pair<DatasetPtr, DatasetPtr> split_train_val(DatasetPtr full, double val_fraction, uint64_t seed) {
  OQA_ASSERT(full != nullptr, "split of a null dataset");
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw util::input_error("validation fraction must be in [0, 1)")
        .field("val_fraction")
        .value(std::to_string(val_fraction));
  const size_t n = full->size();
  const size_t n_val = std::min(n, static_cast<size_t>(std::llround(static_cast<double>(n) * val_fraction)));

  std::vector<size_t> perm(n);
  for (size_t i = 0; i < n; ++i) perm[i] = i;
  std::mt19937_64 rng(mix_seed(seed, 0x5E1170A1ULL));
  shuffle_in_place(perm, rng);

  std::vector<size_t> val(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(n_val));
  std::vector<size_t> train(perm.begin() + static_cast<std::ptrdiff_t>(n_val), perm.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  const std::string base = full->name();
  DatasetPtr val_set = make_subset(full, std::move(val), base + "/val");
  DatasetPtr train_set = make_subset(std::move(full), std::move(train), base + "/train");
  return {std::move(train_set), std::move(val_set)};
}

const std::vector<size_t>* subset_indices(const Dataset& d) {
  auto* s = dynamic_cast<const SubsetDataset*>(&d);
  return s ? &s->indices() : nullptr;
}

}  // namespace oqa::data
