// LibTorch thread-count set-up.
#include "oqa/util/threads.h"

#include <ATen/Parallel.h>

#include <thread>

#include "oqa/util/error.h"

namespace oqa::util {

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int set_threads(int n) {
  if (n < 0) throw usage_error("thread count must be >= 0 (0 = all cores)").field("threads").value(std::to_string(n));
  if (n == 0) n = hardware_threads();
  at::set_num_threads(n);
  return at::get_num_threads();
}

}  // namespace oqa::util
