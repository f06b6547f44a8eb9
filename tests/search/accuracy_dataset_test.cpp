// Accuracy dataset: deterministic subnet list, cache written as it grows, an interrupted build resumes and
// measures only what is missing, other settings rebuild.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "oqa/search/accuracy_dataset.h"
#include "oqa/util/error.h"
#include "search/search_test_support.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

double fake_top1(const space::Space& space, const space::Subnet& s) {
  return static_cast<double>(space.hash(s) % 10000) / 100.0;
}

}  // namespace

TEST(AccuracyDataset, SubnetListIsDeterministicAndStartsWithLargestAndSmallest) {
  auto space = test::small_space();
  auto norm = [&](space::Subnet s) { return space::apply_stage_quant(*space, std::move(s), "w2a2"); };
  const auto a = search::accuracy_subnets(*space, 30, 9, norm), b = search::accuracy_subnets(*space, 40, 9, norm);
  ASSERT_EQ(a.size(), 30u);
  EXPECT_EQ(a[0], norm(space->largest()));
  EXPECT_EQ(a[1], norm(space->smallest()));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "a longer list extends the shorter one";
  std::set<uint64_t> distinct;
  for (const auto& s : a) {
    distinct.insert(space->hash(s));
    for (const auto& q : s.quant) EXPECT_EQ(q.weight_bits, 2);
  }
  EXPECT_EQ(distinct.size(), a.size());
}

TEST(AccuracyDataset, InterruptedBuildResumesAndMeasuresOnlyTheRest) {
  TestDir dir;
  auto space = test::small_space();
  const auto subnets = search::accuracy_subnets(*space, 20, 1, {});
  const std::string path = (dir.path / "accuracy.json").string();
  const nlohmann::json settings = {{"stage", "w4a4"}, {"val_images", 100}};
  int calls = 0;
  auto dying = [&](const space::Subnet& s) {
    if (++calls == 8) throw std::runtime_error("killed");
    return fake_top1(*space, s);
  };
  EXPECT_THROW(search::build_accuracy_dataset(*space, subnets, dying, path, settings, 3), std::runtime_error);
  ASSERT_TRUE(std::filesystem::exists(path)) << "saved every 3 measurements";

  int resumed = 0;
  auto counting = [&](const space::Subnet& s) {
    ++resumed;
    return fake_top1(*space, s);
  };
  const auto records = search::build_accuracy_dataset(*space, subnets, counting, path, settings, 3);
  EXPECT_EQ(resumed, 20 - 6) << "the 6 measurements saved before the crash are not repeated";
  ASSERT_EQ(records.size(), 20u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].subnet, subnets[i]);
    EXPECT_DOUBLE_EQ(records[i].top1, fake_top1(*space, subnets[i]));
  }
  resumed = 0;
  search::build_accuracy_dataset(*space, subnets, counting, path, settings, 3);
  EXPECT_EQ(resumed, 0) << "complete cache";

  // Other settings (e.g. another checkpoint): the old file is set aside and everything is measured again.
  resumed = 0;
  search::build_accuracy_dataset(*space, subnets, counting, path, {{"stage", "w2a2"}}, 3);
  EXPECT_EQ(resumed, 20);
  EXPECT_TRUE(std::filesystem::exists(path + ".old"));
}

TEST(AccuracyDataset, ForeignFileIsAClearError) {
  TestDir dir;
  auto space = test::small_space();
  const std::string path = (dir.path / "accuracy.json").string();
  { std::ofstream(path) << R"({"format": "something-else"})"; }
  try {
    search::build_accuracy_dataset(*space, search::accuracy_subnets(*space, 2, 1, {}),
                                   [](const space::Subnet&) { return 1.0; }, path, {}, 1);
    FAIL() << "accepted";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not an accuracy dataset"), std::string::npos) << e.what();
  }
}
