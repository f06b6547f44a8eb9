// Checkpoint save/load through torch::serialize archives and the atomic-write helper.
#include "oqa/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <sstream>
#include <utility>
#include <vector>

#include "oqa/util/atomic_file.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"
#include "oqa/util/json_reader.h"

namespace oqa::train {
namespace {

constexpr const char* kMagic = "oqa-checkpoint";

torch::Tensor rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(const torch::Tensor& t) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(t);
}

}  // namespace

nlohmann::json CheckpointMeta::to_json() const {
  return {{"magic", kMagic}, {"format_version", format_version}, {"config_hash", config_hash},
          {"stage", stage}, {"step", step}, {"epoch", epoch}, {"batch", batch}, {"extra", extra}};
}

CheckpointMeta CheckpointMeta::from_json(const nlohmann::json& j, const std::string& file) {
  // A "magic" of another type is no oqa checkpoint either (value() would throw a JSON type error).
  if (!j.is_object() || !j.contains("magic") || !j.at("magic").is_string() || j.at("magic") != kMagic)
    throw util::input_error("not an oqa checkpoint").file(file);
  // Typed reads: a number that is not an integer, or one outside int64, is refused, never converted.
  util::JsonReader r(j, "", file);
  CheckpointMeta m;
  const int64_t version = r.require_int("format_version");
  if (version > 1)
    throw util::input_error("checkpoint format is newer than this oqa understands")
        .file(file).field("format_version").value(std::to_string(version));
  m.format_version = static_cast<int>(version);
  r.at("config_hash");
  m.config_hash = r.get_string("config_hash", "");
  r.at("stage");
  m.stage = r.get_string("stage", "");
  m.step = r.require_int("step");
  m.epoch = r.require_int("epoch");
  m.batch = r.require_int("batch");
  m.extra = j.value("extra", nlohmann::json::object());
  return m;
}

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const CheckpointMeta& meta) {
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(meta.to_json().dump()));
  torch::serialize::OutputArchive model_archive;
  for (const auto& p : model.named_parameters()) model_archive.write(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) model_archive.write(b.key(), b.value(), /*is_buffer=*/true);
  archive.write("model", model_archive);
  if (optimizer) {
    torch::serialize::OutputArchive opt_archive;
    optimizer->save(opt_archive);
    archive.write("optimizer", opt_archive);
  }
  archive.write("rng", rng_state());
  util::atomic_write_with(path, [&](std::ostream& out) { archive.save_to(out); });
}

namespace {

torch::serialize::InputArchive open_archive(const std::string& path) {
  std::string bytes = util::read_file(path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size(), util::compute_device());
  } catch (const c10::Error& e) {
    throw util::input_error("truncated or corrupt checkpoint (cannot be read as a LibTorch archive)").file(path);
  }
  return archive;
}

CheckpointMeta read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue v;
  if (!archive.try_read("meta", v) || !v.isString()) throw util::input_error("not an oqa checkpoint").file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(v.toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw util::input_error("corrupt checkpoint header").file(path);
  }
  return CheckpointMeta::from_json(j, path);
}

}  // namespace

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  auto archive = open_archive(path);
  return read_meta(archive, path);
}

CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng) {
  auto archive = open_archive(path);
  CheckpointMeta meta = read_meta(archive, path);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    torch::NoGradGuard no_grad;
    // Check every tensor before copying any, so a checkpoint that does not fit leaves the model untouched.
    std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (saved, model tensor)
    auto check = [&](const std::string& name, const torch::Tensor& t, bool is_buffer) {
      torch::Tensor saved;
      if (!model_archive.try_read(name, saved, is_buffer))
        throw util::input_error("checkpoint lacks tensor of this model").file(path).field(name);
      if (saved.sizes() != t.sizes()) {
        std::ostringstream ss;
        ss << "shape " << saved.sizes() << " in the checkpoint, " << t.sizes() << " in the model";
        throw util::input_error(ss.str()).file(path).field(name);
      }
      copies.emplace_back(saved, t);
    };
    for (const auto& p : model.named_parameters()) check(p.key(), p.value(), false);
    for (const auto& b : model.named_buffers()) check(b.key(), b.value(), true);
    for (auto& [saved, t] : copies) t.copy_(saved);
    if (optimizer) {
      torch::serialize::InputArchive opt_archive;
      if (!archive.try_read("optimizer", opt_archive))
        throw util::input_error("checkpoint has no optimizer state").file(path);
      optimizer->load(opt_archive);
    }
    if (restore_rng) {
      torch::Tensor rng;
      archive.read("rng", rng);
      set_rng_state(rng);
    }
  } catch (const c10::Error& e) {
    throw util::input_error(std::string("checkpoint does not fit this model: ") + e.what_without_backtrace())
        .file(path);
  }
  return meta;
}

std::string checkpoint_file(const std::string& stage_dir) { return stage_dir + "/checkpoints/last.pt"; }

}  // namespace oqa::train
