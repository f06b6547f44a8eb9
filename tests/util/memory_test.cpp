// keep_freed_memory: a 16 MiB block comes from the heap (not mmap) and stays there after free.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "oqa/util/memory.h"

#if defined(__SANITIZE_ADDRESS__)
#define OQA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OQA_ASAN 1
#endif
#endif

TEST(Memory, FreedBlocksStayInTheHeap) {
#if !defined(__GLIBC__) || defined(OQA_ASAN)
  GTEST_SKIP() << "glibc's own allocator only (AddressSanitizer replaces it)";
#else
  oqa::util::keep_freed_memory();
  const size_t size = 16u << 20;
  const struct mallinfo2 before = mallinfo2();
  char* p = static_cast<char*>(std::malloc(size));
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, size);
  const struct mallinfo2 held = mallinfo2();
  // glibc's default serves a block this size with its own mmap (hblkhd grows by it); here the heap does.
  EXPECT_LT(held.hblkhd, before.hblkhd + size);
  EXPECT_GE(held.arena, before.arena + size - (1u << 20));
  std::free(p);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_GE(after.arena, held.arena) << "the heap was trimmed back to the system";
  EXPECT_GE(after.fordblks, size - (1u << 20)) << "the freed block is kept as free heap memory";
#endif
}
