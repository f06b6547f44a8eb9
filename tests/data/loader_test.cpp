// Loader tests: determinism across worker counts, coverage, drop_last, resume by skipping, epoch
// orders, normalisation, error propagation from workers, and clean shutdown mid-epoch.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "oqa/data/batch_builder.h"
#include "oqa/data/loader.h"
#include "oqa/data/synthetic.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

// Sample i: pixels 0..2 hold i in base 256 (little end first), the rest 7; label i % 7. Counts reads.
class IndexDataset : public Dataset {
 public:
  explicit IndexDataset(size_t n, int sleep_us = 0, size_t fail_at = SIZE_MAX)
      : n_(n), sleep_us_(sleep_us), fail_at_(fail_at) {}
  size_t size() const override { return n_; }
  ImageShape shape() const override { return {1, 2, 2}; }
  int64_t num_classes() const override { return 7; }
  int64_t label(size_t i) const override { return static_cast<int64_t>(i % 7); }
  void read_image(size_t i, uint8_t* dst) const override {
    if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    if (i == fail_at_) throw util::input_error("cannot decode image: bad bytes").file("sample_" + std::to_string(i) + ".png");
    reads++;
    dst[0] = static_cast<uint8_t>(i & 0xFF);
    dst[1] = static_cast<uint8_t>((i >> 8) & 0xFF);
    dst[2] = static_cast<uint8_t>((i >> 16) & 0xFF);
    dst[3] = 7;
  }
  std::string name() const override { return "index"; }
  mutable std::atomic<size_t> reads{0};

 private:
  size_t n_;
  int sleep_us_;
  size_t fail_at_;
};

// The dataset indices encoded in a batch (no normalisation, no augmentation: pixel = byte / 255).
std::vector<size_t> decode(const Batch& b) {
  std::vector<size_t> out;
  const at::Tensor bytes = (b.images * 255.f).round().to(torch::kLong).reshape({b.images.size(0), 4});
  for (int64_t j = 0; j < bytes.size(0); ++j)
    out.push_back(static_cast<size_t>(bytes[j][0].item<int64_t>() + 256 * bytes[j][1].item<int64_t>() +
                                      65536 * bytes[j][2].item<int64_t>()));
  return out;
}

std::vector<Batch> whole_epoch(Loader& loader, int64_t epoch, int64_t skip = 0) {
  loader.start_epoch(epoch, skip);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

LoaderOptions plain(int workers, int64_t batch = 64) {
  LoaderOptions o;
  o.batch_size = batch;
  o.workers = workers;
  o.seed = 42;
  return o;
}

TEST(Loader, EverySampleExactlyOncePerEpoch) {
  auto d = std::make_shared<IndexDataset>(1000);
  Loader loader(d, plain(2));
  EXPECT_EQ(loader.batches_per_epoch(), 16);
  std::vector<Batch> batches = whole_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 16u);
  std::vector<int> seen(1000, 0);
  std::vector<size_t> first_order;
  for (size_t k = 0; k < batches.size(); ++k) {
    const Batch& b = batches[k];
    EXPECT_EQ(b.index, static_cast<int64_t>(k));
    EXPECT_EQ(b.images.dtype(), torch::kFloat32);
    EXPECT_EQ(b.labels.dtype(), torch::kInt64);
    EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{k == 15 ? 40 : 64, 1, 2, 2}));
    const std::vector<size_t> idx = decode(b);
    for (size_t j = 0; j < idx.size(); ++j) {
      ASSERT_LT(idx[j], 1000u);
      seen[idx[j]]++;
      EXPECT_EQ(b.labels[static_cast<int64_t>(j)].item<int64_t>(), static_cast<int64_t>(idx[j] % 7));
      first_order.push_back(idx[j]);
    }
  }
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
  EXPECT_EQ(first_order, Loader::epoch_order(1000, true, 42, 0));
  // Shuffled: not the identity order.
  std::vector<size_t> identity(1000);
  for (size_t i = 0; i < 1000; ++i) identity[i] = i;
  EXPECT_NE(first_order, identity);
}

TEST(Loader, NoShuffleKeepsDatasetOrder) {
  auto d = std::make_shared<IndexDataset>(100);
  LoaderOptions o = plain(1, 30);
  o.shuffle = false;
  Loader loader(d, o);
  std::vector<size_t> all;
  for (const Batch& b : whole_epoch(loader, 3))
    for (size_t i : decode(b)) all.push_back(i);
  ASSERT_EQ(all.size(), 100u);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(all[i], i);
}

TEST(Loader, DropLastDropsTheShortBatch) {
  auto d = std::make_shared<IndexDataset>(1000);
  LoaderOptions o = plain(2);
  o.drop_last = true;
  Loader loader(d, o);
  EXPECT_EQ(loader.batches_per_epoch(), 15);
  std::vector<Batch> batches = whole_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 15u);
  std::set<size_t> seen;
  for (const Batch& b : batches) {
    EXPECT_EQ(b.images.size(0), 64);
    for (size_t i : decode(b)) seen.insert(i);
  }
  EXPECT_EQ(seen.size(), 960u);
  // Exact multiple: nothing dropped.
  Loader exact(std::make_shared<IndexDataset>(128), o);
  EXPECT_EQ(exact.batches_per_epoch(), 2);
}

// Synthetic images with every augmentation on; returns all batches of epochs 0 and 1.
std::vector<Batch> augmented_run(int workers, int prefetch = 4) {
  static DatasetPtr d = make_synthetic(300, ImageShape{3, 12, 12}, 10, 5);
  LoaderOptions o = plain(workers, 32);
  o.prefetch = prefetch;
  o.transform.pad_crop = 2;
  o.transform.hflip = true;
  o.transform.mean = {0.5f, 0.4f, 0.3f};
  o.transform.std = {0.2f, 0.25f, 0.3f};
  Loader loader(d, o);
  std::vector<Batch> out = whole_epoch(loader, 0);
  for (Batch& b : whole_epoch(loader, 1)) out.push_back(std::move(b));
  return out;
}

TEST(Loader, SameSeedSameBatchesWhateverTheWorkers) {
  const std::vector<Batch> ref = augmented_run(0);
  ASSERT_EQ(ref.size(), 20u);
  for (auto [workers, prefetch] : std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {3, 1}}) {
    const std::vector<Batch> got = augmented_run(workers, prefetch);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t k = 0; k < ref.size(); ++k) {
      EXPECT_EQ(got[k].index, ref[k].index);
      ASSERT_TRUE(torch::equal(got[k].images, ref[k].images)) << workers << " workers, batch " << k;
      ASSERT_TRUE(torch::equal(got[k].labels, ref[k].labels)) << workers << " workers, batch " << k;
    }
  }
}

TEST(Loader, AugmentationUsesTheDocumentedPerSampleSeed) {
  DatasetPtr d = make_synthetic(50, ImageShape{1, 10, 10}, 4, 9);
  LoaderOptions o = plain(2, 16);
  o.transform.pad_crop = 3;
  o.transform.hflip = true;
  Loader loader(d, o);
  std::vector<Batch> batches = whole_epoch(loader, 2);
  const std::vector<size_t> order = Loader::epoch_order(50, true, o.seed, 2);
  std::vector<uint8_t> img(100), scratch;
  bool changed_any = false;
  for (size_t pos = 0; pos < 50; ++pos) {
    d->read_image(order[pos], img.data());
    const std::vector<uint8_t> raw = img;
    std::mt19937_64 rng(BatchBuilder::sample_seed(o.seed, 2, pos));
    augment(img.data(), d->shape(), o.transform, rng, scratch);
    changed_any = changed_any || img != raw;
    const at::Tensor got = batches[pos / 16].images[static_cast<int64_t>(pos % 16)].reshape({100});
    for (int64_t p = 0; p < 100; ++p)
      ASSERT_FLOAT_EQ(got[p].item<float>(), static_cast<float>(img[static_cast<size_t>(p)]) / 255.f) << pos;
  }
  EXPECT_TRUE(changed_any);
}

TEST(Loader, DifferentEpochsAndSeedsGiveDifferentOrders) {
  auto d = std::make_shared<IndexDataset>(200);
  Loader a(d, plain(1, 50));
  const std::vector<size_t> e0 = decode(whole_epoch(a, 0)[0]), e1 = decode(whole_epoch(a, 1)[0]);
  const std::vector<size_t> e0_again = decode(whole_epoch(a, 0)[0]);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, e0_again);
  LoaderOptions other = plain(1, 50);
  other.seed = 43;
  Loader b(d, other);
  EXPECT_NE(decode(whole_epoch(b, 0)[0]), e0);
}

TEST(Loader, SkipBatchesResumesTheSameEpochWithoutLoadingSkipped) {
  auto d = std::make_shared<IndexDataset>(500);
  for (int workers : {0, 2}) {
    Loader full(d, plain(workers, 32));
    const std::vector<Batch> all = whole_epoch(full, 4);
    ASSERT_EQ(all.size(), 16u);
    auto fresh = std::make_shared<IndexDataset>(500);
    Loader resumed(fresh, plain(workers, 32));
    const std::vector<Batch> tail = whole_epoch(resumed, 4, 5);
    ASSERT_EQ(tail.size(), 11u);
    for (size_t k = 0; k < tail.size(); ++k) {
      EXPECT_EQ(tail[k].index, static_cast<int64_t>(k + 5));
      EXPECT_TRUE(torch::equal(tail[k].images, all[k + 5].images));
      EXPECT_TRUE(torch::equal(tail[k].labels, all[k + 5].labels));
    }
    EXPECT_EQ(fresh->reads.load(), 500u - 5 * 32);  // skipped batches were never read
    // Skipping everything gives an empty epoch.
    EXPECT_TRUE(whole_epoch(resumed, 4, 16).empty());
    EXPECT_THROW(resumed.start_epoch(4, 17), util::Error);
  }
}

TEST(Loader, NextWithoutStartEpochStartsEpochZero) {
  auto d = std::make_shared<IndexDataset>(100);
  Loader a(d, plain(2, 10)), b(d, plain(2, 10));
  auto first = a.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(a.epoch(), 0);
  EXPECT_TRUE(torch::equal(first->images, whole_epoch(b, 0)[0].images));
}

TEST(Loader, NormalisesWithMeanAndStd) {
  auto d = std::make_shared<IndexDataset>(3);
  LoaderOptions o = plain(0, 3);
  o.shuffle = false;
  o.transform.mean = {0.1f};
  o.transform.std = {0.5f};
  Loader loader(d, o);
  Batch b = *loader.next();
  // Sample 2: bytes (2, 0, 0, 7).
  EXPECT_NEAR(b.images[2][0][0][0].item<float>(), (2.f / 255.f - 0.1f) / 0.5f, 1e-6);
  EXPECT_NEAR(b.images[2][0][1][1].item<float>(), (7.f / 255.f - 0.1f) / 0.5f, 1e-6);
}

TEST(Loader, WorkerErrorReachesNextAsTheSameError) {
  for (int workers : {0, 1, 2}) {
    auto d = std::make_shared<IndexDataset>(200, 0, 37);
    LoaderOptions o = plain(workers, 10);
    o.shuffle = false;
    Loader loader(d, o);
    for (int round = 0; round < 2; ++round) {  // and again after a restart
      loader.start_epoch(0);
      for (int k = 0; k < 3; ++k) ASSERT_TRUE(loader.next().has_value()) << workers;
      try {
        loader.next();
        FAIL() << "no error with " << workers << " workers";
      } catch (const util::Error& e) {
        EXPECT_EQ(e.kind(), util::ErrorKind::kInput);
        EXPECT_EQ(e.file_name(), "sample_37.png");
        EXPECT_NE(std::string(e.what()).find("cannot decode image"), std::string::npos);
      }
      EXPECT_FALSE(loader.next().has_value());  // the epoch ended with the error
    }
  }
}

TEST(Loader, DestroyMidEpochDoesNotHang) {
  using Clock = std::chrono::steady_clock;
  auto d = std::make_shared<IndexDataset>(100000, 200);  // 0.2 ms per image: an epoch would take minutes
  const auto t0 = Clock::now();
  {
    Loader loader(d, plain(2, 16));
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    ASSERT_TRUE(loader.next().has_value());
  }
  {
    Loader loader(d, plain(3, 16));
    loader.start_epoch(0);  // never read from: workers fill their queues and wait
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    loader.start_epoch(1);  // restart mid-epoch
  }
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 5.0);
}

TEST(Loader, RejectsBadOptions) {
  auto d = std::make_shared<IndexDataset>(10);
  LoaderOptions o = plain(1);
  o.batch_size = 0;
  EXPECT_THROW(Loader(d, o), util::Error);
  o = plain(-1);
  EXPECT_THROW(Loader(d, o), util::Error);
  o = plain(1);
  o.transform.mean = {0.1f, 0.2f};  // dataset has 1 channel
  o.transform.std = {0.3f, 0.3f};
  EXPECT_THROW(Loader(d, o), util::Error);
  o = plain(1);
  o.transform.mean = {0.1f};
  o.transform.std = {0.f};
  EXPECT_THROW(Loader(d, o), util::Error);
  o = plain(1);
  o.transform.pad_crop = -1;
  EXPECT_THROW(Loader(d, o), util::Error);
  // An empty dataset: no batches.
  Loader empty(std::make_shared<IndexDataset>(0), plain(2));
  EXPECT_EQ(empty.batches_per_epoch(), 0);
  empty.start_epoch(0);
  EXPECT_FALSE(empty.next().has_value());
}

}  // namespace
}  // namespace oqa::data

namespace oqa::data {
namespace {

// Shard r of 3 of every batch, concatenated over r, is the unsharded batch (same samples, same augmentation);
// a last batch smaller than the shard count is dropped on every shard, a larger one is split.
TEST(LoaderShards, ConcatenatedShardsAreTheUnshardedBatches) {
  auto data = make_synthetic(53, {1, 8, 8}, 4, 2);  // 53 = 5 x 10 + 3: the last batch (3) is split 1 + 1 + 1
  LoaderOptions o;
  o.batch_size = 10;
  o.workers = 1;
  o.seed = 9;
  o.transform.pad_crop = 2;
  o.transform.hflip = true;
  Loader whole(data, o);
  std::vector<std::unique_ptr<Loader>> shards;
  for (int r = 0; r < 3; ++r) {
    LoaderOptions s = o;
    s.shard_rank = r;
    s.shard_count = 3;
    shards.push_back(std::make_unique<Loader>(data, s));
  }
  ASSERT_EQ(whole.batches_per_epoch(), 6);
  for (auto& s : shards) ASSERT_EQ(s->batches_per_epoch(), 6);
  for (int64_t epoch : {0, 1}) {
    whole.start_epoch(epoch);
    for (auto& s : shards) s->start_epoch(epoch);
    while (auto b = whole.next()) {
      std::vector<torch::Tensor> images, labels;
      for (auto& s : shards) {
        auto part = s->next();
        ASSERT_TRUE(part);
        EXPECT_EQ(part->global_size, b->images.size(0));
        images.push_back(part->images);
        labels.push_back(part->labels);
      }
      EXPECT_TRUE(torch::equal(torch::cat(images), b->images)) << "batch " << b->index;
      EXPECT_TRUE(torch::equal(torch::cat(labels), b->labels)) << "batch " << b->index;
    }
  }
  // 52 images: the last batch of 2 cannot give each of 3 shards a sample, so every shard drops it.
  LoaderOptions s = o;
  s.shard_count = 3;
  EXPECT_EQ(Loader(make_synthetic(52, {1, 8, 8}, 4, 2), s).batches_per_epoch(), 5);
  EXPECT_EQ(Loader(make_synthetic(52, {1, 8, 8}, 4, 2), o).batches_per_epoch(), 6);
  s.batch_size = 2;  // fewer samples per batch than shards
  EXPECT_THROW(Loader(data, s), util::Error);
}

}  // namespace
}  // namespace oqa::data
