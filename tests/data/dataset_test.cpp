// Dataset-level tests: subsets, the seeded train/val split, the synthetic generator (determinism,
// balance, learnability by a nearest-centroid classifier) and the registry (open_splits, normalisation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "data/test_files.h"
#include "oqa/data/registry.h"
#include "oqa/data/synthetic.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

using testing::TempDir;

std::vector<size_t> indices_of(const DatasetPtr& d) {
  const std::vector<size_t>* idx = subset_indices(*d);
  return idx ? *idx : std::vector<size_t>{};
}

TEST(Subset, MapsLabelsAndImages) {
  DatasetPtr base = make_synthetic(20, ImageShape{1, 8, 8}, 5, 1);
  DatasetPtr s = subset(base, {7, 3, 7});
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ(s->shape(), base->shape());
  EXPECT_EQ(s->num_classes(), 5);
  std::vector<uint8_t> a(64), b(64);
  for (auto [i, j] : std::vector<std::pair<size_t, size_t>>{{0, 7}, {1, 3}, {2, 7}}) {
    EXPECT_EQ(s->label(i), base->label(j));
    s->read_image(i, a.data());
    base->read_image(j, b.data());
    EXPECT_EQ(a, b);
  }
  EXPECT_THROW(subset(base, {20}), util::Error);
}

TEST(Split, DisjointCoveringAndSeeded) {
  DatasetPtr full = make_synthetic(1000, ImageShape{1, 8, 8}, 10, 2);
  auto [train, val] = split_train_val(full, 0.1, 7);
  EXPECT_EQ(val->size(), 100u);
  EXPECT_EQ(train->size(), 900u);
  std::vector<size_t> t = indices_of(train), v = indices_of(val);
  ASSERT_EQ(t.size(), 900u);
  ASSERT_EQ(v.size(), 100u);
  std::set<size_t> all(t.begin(), t.end());
  for (size_t i : v) EXPECT_TRUE(all.insert(i).second) << "index " << i << " in both parts";
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_EQ(*all.rbegin(), 999u);
  // Same seed, same split; another seed, another split.
  auto [train2, val2] = split_train_val(full, 0.1, 7);
  EXPECT_EQ(indices_of(val2), v);
  EXPECT_EQ(indices_of(train2), t);
  auto [train3, val3] = split_train_val(full, 0.1, 8);
  EXPECT_NE(indices_of(val3), v);
  // Labels go through the view.
  EXPECT_EQ(val->label(0), full->label(v[0]));
  EXPECT_EQ(val->name(), "synthetic/val");
}

TEST(Split, EdgeFractions) {
  DatasetPtr full = make_synthetic(10, ImageShape{1, 8, 8}, 2, 2);
  auto [train, val] = split_train_val(full, 0.0, 1);
  EXPECT_EQ(train->size(), 10u);
  EXPECT_EQ(val->size(), 0u);
  auto [train2, val2] = split_train_val(full, 0.25, 1);  // round(2.5) = 3
  EXPECT_EQ(val2->size(), 3u);
  EXPECT_EQ(train2->size(), 7u);
  EXPECT_THROW(split_train_val(full, 1.0, 1), util::Error);
  EXPECT_THROW(split_train_val(full, -0.1, 1), util::Error);
}

TEST(Synthetic, DeterministicAndBalanced) {
  DatasetPtr a = make_synthetic(2000, ImageShape{3, 16, 16}, 10, 3);
  DatasetPtr b = make_synthetic(2000, ImageShape{3, 16, 16}, 10, 3);
  DatasetPtr c = make_synthetic(2000, ImageShape{3, 16, 16}, 10, 4);
  std::vector<uint8_t> x(768), y(768);
  std::vector<int> counts(10, 0);
  int same_as_other_seed = 0;
  for (size_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(a->label(i), b->label(i));
    ASSERT_GE(a->label(i), 0);
    ASSERT_LT(a->label(i), 10);
    counts[static_cast<size_t>(a->label(i))]++;
    same_as_other_seed += a->label(i) == c->label(i);
    if (i < 50) {
      a->read_image(i, x.data());
      b->read_image(i, y.data());
      ASSERT_EQ(x, y);
      c->read_image(i, y.data());
      EXPECT_NE(x, y);
    }
  }
  for (int n : counts) EXPECT_NEAR(n, 200, 60);
  EXPECT_LT(same_as_other_seed, 400);
  EXPECT_THROW(make_synthetic(10, ImageShape{1, 8, 8}, 1, 0), util::Error);
  EXPECT_THROW(make_synthetic(10, ImageShape{0, 8, 8}, 10, 0), util::Error);
}

// Nearest class mean on raw pixels, fitted on one synthetic set and scored on another.
double centroid_accuracy(ImageShape shape, int64_t classes) {
  DatasetPtr train = make_synthetic(1500, shape, classes, 11), test = make_synthetic(500, shape, classes, 12);
  const size_t n = static_cast<size_t>(shape.numel());
  std::vector<double> mean(static_cast<size_t>(classes) * n, 0.0);
  std::vector<int> count(static_cast<size_t>(classes), 0);
  std::vector<uint8_t> img(n);
  for (size_t i = 0; i < train->size(); ++i) {
    const size_t k = static_cast<size_t>(train->label(i));
    train->read_image(i, img.data());
    for (size_t p = 0; p < n; ++p) mean[k * n + p] += img[p];
    count[k]++;
  }
  for (size_t k = 0; k < static_cast<size_t>(classes); ++k)
    for (size_t p = 0; p < n; ++p) mean[k * n + p] /= std::max(1, count[k]);
  int correct = 0;
  for (size_t i = 0; i < test->size(); ++i) {
    test->read_image(i, img.data());
    double best = 1e300;
    int64_t arg = -1;
    for (int64_t k = 0; k < classes; ++k) {
      double d = 0;
      for (size_t p = 0; p < n; ++p) {
        const double e = img[p] - mean[static_cast<size_t>(k) * n + p];
        d += e * e;
      }
      if (d < best) best = d, arg = k;
    }
    correct += arg == test->label(i);
  }
  return static_cast<double>(correct) / static_cast<double>(test->size());
}

TEST(Synthetic, LearnableWellAboveChance) {
  // Chance is 10%; a linear nearest-centroid rule already does far better, so a CNN will.
  EXPECT_GT(centroid_accuracy(ImageShape{1, 28, 28}, 10), 0.6);
  EXPECT_GT(centroid_accuracy(ImageShape{3, 16, 16}, 10), 0.6);
}

TEST(Registry, SyntheticSplits) {
  DataOptions opt;
  opt.dataset = "synthetic";
  opt.synthetic_train = 300;
  opt.synthetic_test = 50;
  opt.synthetic_classes = 4;
  opt.val_fraction = 0.2;
  Splits s = open_splits(opt, 1);
  EXPECT_EQ(s.train->size(), 240u);
  EXPECT_EQ(s.val->size(), 60u);
  EXPECT_EQ(s.test->size(), 50u);
  EXPECT_EQ(s.train->shape(), (ImageShape{1, 28, 28}));
  EXPECT_EQ(s.test->num_classes(), 4);
  opt.image_size = 12;
  opt.channels = 3;
  EXPECT_EQ(open_splits(opt, 1).train->shape(), (ImageShape{3, 12, 12}));
}

TEST(Registry, UnknownDatasetSuggestsTheNearest) {
  DataOptions opt;
  opt.dataset = "fashion-mnst";
  try {
    open_splits(opt, 0);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "dataset");
    EXPECT_NE(std::string(e.what()).find("fashion-mnist"), std::string::npos) << e.what();
  }
  std::vector<float> m, s;
  EXPECT_THROW(default_normalization("imagenet2", 3, m, s), util::Error);
}

TEST(Registry, MissingFilesAreNamed) {
  TempDir dir;
  DataOptions opt;
  opt.dataset = "mnist";
  opt.root = dir.path().string();
  try {
    open_splits(opt, 0);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), dir.file("train-images-idx3-ubyte.gz"));
  }
  opt.dataset = "cifar10";
  try {
    open_splits(opt, 0);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), dir.file("data_batch_1.bin"));
  }
}

TEST(Registry, RawIdxFilesAndCifarRoots) {
  TempDir dir;
  // MNIST-style root with raw (uncompressed) files.
  std::vector<uint8_t> pixels(20 * 28 * 28, 9), labels(20), test_labels(4);
  for (size_t i = 0; i < 20; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  testing::write_bytes(dir.file("m/train-images-idx3-ubyte"), testing::idx_bytes({20, 28, 28}, pixels));
  testing::write_bytes(dir.file("m/train-labels-idx1-ubyte"), testing::idx_bytes({20}, labels));
  testing::write_bytes(dir.file("m/t10k-images-idx3-ubyte"),
                       testing::idx_bytes({4, 28, 28}, std::vector<uint8_t>(4 * 28 * 28, 1)));
  testing::write_bytes(dir.file("m/t10k-labels-idx1-ubyte"), testing::idx_bytes({4}, test_labels));
  DataOptions opt;
  opt.dataset = "mnist";
  opt.root = dir.file("m");
  opt.val_fraction = 0.25;
  Splits s = open_splits(opt, 3);
  EXPECT_EQ(s.train->size(), 15u);
  EXPECT_EQ(s.val->size(), 5u);
  EXPECT_EQ(s.test->size(), 4u);

  // CIFAR-100 root: train.bin and test.bin.
  std::string rec(2 + 3072, '\0');
  rec[0] = 3, rec[1] = 57;
  testing::write_bytes(dir.file("c/train.bin"), rec + rec + rec + rec);
  testing::write_bytes(dir.file("c/test.bin"), rec);
  opt.dataset = "cifar100";
  opt.root = dir.file("c");
  opt.val_fraction = 0.5;
  s = open_splits(opt, 3);
  EXPECT_EQ(s.train->size(), 2u);
  EXPECT_EQ(s.val->size(), 2u);
  EXPECT_EQ(s.test->size(), 1u);
  EXPECT_EQ(s.test->label(0), 57);
  EXPECT_EQ(s.test->num_classes(), 100);
}

TEST(Registry, RealFashionMnistDefaultRoot) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "no Fashion-MNIST";
  DataOptions opt;  // defaults: fashion-mnist, val 0.1
  Splits s = open_splits(opt, 0);
  EXPECT_EQ(s.train->size(), 54000u);
  EXPECT_EQ(s.val->size(), 6000u);
  EXPECT_EQ(s.test->size(), 10000u);
  EXPECT_EQ(s.train->shape(), (ImageShape{1, 28, 28}));
}

TEST(Registry, DefaultNormalization) {
  std::vector<float> m, s;
  default_normalization("fashion-mnist", 1, m, s);
  EXPECT_EQ(m, (std::vector<float>{0.2860f}));
  EXPECT_EQ(s, (std::vector<float>{0.3530f}));
  default_normalization("cifar10", 3, m, s);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_FLOAT_EQ(m[2], 0.4465f);
  default_normalization("fashion-mnist", 3, m, s);  // repeated
  EXPECT_EQ(m, (std::vector<float>(3, 0.2860f)));
  default_normalization("cifar10", 1, m, s);  // averaged
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(m[0], (0.4914f + 0.4822f + 0.4465f) / 3.f, 1e-6);
  default_normalization("cifar10", 0, m, s);  // the dataset's own channel count
  EXPECT_EQ(m.size(), 3u);
  default_normalization("mnist", 0, m, s);
  EXPECT_EQ(m, (std::vector<float>{0.1307f}));
  EXPECT_THROW(default_normalization("mnist", -1, m, s), util::Error);
  for (const std::string& name : dataset_names()) EXPECT_NO_THROW(default_normalization(name, 3, m, s)) << name;
}

}  // namespace
}  // namespace oqa::data
