// Registry: dataset name -> files under a root -> (train, val, test) datasets; normalisation table.
#include "oqa/data/registry.h"

#include <filesystem>

#include "oqa/data/cifar.h"
#include "oqa/data/idx.h"
#include "oqa/data/image_folder.h"
#include "oqa/data/synthetic.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace fs = std::filesystem;

namespace oqa::data {

namespace {

constexpr uint64_t kSyntheticTrainSeed = 0x5EED0001ULL, kSyntheticTestSeed = 0x5EED0002ULL;

util::Error unknown_dataset(const std::string& name) {
  std::string msg = "unknown dataset (expected one of:";
  for (const std::string& n : dataset_names()) msg += " " + n;
  msg += ")";
  const std::string near = util::nearest(name, dataset_names());
  if (!near.empty()) msg += "; did you mean '" + near + "'?";
  return util::input_error(msg).field("dataset").value(name);
}

// root/name.gz when present, else root/name; neither: an error naming the .gz file.
std::string idx_file(const std::string& root, const std::string& name) {
  const fs::path gz = fs::path(root) / (name + ".gz"), raw = fs::path(root) / name;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(raw, ec)) return raw.string();
  throw util::input_error("dataset file not found (also tried " + raw.string() + ")").file(gz.string());
}

// The first n samples of d (all of them when n is 0 or not smaller).
DatasetPtr first(DatasetPtr d, int64_t n) {
  if (!d || n <= 0 || static_cast<size_t>(n) >= d->size()) return d;
  std::vector<size_t> indices(static_cast<size_t>(n));
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return subset(std::move(d), std::move(indices));
}

Splits split(DatasetPtr train_full, DatasetPtr test, const DataOptions& opt, uint64_t seed) {
  Splits s;
  std::tie(s.train, s.val) = split_train_val(std::move(train_full), opt.val_fraction, seed);
  s.train = first(s.train, opt.train_images);
  s.val = first(s.val, opt.val_images);
  s.test = std::move(test);
  return s;
}

int64_t or_default(int64_t v, int64_t fallback) { return v == 0 ? fallback : v; }

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"fashion-mnist", "mnist",        "cifar10",
                                                 "cifar100",      "image-folder", "synthetic"};
  return names;
}

std::string default_root(const std::string& dataset) {
  if (dataset == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  if (dataset == "cifar10") return "data/cifar-10-batches-bin";
  if (dataset == "cifar100") return "data/cifar-100-binary";
  if (dataset == "image-folder") return "data/image-folder";
  if (dataset == "synthetic") return "";
  throw unknown_dataset(dataset);
}

bool flip_keeps_class(const std::string& dataset) { return dataset != "mnist"; }

Splits open_splits(const DataOptions& opt, uint64_t seed) {
  const std::string root = opt.root.empty() ? default_root(opt.dataset) : opt.root;
  if (!(opt.val_fraction >= 0.0 && opt.val_fraction < 1.0))
    throw util::input_error("validation fraction must be in [0, 1)").field("val_fraction").value(std::to_string(opt.val_fraction));

  if (opt.dataset == "fashion-mnist" || opt.dataset == "mnist") {
    // One file at a time, in a fixed order, so a missing file is reported the same way on every compiler.
    const std::string train_images = idx_file(root, "train-images-idx3-ubyte");
    const std::string train_labels = idx_file(root, "train-labels-idx1-ubyte");
    const std::string test_images = idx_file(root, "t10k-images-idx3-ubyte");
    const std::string test_labels = idx_file(root, "t10k-labels-idx1-ubyte");
    DatasetPtr train = load_idx(train_images, train_labels, opt.dataset + ":train");
    DatasetPtr test = load_idx(test_images, test_labels, opt.dataset + ":test");
    return split(std::move(train), std::move(test), opt, seed);
  }
  if (opt.dataset == "cifar10") {
    std::vector<std::string> files;
    for (int i = 1; i <= 5; ++i) files.push_back((fs::path(root) / ("data_batch_" + std::to_string(i) + ".bin")).string());
    DatasetPtr train = load_cifar(files, 10, "cifar10:train");
    DatasetPtr test = load_cifar({(fs::path(root) / "test_batch.bin").string()}, 10, "cifar10:test");
    return split(std::move(train), std::move(test), opt, seed);
  }
  if (opt.dataset == "cifar100") {
    DatasetPtr train = load_cifar({(fs::path(root) / "train.bin").string()}, 100, "cifar100:train");
    DatasetPtr test = load_cifar({(fs::path(root) / "test.bin").string()}, 100, "cifar100:test");
    return split(std::move(train), std::move(test), opt, seed);
  }
  if (opt.dataset == "image-folder") {
    const int64_t size = or_default(opt.image_size, 32);
    const ImageShape shape{or_default(opt.channels, 3), size, size};
    const fs::path train_dir = fs::path(root) / "train";
    fs::path test_dir = fs::path(root) / "test";
    std::error_code ec;
    if (!fs::is_directory(test_dir, ec) && fs::is_directory(fs::path(root) / "val", ec)) test_dir = fs::path(root) / "val";
    ImageFolderOptions fo;
    fo.check = opt.check_images == "decode"   ? ImageCheck::kDecode
               : opt.check_images == "header" ? ImageCheck::kHeader
               : opt.check_images == "none"   ? ImageCheck::kNone
                                              : ImageCheck::kAuto;
    fo.skip_bad = opt.on_bad_image == "skip";
    auto train = std::make_shared<ImageFolderDataset>(train_dir.string(), shape, fo);
    auto test = std::make_shared<ImageFolderDataset>(test_dir.string(), shape, fo);
    if (train->classes() != test->classes())
      throw util::input_error("class folders differ from those of " + train_dir.string() + " (" +
                              std::to_string(test->classes().size()) + " vs " +
                              std::to_string(train->classes().size()) + " classes)")
          .file(test_dir.string());
    return split(std::move(train), std::move(test), opt, seed);
  }
  if (opt.dataset == "synthetic") {
    const int64_t size = or_default(opt.image_size, 28);
    const ImageShape shape{or_default(opt.channels, 1), size, size};
    if (opt.synthetic_train < 1 || opt.synthetic_test < 0)
      throw util::input_error("synthetic_train must be >= 1 and synthetic_test >= 0")
          .field("synthetic_train")
          .value(std::to_string(opt.synthetic_train) + ", " + std::to_string(opt.synthetic_test));
    DatasetPtr train = make_synthetic(static_cast<size_t>(opt.synthetic_train), shape, opt.synthetic_classes,
                                      kSyntheticTrainSeed);
    DatasetPtr test = make_synthetic(static_cast<size_t>(opt.synthetic_test), shape, opt.synthetic_classes,
                                     kSyntheticTestSeed);
    return split(std::move(train), std::move(test), opt, seed);
  }
  throw unknown_dataset(opt.dataset);
}

void default_normalization(const std::string& dataset, int64_t channels, std::vector<float>& mean,
                           std::vector<float>& std) {
  if (channels < 0) throw util::input_error("channels must be >= 0").field("channels").value(std::to_string(channels));
  std::vector<float> m, s;
  if (dataset == "fashion-mnist") {
    m = {0.2860f}, s = {0.3530f};
  } else if (dataset == "mnist") {
    m = {0.1307f}, s = {0.3081f};
  } else if (dataset == "cifar10") {
    m = {0.4914f, 0.4822f, 0.4465f}, s = {0.2470f, 0.2435f, 0.2616f};
  } else if (dataset == "cifar100") {
    m = {0.5071f, 0.4865f, 0.4409f}, s = {0.2673f, 0.2564f, 0.2762f};
  } else if (dataset == "image-folder") {  // ImageNet statistics
    m = {0.485f, 0.456f, 0.406f}, s = {0.229f, 0.224f, 0.225f};
  } else if (dataset == "synthetic") {
    m = {0.5f}, s = {0.25f};
  } else {
    throw unknown_dataset(dataset);
  }
  const int64_t have = static_cast<int64_t>(m.size());
  if (channels == 0) channels = have;  // 0: the dataset's own channel count
  if (have != channels) {
    float mm = 0.f, ss = 0.f;
    for (int64_t c = 0; c < have; ++c) mm += m[static_cast<size_t>(c)], ss += s[static_cast<size_t>(c)];
    m.assign(static_cast<size_t>(channels), mm / static_cast<float>(have));
    s.assign(static_cast<size_t>(channels), ss / static_cast<float>(have));
  }
  mean = std::move(m);
  std = std::move(s);
}

}  // namespace oqa::data
