// QuantizerImpl: lazily created, registered step-size / offset tables keyed by QuantSpec::key().
#include "oqa/quant/quantizer.h"

#include <ostream>

#include <torch/torch.h>

#include "oqa/quant/lsq.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::quant {

namespace {

const std::string kStepPrefix = "step_";
const std::string kOffsetPrefix = "offset_";
const std::string kInitPrefix = "initialized_";

int64_t active_channels(const QuantSpec& spec, const torch::Tensor& x) {
  if (!spec.per_channel()) return 1;
  if (!x.defined() || spec.axis >= x.dim())
    throw util::input_error("channel axis out of range for the quantized tensor (" +
                            std::to_string(x.defined() ? x.dim() : 0) + " dims)")
        .field("axis")
        .value(std::to_string(spec.axis));
  return x.size(spec.axis);
}

}  // namespace

QuantizerImpl::QuantizerImpl(QuantizerOptions options_) : options(std::move(options_)) {
  if (options.max_channels() < 1)
    throw util::input_error("must be >= 1").field("max_channels").value(std::to_string(options.max_channels()));
  reset();
}

void QuantizerImpl::reset() {
  auto old = std::move(entries_);
  entries_.clear();
  for (auto& kv : old) create_entry(kv.second.spec, kv.second.step_size.numel(), kv.second.step_size.device());
}

torch::Device QuantizerImpl::entry_device() const {
  return entries_.empty() ? util::compute_device() : entries_.begin()->second.step_size.device();
}

QuantizerEntry& QuantizerImpl::create_entry(const QuantSpec& spec, int64_t channels, const torch::Device& device) {
  spec.validate();
  if (spec.is_float()) throw util::internal_error("a float spec has no quantizer entry");
  const std::string key = spec.key();
  const int64_t n = spec.per_channel() ? channels : 1;
  if (n < 1) throw util::input_error("per-channel table length must be >= 1").field("channels").value(std::to_string(n));
  QuantizerEntry e;
  e.spec = spec;
  // Placeholder values until initialised from data: a positive step keeps the op's checks happy.
  auto opts = torch::TensorOptions().device(device);
  e.step_size = register_parameter(kStepPrefix + key, torch::ones({n}, opts));
  if (!spec.symmetric) e.offset = register_parameter(kOffsetPrefix + key, torch::zeros({n}, opts));
  e.initialized = register_buffer(kInitPrefix + key, torch::zeros({n}, opts.dtype(torch::kBool)));
  return entries_[key] = e;
}

QuantizerEntry& QuantizerImpl::find_entry(const QuantSpec& spec) {
  auto it = entries_.find(spec.key());
  if (it == entries_.end())
    throw util::input_error("quantizer has no entry for this spec (create it with create_entries or ensure)")
        .field("quant_spec")
        .value(spec.key());
  return it->second;
}

const QuantizerEntry& QuantizerImpl::entry(const QuantSpec& spec) const {
  return const_cast<QuantizerImpl*>(this)->find_entry(spec);
}

bool QuantizerImpl::has_entry(const QuantSpec& spec) const { return entries_.count(spec.key()) > 0; }

bool QuantizerImpl::is_initialized(const QuantSpec& spec) const {
  auto it = entries_.find(spec.key());
  return it != entries_.end() && it->second.initialized.all().item<bool>();
}

std::vector<QuantSpec> QuantizerImpl::specs() const {
  std::vector<QuantSpec> out;
  for (const auto& kv : entries_) out.push_back(kv.second.spec);
  return out;
}

void QuantizerImpl::create_entries(const std::vector<QuantSpec>& specs, int64_t channels) {
  if (channels < 0) throw util::input_error("must be >= 0").field("channels").value(std::to_string(channels));
  for (const auto& s : specs) {
    if (s.is_float() || has_entry(s)) continue;
    create_entry(s, channels == 0 ? options.max_channels() : channels, entry_device());
  }
}

void QuantizerImpl::init_from(QuantizerEntry& e, const torch::Tensor& x) {
  const int64_t c = active_channels(e.spec, x);
  const int64_t n = e.step_size.numel();
  if (c > n)
    throw util::input_error("tensor has " + std::to_string(c) + " channels but the step-size table holds " +
                            std::to_string(n) + " (raise QuantizerOptions::max_channels)")
        .field("max_channels")
        .value(std::to_string(n));
  torch::NoGradGuard no_grad;
  auto flags = e.initialized.narrow(0, 0, c);
  if (flags.all().item<bool>()) return;
  auto fresh = flags.logical_not();
  auto step = e.step_size.narrow(0, 0, c);
  step.copy_(torch::where(fresh, init_step_size(x, e.spec, options.min_step()).to(step.device()), step));
  if (e.offset.defined()) {
    auto off = e.offset.narrow(0, 0, c);
    off.copy_(torch::where(fresh, init_offset(x, e.spec).to(off.device()), off));
  }
  flags.fill_(true);
}

void QuantizerImpl::ensure(const QuantSpec& spec, const torch::Tensor& x) {
  spec.validate();
  if (spec.is_float()) return;
  auto it = entries_.find(spec.key());
  QuantizerEntry& e =
      it != entries_.end() ? it->second : create_entry(spec, options.max_channels(), x.defined() ? x.device() : entry_device());
  init_from(e, x);
}

torch::Tensor QuantizerImpl::forward(const torch::Tensor& x, const std::optional<QuantSpec>& spec) {
  if (!spec || spec->is_float()) return x;
  ensure(*spec, x);
  const QuantizerEntry& e = entry(*spec);
  const int64_t c = active_channels(*spec, x);
  auto step = e.step_size.narrow(0, 0, c);
  auto offset = e.offset.defined() ? e.offset.narrow(0, 0, c) : torch::Tensor();
  const double g = grad_scale_for(x, *spec);
  return options.fused() ? lsq_quantize(x, step, offset, *spec, g) : lsq_quantize_reference(x, step, offset, *spec, g);
}

void QuantizerImpl::set_entry(const QuantSpec& spec, const torch::Tensor& step, const torch::Tensor& offset) {
  spec.validate();
  if (spec.is_float()) throw util::input_error("a float spec has no step size").field("bits").value("0");
  auto it = entries_.find(spec.key());
  QuantizerEntry& e =
      it != entries_.end() ? it->second : create_entry(spec, options.max_channels(), step.defined() ? step.device() : entry_device());
  const int64_t n = e.step_size.numel();
  if (!step.defined() || step.numel() != n)
    throw util::input_error("step-size table of " + spec.key() + " holds " + std::to_string(n) + " values")
        .field("step_size")
        .value(step.defined() ? std::to_string(step.numel()) : "undefined");
  torch::NoGradGuard no_grad;
  e.step_size.copy_(step.detach().reshape({n}).to(e.step_size.device()));
  if (e.offset.defined()) {
    if (!offset.defined() || offset.numel() != n)
      throw util::input_error("offset table of " + spec.key() + " holds " + std::to_string(n) + " values")
          .field("offset")
          .value(offset.defined() ? std::to_string(offset.numel()) : "undefined");
    e.offset.copy_(offset.detach().reshape({n}).to(e.offset.device()));
  }
  e.initialized.fill_(true);
}

void QuantizerImpl::set_initialized(const QuantSpec& spec, const torch::Tensor& flags) {
  QuantizerEntry& e = find_entry(spec);
  if (!flags.defined() || flags.numel() != e.initialized.numel())
    throw util::input_error("initialised flags must match the table length").field("initialized").value(spec.key());
  torch::NoGradGuard no_grad;
  e.initialized.copy_(flags.reshape({-1}).to(e.initialized.device(), torch::kBool));
}

void QuantizerImpl::load(torch::serialize::InputArchive& archive) {
  for (const std::string& k : archive.keys()) {
    if (k.rfind(kStepPrefix, 0) != 0) continue;
    QuantSpec spec = QuantSpec::from_key(k.substr(kStepPrefix.size()));
    torch::Tensor stored;
    archive.read(k, stored);
    auto it = entries_.find(spec.key());
    if (it == entries_.end()) {
      create_entry(spec, stored.numel(), entry_device());
    } else if (it->second.step_size.numel() != stored.numel()) {
      throw util::input_error("checkpoint table length " + std::to_string(stored.numel()) +
                              " differs from this quantizer's " + std::to_string(it->second.step_size.numel()))
          .field(k);
    }
  }
  torch::nn::Module::load(archive);
}

void QuantizerImpl::pretty_print(std::ostream& stream) const {
  stream << "oqa::quant::Quantizer(max_channels=" << options.max_channels() << ", entries=[";
  bool first = true;
  for (const auto& kv : entries_) {
    stream << (first ? "" : ", ") << kv.first;
    first = false;
  }
  stream << "])";
}

void for_each_quantizer(torch::nn::Module& model, const std::function<void(QuantizerImpl&)>& fn) {
  if (auto* self = dynamic_cast<QuantizerImpl*>(&model)) fn(*self);
  for (const auto& m : model.modules(/*include_self=*/false))
    if (auto* q = dynamic_cast<QuantizerImpl*>(m.get())) fn(*q);
}

int64_t clamp_step_sizes(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  int64_t raised = 0;
  for_each_quantizer(model, [&](QuantizerImpl& q) {
    for (const QuantSpec& spec : q.specs()) {
      torch::Tensor step = q.entry(spec).step_size;
      const double lo = q.options.min_step();
      raised += (step < lo).sum().item<int64_t>();
      step.clamp_min_(lo);
    }
  });
  return raised;
}

}  // namespace oqa::quant
