// Process memory policy: keep freed blocks in the heap so training steps do not page-fault their tensors back
// in.
#pragma once

namespace oqa::util {

// glibc: blocks under 32 MiB come from the heap instead of fresh mmap pages, and freed memory is not returned
// to the system between steps (RSS stays at the peak step's). Saves ~10% of a sandwich training step, whose
// activations are freed and reallocated every subnet (docs/performance.md). No-op on other C libraries.
void keep_freed_memory();

}  // namespace oqa::util
