// parallel_chunks covers every chunk once and really uses LibTorch's intra-op threads.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <atomic>
#include <mutex>
#include <set>
#include <vector>

#include "oqa/quant/parallel.h"

namespace oqa::quant {
namespace {

TEST(ParallelChunks, EveryChunkOnceOnSeveralThreads) {
  const int saved = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<std::atomic<int>> hits(1000);
  std::mutex mu;
  std::set<int> threads;
  detail::parallel_chunks(1000, [&](int64_t b, int64_t e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      threads.insert(at::get_thread_num());
    }
    for (int64_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  if (at::get_num_threads() > 1) {
    EXPECT_EQ(threads.size(), 2u);
  }
  at::set_num_threads(saved);
}

TEST(ParallelChunks, EmptyAndSingle) {
  int calls = 0;
  detail::parallel_chunks(0, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  detail::parallel_chunks(1, [&](int64_t b, int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1);
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace oqa::quant
