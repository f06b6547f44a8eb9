// Synthetic dataset for tests and smoke runs: class-dependent oriented gratings with seeded
// shifts, contrast and noise; deterministic, needs no files, and a small CNN learns it well.
#pragma once

#include "oqa/data/dataset.h"

namespace oqa::data {

// n samples of `shape`; sample i's label and pixels are pure functions of (seed, i), generated
// on demand (no per-sample memory). Classes are about balanced.
DatasetPtr make_synthetic(size_t n, ImageShape shape, int64_t num_classes, uint64_t seed);

}  // namespace oqa::data
