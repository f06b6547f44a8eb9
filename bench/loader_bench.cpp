// Loader benchmark: Fashion-MNIST training images/s with augmentation (pad-crop 2, flip), 1 vs 2 workers.
#include <benchmark/benchmark.h>

#include "oqa/data/loader.h"
#include "oqa/data/registry.h"

namespace {

// The training split, opened once (decompressing the .gz files is not what is measured).
const oqa::data::DatasetPtr& fashion_train() {
  static const oqa::data::DatasetPtr train = oqa::data::open_splits(oqa::data::DataOptions{}, 0).train;
  return train;
}

void BM_LoaderFashionMnist(benchmark::State& state) {
  oqa::data::LoaderOptions o;
  o.batch_size = 128;
  o.workers = static_cast<int>(state.range(0));
  o.transform.pad_crop = 2;
  o.transform.hflip = true;
  oqa::data::default_normalization("fashion-mnist", 1, o.transform.mean, o.transform.std);
  oqa::data::Loader loader(fashion_train(), o);
  int64_t images = 0, epoch = 0;
  loader.start_epoch(epoch, 0);
  for (auto _ : state) {
    auto batch = loader.next();
    if (!batch) {
      loader.start_epoch(++epoch, 0);
      batch = loader.next();
    }
    images += batch->images.size(0);
    benchmark::DoNotOptimize(batch->images.data_ptr());
  }
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoaderFashionMnist)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->MinTime(3.0);

}  // namespace
