// Quantizer module: one layer's table of learned LSQ step sizes (and offsets), one entry per QuantSpec.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "oqa/quant/quant_spec.h"
#include "oqa/quant/step_init.h"

namespace oqa::quant {

struct QuantizerOptions {
  /* implicit */ QuantizerOptions(int64_t max_channels = 1) : max_channels_(max_channels) {}
  // Length of per-channel tables: the full layer's channel count. A sliced tensor with C channels
  // (elastic width) uses the first C entries.
  TORCH_ARG(int64_t, max_channels);
  // Lower bound of step sizes initialised from data.
  TORCH_ARG(double, min_step) = kMinStepSize;
  // false: use the composed reference instead of the fused kernels (for debugging).
  TORCH_ARG(bool, fused) = true;
};

// One table entry. The tensors are registered with the module under "step_<key>", "offset_<key>"
// (parameters) and "initialized_<key>" (a bool buffer, one flag per table element), so optimizers,
// torch::save and torch::load see them.
struct QuantizerEntry {
  QuantSpec spec;
  torch::Tensor step_size;    // [1] or [max_channels], float32
  torch::Tensor offset;       // same shape as step_size; undefined for symmetric specs
  torch::Tensor initialized;  // bool, same shape as step_size
};

// Shared-step-size quantizer (OQAT: one step size per layer and bit-width, shared by every kernel size,
// width, depth and resolution; EQ-Net: one per (bit-width, form)).
class QuantizerImpl : public torch::nn::Cloneable<QuantizerImpl> {
 public:
  explicit QuantizerImpl(QuantizerOptions options = {});

  // Re-registers every entry (used by clone()); values are zeroed and marked uninitialised.
  void reset() override;

  // Fake-quantizes x with the entry for spec; creates the entry and initialises it from x on first use.
  // std::nullopt or a float spec (bits == 0) returns x unchanged.
  torch::Tensor forward(const torch::Tensor& x, const std::optional<QuantSpec>& spec);

  // Creates the entry for spec if missing and initialises from x whatever is not yet initialised.
  void ensure(const QuantSpec& spec, const torch::Tensor& x);
  // Creates (uninitialised) entries so that they exist before an optimizer is built. channels: length of
  // per-channel tables, 0 = options.max_channels. Existing entries are kept. Float specs are skipped.
  void create_entries(const std::vector<QuantSpec>& specs, int64_t channels = 0);

  bool has_entry(const QuantSpec& spec) const;
  // True when every table element of the entry has been initialised from data (or inherited).
  bool is_initialized(const QuantSpec& spec) const;
  const QuantizerEntry& entry(const QuantSpec& spec) const;  // throws oqa::util::Error when missing
  std::vector<QuantSpec> specs() const;                      // every entry, in key order

  // Overwrites an entry's values (creating it if missing) and marks it initialised. step (and offset)
  // must have the table's length (or 1 element for per-tensor specs).
  void set_entry(const QuantSpec& spec, const torch::Tensor& step, const torch::Tensor& offset = {});
  // Copies the initialised flags too (used by bit inheritance).
  void set_initialized(const QuantSpec& spec, const torch::Tensor& flags);

  // Loading creates the entries that the archive holds and this module lacks, so a fresh module loads
  // a checkpoint without knowing its specs in advance.
  void load(torch::serialize::InputArchive& archive) override;

  void pretty_print(std::ostream& stream) const override;

  QuantizerOptions options;

 private:
  QuantizerEntry& create_entry(const QuantSpec& spec, int64_t channels, const torch::Device& device);
  torch::Device entry_device() const;  // where existing entries live (CPU when none)
  QuantizerEntry& find_entry(const QuantSpec& spec);
  void init_from(QuantizerEntry& e, const torch::Tensor& x);
  std::map<std::string, QuantizerEntry> entries_;
};

TORCH_MODULE(Quantizer);

// Calls fn on every Quantizer in model's tree, model included (it may be a Quantizer itself).
void for_each_quantizer(torch::nn::Module& model, const std::function<void(QuantizerImpl&)>& fn);

// Keeps every step size of every Quantizer in model's tree (model included) at or above its options'
// min_step. Trainers call it after each optimizer step: SGD may push a step size to zero or below, which
// the op rejects. Returns the number of table elements that were raised.
int64_t clamp_step_sizes(torch::nn::Module& model);

}  // namespace oqa::quant
