// Loader: epoch orders, worker threads with bounded per-worker queues, in-order hand-out.
#include "oqa/data/loader.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "oqa/data/batch_builder.h"
#include "oqa/data/random.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::data {

namespace {

// One worker's output: built batches (or the error that stopped it), oldest first.
struct WorkerQueue {
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Item> items;
};

// Batches are built on the CPU and handed out on the compute device (`--device`).
std::optional<Batch> on_compute_device(std::optional<Batch> b) {
  if (b) {
    b->images = util::to_compute_device(b->images);
    b->labels = util::to_compute_device(b->labels);
  }
  return b;
}

}  // namespace

struct Loader::State {
  DatasetPtr dataset;
  LoaderOptions options;
  BatchBuilder builder;
  int64_t batches = 0;

  int64_t epoch = -1;
  int64_t first = 0;  // first batch of this epoch's run (skip_batches)
  int64_t next = 0;   // batch next() hands out next
  bool ended = false; // set after an error: next() returns nullopt until start_epoch
  std::shared_ptr<const std::vector<size_t>> order;
  BatchScratch inline_scratch;  // buffers of inline mode (workers == 0)

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<WorkerQueue>> queues;
  std::vector<std::thread> threads;

  State(DatasetPtr d, LoaderOptions o) : dataset(d), options(std::move(o)), builder(std::move(d), options) {}

  void work(size_t w, size_t stride) {
    WorkerQueue& q = *queues[w];
    BatchScratch scratch;
    const auto order_ref = order;
    for (int64_t b = first + static_cast<int64_t>(w); b < batches; b += static_cast<int64_t>(stride)) {
      {
        std::unique_lock<std::mutex> lock(q.mutex);
        q.changed.wait(lock, [&] { return stop.load() || q.items.size() < static_cast<size_t>(options.prefetch); });
        if (stop.load()) return;
      }
      WorkerQueue::Item item;
      try {
        item.batch = builder.build(*order_ref, epoch, b, scratch, &stop);
        if (!item.batch) return;  // stopped mid-batch
      } catch (...) {
        item.error = as_oqa_error(std::current_exception());
      }
      const bool failed = item.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(q.mutex);
        if (stop.load()) return;
        q.items.push_back(std::move(item));
      }
      q.changed.notify_all();
      if (failed) return;
    }
  }

  void stop_workers() {
    stop.store(true);
    for (auto& q : queues) {
      { std::lock_guard<std::mutex> lock(q->mutex); }
      q->changed.notify_all();
    }
    for (std::thread& t : threads) t.join();
    threads.clear();
    queues.clear();
    stop.store(false);
  }
};

Loader::Loader(DatasetPtr dataset, LoaderOptions options) {
  if (!dataset) throw util::internal_error("Loader: null dataset");
  if (options.batch_size < 1)
    throw util::input_error("batch size must be >= 1").field("batch_size").value(std::to_string(options.batch_size));
  if (options.workers < 0 || options.workers > 256)
    throw util::input_error("loader workers must be in 0..256").field("workers").value(std::to_string(options.workers));
  if (options.prefetch < 1)
    throw util::input_error("loader prefetch must be >= 1").field("prefetch").value(std::to_string(options.prefetch));
  if (options.shard_count < 1 || options.shard_rank < 0 || options.shard_rank >= options.shard_count)
    throw util::internal_error("Loader: shard " + std::to_string(options.shard_rank) + " of " +
                               std::to_string(options.shard_count));
  if (options.batch_size < options.shard_count)
    throw util::input_error("the batch size must be at least the number of data-parallel processes (" +
                            std::to_string(options.shard_count) + ")")
        .field("data.batch_size")
        .value(std::to_string(options.batch_size));
  s_ = std::make_unique<State>(std::move(dataset), std::move(options));
  const int64_t n = static_cast<int64_t>(s_->dataset->size()), b = s_->options.batch_size;
  s_->batches = s_->options.drop_last ? n / b : (n + b - 1) / b;
  if (s_->batches * b > n && n - (s_->batches - 1) * b < s_->options.shard_count) --s_->batches;
}

Loader::~Loader() {
  if (s_) s_->stop_workers();
}

int64_t Loader::batches_per_epoch() const { return s_->batches; }
const DatasetPtr& Loader::dataset() const { return s_->dataset; }
const LoaderOptions& Loader::options() const { return s_->options; }
int64_t Loader::epoch() const { return s_->epoch; }

std::vector<size_t> Loader::epoch_order(size_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (shuffle) {
    std::mt19937_64 rng(mix_seed(seed ^ 0x0DE2ULL, static_cast<uint64_t>(epoch)));
    shuffle_in_place(order, rng);
  }
  return order;
}

void Loader::start_epoch(int64_t epoch, int64_t skip_batches) {
  State& s = *s_;
  if (epoch < 0) throw util::internal_error("Loader::start_epoch: negative epoch " + std::to_string(epoch));
  if (skip_batches < 0 || skip_batches > s.batches)
    throw util::internal_error("Loader::start_epoch: skip_batches " + std::to_string(skip_batches) +
                               " outside 0.." + std::to_string(s.batches));
  s.stop_workers();
  s.epoch = epoch;
  s.first = s.next = skip_batches;
  s.ended = false;
  s.order = std::make_shared<const std::vector<size_t>>(
      epoch_order(s.dataset->size(), s.options.shuffle, s.options.seed, epoch));
  const int64_t left = s.batches - skip_batches;
  const size_t workers = static_cast<size_t>(std::min<int64_t>(s.options.workers, left));
  for (size_t w = 0; w < workers; ++w) s.queues.push_back(std::make_unique<WorkerQueue>());
  for (size_t w = 0; w < workers; ++w) s.threads.emplace_back([&s, w, workers] { s.work(w, workers); });
}

std::optional<Batch> Loader::next() {
  State& s = *s_;
  if (s.epoch < 0) start_epoch(0);
  if (s.ended || s.next >= s.batches) return std::nullopt;

  if (s.queues.empty()) {  // inline mode
    try {
      std::optional<Batch> b = s.builder.build(*s.order, s.epoch, s.next, s.inline_scratch);
      ++s.next;
      return on_compute_device(std::move(b));
    } catch (...) {
      s.ended = true;
      std::rethrow_exception(as_oqa_error(std::current_exception()));
    }
  }

  WorkerQueue& q = *s.queues[static_cast<size_t>(s.next - s.first) % s.queues.size()];
  WorkerQueue::Item item;
  {
    std::unique_lock<std::mutex> lock(q.mutex);
    q.changed.wait(lock, [&] { return !q.items.empty(); });
    item = std::move(q.items.front());
    q.items.pop_front();
  }
  q.changed.notify_all();
  if (item.error) {
    s.ended = true;
    s.stop_workers();
    std::rethrow_exception(item.error);
  }
  OQA_ASSERT(item.batch && item.batch->index == s.next, "loader batches out of order");
  ++s.next;
  return on_compute_device(std::move(item.batch));
}

}  // namespace oqa::data
