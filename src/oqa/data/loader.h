// Loader: deterministic, ordered, multi-threaded batching of a Dataset into float NCHW tensors.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "oqa/data/dataset.h"
#include "oqa/data/transforms.h"

namespace oqa::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  int workers = 2;   // 0 = load in the calling thread
  int prefetch = 4;  // batches queued ahead per worker
  uint64_t seed = 0;
  TransformOptions transform;
  // Data-parallel shard: each batch of the epoch is the same as without sharding, and shard r of n takes its
  // positions [len x r / n, len x (r + 1) / n). A last batch smaller than n is dropped (on every shard).
  int shard_rank = 0;
  int shard_count = 1;
};

struct Batch {
  torch::Tensor images;  // float32 NCHW, normalised
  torch::Tensor labels;  // int64 N
  int64_t index = 0;     // batch index within the epoch
  int64_t global_size = 0;  // samples of the whole batch over every shard (images.size(0) when unsharded)
};

// Batches come out in order 0, 1, 2, ... whatever the workers do. The sample order of epoch e is
// a pure function of (seed, e), and sample k of the epoch is augmented with an RNG seeded from
// (seed, e, k), so batches do not depend on the worker count or timing. Worker w builds batches
// w, w + W, w + 2W, ... into its own bounded queue (prefetch deep); batches are built with plain
// loops on raw pointers (no LibTorch ops, so no intra-op threads). An exception in a worker
// (e.g. an undecodable image) is rethrown by next() as the same exception; the epoch then ends
// (next() returns nullopt until start_epoch).
class Loader {
 public:
  Loader(DatasetPtr dataset, LoaderOptions options);
  ~Loader();  // joins workers cleanly, also mid-epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;
  // Starts epoch `epoch`; the first `skip_batches` batches are skipped without loading them.
  void start_epoch(int64_t epoch, int64_t skip_batches = 0);
  // The next batch; nullopt at the end of the epoch. Before any start_epoch, starts epoch 0.
  std::optional<Batch> next();
  const DatasetPtr& dataset() const;
  const LoaderOptions& options() const;
  int64_t epoch() const;  // the current epoch (-1 before the first start)

  // The sample order of an epoch (dataset indices), as the loader uses it.
  static std::vector<size_t> epoch_order(size_t n, bool shuffle, uint64_t seed, int64_t epoch);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace oqa::data
