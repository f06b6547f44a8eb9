// BatchBuilder: turns a run of sample indices into one Batch (read, augment, normalise) with
// plain loops into preallocated tensors; shared by the loader's workers and its inline mode.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <vector>

#include "oqa/data/loader.h"

namespace oqa::data {

// Per-thread buffers reused across batches.
struct BatchScratch {
  std::vector<uint8_t> image, augment;
};

class BatchBuilder {
 public:
  BatchBuilder(DatasetPtr dataset, const LoaderOptions& options);  // validates the transform

  // Batch `index` of an epoch: samples order[index * batch_size, ...), at most batch_size of them (this
  // shard's part of them).
  // Returns nullopt when `stop` becomes true mid-batch.
  std::optional<Batch> build(const std::vector<size_t>& order, int64_t epoch, int64_t index, BatchScratch& scratch,
                             const std::atomic<bool>* stop = nullptr) const;

  // Seed of the augmentation RNG of sample `position` (0-based within the epoch's order).
  static uint64_t sample_seed(uint64_t seed, int64_t epoch, size_t position);

 private:
  DatasetPtr dataset_;
  ImageShape shape_;
  int64_t num_classes_;
  int64_t batch_size_;
  uint64_t seed_;
  int shard_rank_, shard_count_;
  TransformOptions transform_;
  bool augment_;
  std::vector<float> lut_;  // [channel][256]
};

// The exception to hand to the caller of next(): oqa errors unchanged, anything else (LibTorch,
// std) becomes an internal error with the first line of its message (no stack dump).
std::exception_ptr as_oqa_error(std::exception_ptr e);

}  // namespace oqa::data
