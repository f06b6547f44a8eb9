// Experiment config reading: one place that maps config keys to options (documented in docs/config.md).
#include "oqa/train/experiment.h"

#include "oqa/space/make_space.h"
#include "oqa/util/hash.h"

namespace oqa::train {
namespace {

void read_data(util::ConfigNode node, Experiment& e) {
  auto& d = e.data;
  d.dataset = node.get_choice("dataset", d.dataset,
                              {"fashion-mnist", "mnist", "cifar10", "cifar100", "image-folder", "synthetic"});
  d.root = node.get<std::string>("root", d.root);
  d.val_fraction = node.get_range("val_fraction", d.val_fraction, 0.0, 0.9);
  d.train_images = node.get_int_range("train_images", d.train_images, 0, int64_t{1} << 40);
  d.val_images = node.get_int_range("val_images", d.val_images, 0, int64_t{1} << 40);
  d.image_size = node.get_int_range("image_size", d.image_size, 0, 4096);
  d.channels = node.get_int_range("channels", d.channels, 0, 3);
  d.synthetic_train = node.get_int_range("synthetic_train", d.synthetic_train, 1, 10000000);
  d.synthetic_test = node.get_int_range("synthetic_test", d.synthetic_test, 1, 10000000);
  d.synthetic_classes = node.get_int_range("synthetic_classes", d.synthetic_classes, 2, 100000);
  d.check_images = node.get_choice("check_images", d.check_images, {"auto", "decode", "header", "none"});
  d.on_bad_image = node.get_choice("on_bad_image", d.on_bad_image, {"error", "skip"});
  auto& l = e.loader;
  l.batch_size = node.get_int_range("batch_size", 128, 1, 1 << 20);
  l.workers = static_cast<int>(node.get_int_range("workers", 2, 0, 64));
  l.prefetch = static_cast<int>(node.get_int_range("prefetch", 4, 1, 64));
  l.drop_last = node.get<bool>("drop_last", true);
  auto aug = node.child("augment");
  l.transform.pad_crop = aug.get_int_range("pad_crop", 2, 0, 64);
  l.transform.hflip = aug.get<bool>("hflip", data::flip_keeps_class(d.dataset));
  l.transform.mean = aug.get<std::vector<float>>("mean", {});
  l.transform.std = aug.get<std::vector<float>>("std", {});
  if (l.transform.mean.size() != l.transform.std.size())
    throw aug.error("std", "mean and std must list the same number of channels");
  for (float s : l.transform.std)
    if (!(s > 0)) throw aug.error("std", "every std must be > 0");
}

void read_train(util::ConfigNode node, TrainOptions& t) {
  t.epochs = node.get_int_range("epochs", t.epochs, 1, 100000);
  auto& o = t.optimizer;
  o.kind = node.get_choice("optimizer", o.kind, {"sgd", "adam"});
  o.lr = node.get_range("lr", o.lr, 0.0, 100.0);
  o.momentum = node.get_range("momentum", o.momentum, 0.0, 1.0);
  o.nesterov = node.get<bool>("nesterov", o.nesterov);
  o.weight_decay = node.get_range("weight_decay", o.weight_decay, 0.0, 1.0);
  t.warmup_epochs = node.get_range("warmup_epochs", t.warmup_epochs, 0.0, 1e5);
  t.min_lr = node.get_range("min_lr", t.min_lr, 0.0, 100.0);
  t.label_smoothing = node.get_range("label_smoothing", t.label_smoothing, 0.0, 0.99);
  t.grad_clip = node.get_range("grad_clip", t.grad_clip, 0.0, 1e9);
  t.step_size_max_change = node.get_range("step_size_max_change", t.step_size_max_change, 0.0, 100.0);
  t.checkpoint_every = node.get_int_range("checkpoint_every", t.checkpoint_every, 0, 1 << 30);
  t.log_every = node.get_int_range("log_every", t.log_every, 0, 1 << 30);
  t.eval_batch_size = node.get_int_range("eval_batch_size", t.eval_batch_size, 1, 1 << 20);
}

}  // namespace

Experiment read_experiment(util::Config& config) {
  Experiment e;
  auto root = config.root();
  e.name = root.get<std::string>("name", e.name);
  e.seed = static_cast<uint64_t>(root.get_int_range("seed", 0, 0, (int64_t{1} << 62)));
  read_data(root.child("data"), e);
  if (root.has("space")) {  // supernet pipeline
    e.space = space::make_space(root.child("space"));
    e.supernet = read_supernet_options(root.child("supernet"));
  } else {
    auto model = root.child("model");
    e.model.kind = model.get_choice("kind", e.model.kind, {"baseline-cnn"});
    e.model.width = model.get_int_range("width", e.model.width, 1, 4096);
  }
  read_train(root.child("train"), e.train);
  config.check_unknown({"search", "nce"});

  e.loader.seed = e.seed;
  if (e.loader.transform.mean.empty())
    data::default_normalization(e.data.dataset, e.data.channels, e.loader.transform.mean, e.loader.transform.std);
  e.resolved = config.resolved();
  util::Json identity = e.resolved;
  // Settings that never change the trained weights; on_bad_image only when it fails (a run made before these
  // keys existed keeps its hash and resumes).
  for (const char* k : {"workers", "prefetch", "check_images"}) identity["data"].erase(k);
  if (e.data.on_bad_image == "error") identity["data"].erase("on_bad_image");
  for (const char* k : {"log_every", "eval_batch_size"}) identity["train"].erase(k);
  identity.erase("search");  // search settings never change the trained weights
  identity.erase("nce");     // nor do neural channel expansion's (`oqa nce` reads them)
  // The direct baseline adds a stage without changing the others, so a run can gain it on resume.
  // A supernet config trains by its stage list; train.epochs is the float baseline's.
  if (identity.contains("supernet")) identity["train"].erase("epochs");
  if (identity.contains("supernet"))
    for (const char* k : {"direct_bits", "direct_epochs", "direct_lr", "direct_teacher", "eval_each_epoch"}) identity["supernet"].erase(k);
  e.hash = util::hex64(util::fnv1a64(identity.dump()));
  return e;
}

}  // namespace oqa::train
