// IDX reader tests: hand-written gzip and raw files read back pixel by pixel, and every malformed
// case (truncated, wrong magic, count or size mismatch, corrupt gzip, bad label) naming its file.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "data/test_files.h"
#include "oqa/data/idx.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

using testing::TempDir;

constexpr uint32_t kCount = 5, kRows = 3, kCols = 4;

uint8_t pixel(size_t i, size_t p) { return static_cast<uint8_t>((i * 31 + p * 7 + 3) & 0xFF); }

std::vector<uint8_t> image_data(uint32_t count = kCount) {
  std::vector<uint8_t> v;
  for (size_t i = 0; i < count; ++i)
    for (size_t p = 0; p < kRows * kCols; ++p) v.push_back(pixel(i, p));
  return v;
}

std::vector<uint8_t> label_data(uint32_t count = kCount) {
  std::vector<uint8_t> v;
  for (size_t i = 0; i < count; ++i) v.push_back(static_cast<uint8_t>((i * 3) % 10));
  return v;
}

std::string images_file() { return testing::idx_bytes({kCount, kRows, kCols}, image_data()); }
std::string labels_file() { return testing::idx_bytes({kCount}, label_data()); }

void expect_contents(const DatasetPtr& d) {
  ASSERT_EQ(d->size(), kCount);
  EXPECT_EQ(d->shape(), (ImageShape{1, kRows, kCols}));
  EXPECT_EQ(d->num_classes(), 10);
  std::vector<uint8_t> img(kRows * kCols);
  for (size_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(d->label(i), static_cast<int64_t>((i * 3) % 10));
    d->read_image(i, img.data());
    for (size_t p = 0; p < img.size(); ++p) ASSERT_EQ(img[p], pixel(i, p)) << "sample " << i << " pixel " << p;
  }
}

// Expects load_idx to throw an oqa Error whose message names `file` and contains `words`.
void expect_error(const std::string& images, const std::string& labels, const std::string& file,
                  const std::string& words) {
  try {
    load_idx(images, labels, "test");
    FAIL() << "no error for " << file;
  } catch (const util::Error& e) {
    EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Idx, ReadsRawFiles) {
  TempDir dir;
  testing::write_bytes(dir.file("img"), images_file());
  testing::write_bytes(dir.file("lbl"), labels_file());
  expect_contents(load_idx(dir.file("img"), dir.file("lbl"), "raw"));
}

TEST(Idx, ReadsGzipFiles) {
  TempDir dir;
  testing::write_gzip(dir.file("img.gz"), images_file());
  testing::write_gzip(dir.file("lbl.gz"), labels_file());
  DatasetPtr d = load_idx(dir.file("img.gz"), dir.file("lbl.gz"), "gz");
  EXPECT_EQ(d->name(), "gz");
  expect_contents(d);
  // Mixed: gzip images with raw labels.
  testing::write_bytes(dir.file("lbl"), labels_file());
  expect_contents(load_idx(dir.file("img.gz"), dir.file("lbl"), "mixed"));
}

TEST(Idx, MissingFileIsNamed) {
  TempDir dir;
  testing::write_bytes(dir.file("lbl"), labels_file());
  expect_error(dir.file("nope.gz"), dir.file("lbl"), dir.file("nope.gz"), "not found");
}

TEST(Idx, TruncatedRawFile) {
  TempDir dir;
  std::string img = images_file();
  testing::write_bytes(dir.file("img"), img.substr(0, img.size() - 5));
  testing::write_bytes(dir.file("lbl"), labels_file());
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("img"), "truncated");
  testing::write_bytes(dir.file("img"), img.substr(0, 10));  // inside the header
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("img"), "truncated");
}

TEST(Idx, TruncatedGzipFile) {
  TempDir dir;
  std::vector<uint8_t> noisy(4000);
  std::mt19937 rng(7);
  for (uint8_t& b : noisy) b = static_cast<uint8_t>(rng());
  testing::write_gzip(dir.file("img.gz"), testing::idx_bytes({4000 / 16, 4, 4}, noisy));
  const std::string gz = testing::read_bytes(dir.file("img.gz"));
  testing::write_bytes(dir.file("img.gz"), gz.substr(0, gz.size() / 2));
  testing::write_bytes(dir.file("lbl"), testing::idx_bytes({250}, std::vector<uint8_t>(250, 1)));
  expect_error(dir.file("img.gz"), dir.file("lbl"), dir.file("img.gz"), "truncated");
}

TEST(Idx, CorruptGzipFile) {
  TempDir dir;
  std::vector<uint8_t> noisy(4000);
  std::mt19937 rng(11);
  for (uint8_t& b : noisy) b = static_cast<uint8_t>(rng() % 16);  // compressible, so a real deflate stream
  testing::write_gzip(dir.file("img.gz"), testing::idx_bytes({250, 4, 4}, noisy));
  std::string gz = testing::read_bytes(dir.file("img.gz"));
  for (size_t i = gz.size() / 3; i < gz.size() / 3 + 12; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5A);
  testing::write_bytes(dir.file("img.gz"), gz);
  testing::write_bytes(dir.file("lbl"), testing::idx_bytes({250}, std::vector<uint8_t>(250, 1)));
  expect_error(dir.file("img.gz"), dir.file("lbl"), dir.file("img.gz"), "");
  try {
    load_idx(dir.file("img.gz"), dir.file("lbl"), "t");
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("gzip"), std::string::npos) << e.what();
  }
}

TEST(Idx, WrongMagic) {
  TempDir dir;
  testing::write_bytes(dir.file("lbl"), labels_file());
  testing::write_bytes(dir.file("img"), testing::idx_bytes({kCount, kRows, kCols}, image_data(), 0x12345678));
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("img"), "magic number 0x12345678");
  // A labels file where an images file belongs: 1 dimension instead of 3.
  expect_error(dir.file("lbl"), dir.file("lbl"), dir.file("lbl"), "expected 3");
  // Not unsigned bytes (0x0D = float).
  testing::write_bytes(dir.file("img"), testing::idx_bytes({kCount, kRows, kCols}, image_data(), 0x00000D03));
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("img"), "data type");
}

TEST(Idx, SizeMismatchBetweenHeaderAndData) {
  TempDir dir;
  testing::write_bytes(dir.file("lbl"), labels_file());
  std::vector<uint8_t> more = image_data(kCount + 1);  // header says kCount images
  testing::write_bytes(dir.file("img"), testing::idx_bytes({kCount, kRows, kCols}, more));
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("img"), "size mismatch");
}

TEST(Idx, ImageLabelCountMismatch) {
  TempDir dir;
  testing::write_bytes(dir.file("img"), images_file());
  testing::write_bytes(dir.file("lbl"), testing::idx_bytes({kCount - 1}, label_data(kCount - 1)));
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("lbl"), "label count 4 does not match the 5 images");
}

TEST(Idx, LabelOutOfRange) {
  TempDir dir;
  testing::write_bytes(dir.file("img"), images_file());
  std::vector<uint8_t> labels = label_data();
  labels[2] = 10;
  testing::write_bytes(dir.file("lbl"), testing::idx_bytes({kCount}, labels));
  expect_error(dir.file("img"), dir.file("lbl"), dir.file("lbl"), "label 10 of sample 2");
}

TEST(Idx, RealFashionMnist) {
  const std::string root = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(root + "train-images-idx3-ubyte.gz")) GTEST_SKIP() << "no Fashion-MNIST in " << root;
  DatasetPtr train = load_idx(root + "train-images-idx3-ubyte.gz", root + "train-labels-idx1-ubyte.gz", "fm");
  DatasetPtr test = load_idx(root + "t10k-images-idx3-ubyte.gz", root + "t10k-labels-idx1-ubyte.gz", "fm-test");
  EXPECT_EQ(train->size(), 60000u);
  EXPECT_EQ(test->size(), 10000u);
  EXPECT_EQ(train->num_classes(), 10);
  EXPECT_EQ(train->shape(), (ImageShape{1, 28, 28}));
  std::vector<int> histogram(10, 0), test_histogram(10, 0);
  for (size_t i = 0; i < train->size(); ++i) histogram[static_cast<size_t>(train->label(i))]++;
  for (size_t i = 0; i < test->size(); ++i) test_histogram[static_cast<size_t>(test->label(i))]++;
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(histogram[static_cast<size_t>(c)], 6000) << "class " << c;
    EXPECT_EQ(test_histogram[static_cast<size_t>(c)], 1000) << "class " << c;
  }
  // Images are not blank: the first one has a spread of grey levels.
  std::vector<uint8_t> img(28 * 28);
  train->read_image(0, img.data());
  int lo = 255, hi = 0;
  for (uint8_t v : img) lo = std::min<int>(lo, v), hi = std::max<int>(hi, v);
  EXPECT_EQ(lo, 0);
  EXPECT_GT(hi, 200);
}

}  // namespace
}  // namespace oqa::data
