// keep_freed_memory: glibc mallopt settings for a steady training loop.
#include "oqa/util/memory.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace oqa::util {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest accepted value on 64-bit
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace oqa::util
