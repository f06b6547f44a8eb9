// parallel_chunks: at::parallel_for, reached through libtorch when this file is built without OpenMP.
#include "oqa/quant/parallel.h"

#include <ATen/Parallel.h>
#include <ATen/TensorIterator.h>
#include <ATen/ops/empty.h>

namespace oqa::quant::detail {

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  if (n == 1 || at::get_num_threads() == 1 || at::in_parallel_region()) {
    f(0, n);
    return;
  }
#ifdef _OPENMP
  at::parallel_for(0, n, 1, f);
#else
  // LibTorch's OpenMP at::parallel_for is header-inline: compiled without -fopenmp (as oqa is) it runs
  // serially. TensorIterator::for_each calls it from inside libtorch, where OpenMP is on; iterate over a
  // dummy 1-D byte tensor of n elements and turn data pointers back into chunk indices.
  auto dummy = at::empty({n}, at::TensorOptions().dtype(at::kByte));
  const char* base = static_cast<const char*>(dummy.data_ptr());
  auto iter = at::TensorIteratorConfig()
                  .add_output(dummy)
                  .check_all_same_dtype(false)
                  .resize_outputs(false)
                  .build();
  iter.for_each(
      [&](char** data, const int64_t* /*strides*/, int64_t size0, int64_t size1) {
        // 1-D contiguous: size1 == 1 and data[0] points at element `begin`.
        int64_t begin = data[0] - base;
        f(begin, begin + size0 * size1);
      },
      /*grain_size=*/1);
#endif
}

}  // namespace oqa::quant::detail
