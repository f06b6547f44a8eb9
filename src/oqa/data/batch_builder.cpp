// Batch assembly: one float tensor per batch filled through raw pointers, no per-sample torch ops.
#include "oqa/data/batch_builder.h"

#include <random>

#include "oqa/data/random.h"
#include "oqa/util/error.h"

namespace oqa::data {

BatchBuilder::BatchBuilder(DatasetPtr dataset, const LoaderOptions& options)
    : dataset_(std::move(dataset)),
      shape_(dataset_->shape()),
      num_classes_(dataset_->num_classes()),
      batch_size_(options.batch_size),
      seed_(options.seed),
      shard_rank_(options.shard_rank),
      shard_count_(options.shard_count),
      transform_(options.transform),
      augment_(augments(options.transform)),
      lut_(pixel_lut(options.transform, shape_.channels)) {}

uint64_t BatchBuilder::sample_seed(uint64_t seed, int64_t epoch, size_t position) {
  return mix_seed(seed ^ 0xA0C5EEDULL, static_cast<uint64_t>(epoch), position);
}

std::optional<Batch> BatchBuilder::build(const std::vector<size_t>& order, int64_t epoch, int64_t index,
                                         BatchScratch& scratch, const std::atomic<bool>* stop) const {
  const size_t global_begin = static_cast<size_t>(index * batch_size_);
  OQA_ASSERT(global_begin < order.size(), "batch " + std::to_string(index) + " is past the end of the epoch");
  const size_t global_end = std::min(order.size(), global_begin + static_cast<size_t>(batch_size_));
  const size_t len = global_end - global_begin;
  const size_t begin = global_begin + len * static_cast<size_t>(shard_rank_) / static_cast<size_t>(shard_count_);
  const size_t end = global_begin + len * static_cast<size_t>(shard_rank_ + 1) / static_cast<size_t>(shard_count_);
  const int64_t n = static_cast<int64_t>(end - begin);
  const int64_t C = shape_.channels, HW = shape_.height * shape_.width, numel = shape_.numel();

  Batch batch;
  batch.index = index;
  batch.global_size = static_cast<int64_t>(len);
  batch.images = torch::empty({n, C, shape_.height, shape_.width}, torch::kFloat32);
  batch.labels = torch::empty({n}, torch::kInt64);
  float* images = batch.images.data_ptr<float>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  scratch.image.resize(static_cast<size_t>(numel));
  uint8_t* pixels = scratch.image.data();

  for (int64_t j = 0; j < n; ++j) {
    if (stop && stop->load(std::memory_order_relaxed)) return std::nullopt;
    const size_t position = begin + static_cast<size_t>(j);
    const size_t sample = order[position];
    const int64_t label = dataset_->label(sample);
    if (label < 0 || label >= num_classes_)
      throw util::input_error("label " + std::to_string(label) + " of sample " + std::to_string(sample) +
                              " is out of range: expected 0.." + std::to_string(num_classes_ - 1))
          .file(dataset_->name());
    labels[j] = label;
    dataset_->read_image(sample, pixels);
    if (augment_) {
      std::mt19937_64 rng(sample_seed(seed_, epoch, position));
      augment(pixels, shape_, transform_, rng, scratch.augment);
    }
    float* out = images + j * numel;
    for (int64_t c = 0; c < C; ++c) {
      const float* lut = lut_.data() + c * 256;
      const uint8_t* in = pixels + c * HW;
      float* o = out + c * HW;
      for (int64_t p = 0; p < HW; ++p) o[p] = lut[in[p]];
    }
  }
  return batch;
}

std::exception_ptr as_oqa_error(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const util::Error&) {
    return e;
  } catch (const std::exception& ex) {
    std::string what = ex.what();
    const size_t nl = what.find('\n');
    if (nl != std::string::npos) what.resize(nl);
    return std::make_exception_ptr(util::internal_error("data loader: " + what));
  } catch (...) {
    return std::make_exception_ptr(util::internal_error("data loader: unknown exception"));
  }
}

}  // namespace oqa::data
