// CIFAR reader tests: hand-written 10- and 100-class batch files read back, truncation and bad labels.
#include <gtest/gtest.h>

#include "data/test_files.h"
#include "oqa/data/cifar.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

using testing::TempDir;

constexpr size_t kImage = 3 * 32 * 32;

uint8_t pixel(size_t record, size_t p) { return static_cast<uint8_t>((record * 53 + p * 13 + p / 1024) & 0xFF); }

// Records with the given label bytes (1 for CIFAR-10, 2 for CIFAR-100) each, pixels from pixel().
std::string records(const std::vector<std::vector<uint8_t>>& labels, size_t first_record = 0) {
  std::string s;
  for (size_t r = 0; r < labels.size(); ++r) {
    for (uint8_t l : labels[r]) s.push_back(static_cast<char>(l));
    for (size_t p = 0; p < kImage; ++p) s.push_back(static_cast<char>(pixel(first_record + r, p)));
  }
  return s;
}

void expect_pixels(const DatasetPtr& d) {
  std::vector<uint8_t> img(kImage);
  for (size_t i = 0; i < d->size(); ++i) {
    d->read_image(i, img.data());
    for (size_t p = 0; p < kImage; ++p) ASSERT_EQ(img[p], pixel(i, p)) << "record " << i << " pixel " << p;
  }
}

TEST(Cifar, Reads10ClassRecords) {
  TempDir dir;
  testing::write_bytes(dir.file("b1.bin"), records({{3}, {9}, {0}}));
  DatasetPtr d = load_cifar({dir.file("b1.bin")}, 10, "c10");
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ(d->shape(), (ImageShape{3, 32, 32}));
  EXPECT_EQ(d->num_classes(), 10);
  EXPECT_EQ(d->label(0), 3);
  EXPECT_EQ(d->label(1), 9);
  EXPECT_EQ(d->label(2), 0);
  expect_pixels(d);
}

TEST(Cifar, Reads100ClassRecordsWithFineLabels) {
  TempDir dir;
  testing::write_bytes(dir.file("train.bin"), records({{19, 99}, {0, 42}, {7, 0}}));
  DatasetPtr d = load_cifar({dir.file("train.bin")}, 100, "c100");
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ(d->num_classes(), 100);
  EXPECT_EQ(d->label(0), 99);
  EXPECT_EQ(d->label(1), 42);
  EXPECT_EQ(d->label(2), 0);
  expect_pixels(d);
}

TEST(Cifar, ConcatenatesBatchFiles) {
  TempDir dir;
  testing::write_bytes(dir.file("b1.bin"), records({{1}, {2}}));
  testing::write_bytes(dir.file("b2.bin"), records({{5}}, 2));
  DatasetPtr d = load_cifar({dir.file("b1.bin"), dir.file("b2.bin")}, 10, "c10");
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ(d->label(2), 5);
  expect_pixels(d);
}

TEST(Cifar, TruncatedRecordNamesFile) {
  TempDir dir;
  std::string bytes = records({{1}, {2}, {3}});
  testing::write_bytes(dir.file("b1.bin"), bytes.substr(0, bytes.size() - 100));
  try {
    load_cifar({dir.file("b1.bin")}, 10, "c10");
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("b1.bin")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Cifar, LabelOutOfRangeNamesFile) {
  TempDir dir;
  testing::write_bytes(dir.file("b1.bin"), records({{1}, {10}}));
  try {
    load_cifar({dir.file("b1.bin")}, 10, "c10");
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("b1.bin")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("label 10 of record 1"), std::string::npos) << e.what();
  }
}

TEST(Cifar, MissingFileAndBadClassCount) {
  TempDir dir;
  EXPECT_THROW(load_cifar({dir.file("none.bin")}, 10, "c10"), util::Error);
  EXPECT_THROW(load_cifar({dir.file("none.bin")}, 20, "c20"), util::Error);
  EXPECT_THROW(load_cifar({}, 10, "c10"), util::Error);
}

}  // namespace
}  // namespace oqa::data
