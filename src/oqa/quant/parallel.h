// Chunk-parallel loops on LibTorch's intra-op threads (internal to oqa::quant).
#pragma once

#include <cstdint>
#include <functional>

namespace oqa::quant::detail {

// Calls f(begin, end) on disjoint sub-ranges covering [0, n), in parallel on at::get_num_threads()
// threads; each thread gets one contiguous range, so work per chunk index is deterministic.
void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f);

}  // namespace oqa::quant::detail
