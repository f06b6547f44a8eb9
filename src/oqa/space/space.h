// Space: a search space of subnets (architecture + quantization) as a flat list of genes, with validation,
// JSON decoding, sampling, mutation, crossover, hashing and predictor encodings shared by every space kind.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "oqa/nn/layer_quantizer.h"
#include "oqa/nn/layer_shape.h"
#include "oqa/util/json_reader.h"
#include "oqa/space/quant_choices.h"
#include "oqa/space/shape_walker.h"
#include "oqa/space/subnet.h"

namespace oqa::space {

// One conv or linear layer of the supernet, in module registration order. name is the module path
// ("stem", "stages.1.0.dw", "stages.1.0.se.reduce", "classifier").
struct LayerSlot {
  std::string name;
  Precision precision;
  LayerQuant fixed;          // the quantization of a kFixed layer (default forms)
  InputRange input_range = InputRange::kSigned;  // the sign of the layer's input (decides its activation grid)
  int64_t out_channels = 0;  // largest output channels (length of per-channel weight step tables)
  int block = -1;            // global block slot whose depth gates the layer; -1: always runs
  int searched = -1;         // index into Subnet::quant when precision is searched
};

// One searchable choice. Values are the real numbers (kernel 7, bits 4, width 24); forms are coded
// (weight_granularity 0 = per_tensor, 1 = per_channel; symmetric 1 = true). ordered: largest() takes the
// biggest value and smallest() the least; otherwise both take choices[0] (the default form).
struct Gene {
  enum class Type { kInt, kGranularity, kBool };  // how values print in messages
  std::string field;  // JSON field path: "resolution", "stages[2].kernel[1]", "quant.weight_bits[5]"
  std::string label;  // what it sets, for messages: "kernel of stages.2.1", "weight bits of stem"
  std::vector<int64_t> choices;     // sampled values, in config order
  std::vector<int64_t> also_valid;  // accepted by validate, never sampled (bits 0 = float)
  bool ordered = true;
  Type type = Type::kInt;
  int block = -1;  // inactive (does not change the network) when this block slot is skipped
};

// Gene values (Space::gene_values) of several subnets, by reference: the search's batches.
using GeneRows = std::vector<const std::vector<int64_t>*>;

// A gene value as the JSON writes it: 4, "per_channel", true.
std::string gene_value_text(const Gene& gene, int64_t value);

class Space {
 public:
  virtual ~Space() = default;

  virtual std::string kind() const = 0;
  // Summary: the options, layer and gene counts, size.
  virtual nlohmann::json describe() const = 0;
  // log10 of the number of distinct subnets: architectures (skipped blocks' choices not counted) times the
  // quantization choices of the layers that run, times resolutions.
  virtual double log10_size() const = 0;
  double size() const;  // 10^log10_size (inf when beyond double)

  // Analytic geometry and quantization of every conv / linear layer the subnet runs, in execution order,
  // named like their slots; validates the subnet first.
  std::vector<nn::LayerShape> layer_shapes(const Subnet& subnet) const;
  // The same layers into sink, each with its slot index and no name: no validation and no allocation, for
  // subnets known to be valid (the search's cost loop).
  virtual void visit_layers(const Subnet& subnet, LayerSink& sink) const = 0;

  int64_t input_channels() const { return input_channels_; }
  int64_t classes() const { return classes_; }
  const std::vector<int64_t>& resolutions() const { return resolutions_; }
  const QuantChoices& quant_choices() const { return quant_; }
  const std::vector<LayerSlot>& layer_slots() const { return slots_; }
  const LayerSlot& slot(const std::string& name) const;
  size_t searched_layers() const { return searched_; }
  const std::vector<Gene>& genes() const { return genes_; }
  size_t quant_genes_begin() const { return arch_end_; }  // genes [this, end) are the searched layers' quant

  // ---- subnets ---------------------------------------------------------------------------------
  // Throws oqa::util::Error naming the bad field with the allowed values (wrong kind, wrong number of
  // stages / blocks / widths / quant layers, a value outside its choices).
  void validate(const Subnet& subnet) const;
  // Decodes and validates JSON. "quant" may be a shortcut string ("w4a4", "float"), an object whose
  // attributes are scalars (all searched layers) or per-layer lists, or missing (largest bits, default
  // forms). Unknown keys are errors. file names the source in errors.
  Subnet parse(const nlohmann::json& j, const std::string& file = "") const;

  Subnet largest() const;   // every ordered gene at its largest value, forms at their default
  Subnet smallest() const;  // every ordered gene at its smallest value
  Subnet sample(std::mt19937_64& rng) const;  // every gene uniform over its choices
  // Each gene redrawn (uniformly over its choices) with probability prob.
  Subnet mutate(const Subnet& subnet, double prob, std::mt19937_64& rng) const;
  // Each gene taken from a or b with probability 1/2.
  Subnet crossover(const Subnet& a, const Subnet& b, std::mt19937_64& rng) const;
  // The same on gene values (gene_values of valid subnets): no validation, no allocation (the search's loop).
  void mutate_values(std::vector<int64_t>& values, double prob, std::mt19937_64& rng) const;
  void crossover_values(std::vector<int64_t>& a, const std::vector<int64_t>& b, std::mt19937_64& rng) const;
  // The same over the listed gene indices only (ascending); the other genes keep their values.
  void mutate_values(std::vector<int64_t>& values, double prob, std::mt19937_64& rng,
                     const std::vector<size_t>& genes) const;
  void crossover_values(std::vector<int64_t>& a, const std::vector<int64_t>& b, std::mt19937_64& rng,
                        const std::vector<size_t>& genes) const;
  // Every searched layer set to a shortcut: "float" or "w<b>a<b>" (default forms); validated.
  Subnet with_quant(Subnet subnet, const std::string& shortcut) const;

  // Same network, one representation: genes of skipped blocks at choices[0], forms of float tensors at
  // default.
  Subnet canonical(const Subnet& subnet) const;
  uint64_t hash(const Subnet& subnet) const;  // fnv1a64 of to_json(canonical(subnet)).dump()
  std::string hash_hex(const Subnet& subnet) const;

  // ---- flat encodings (predictors, evolution) --------------------------------------------------
  std::vector<int64_t> gene_values(const Subnet& subnet) const;  // one value per gene
  Subnet from_gene_values(const std::vector<int64_t>& values) const;
  // The same without validation, for values known to be valid (made by gene_values, sample or *_values).
  Subnet from_valid_gene_values(const std::vector<int64_t>& values) const;
  // The same into an existing subnet, reusing its lists (no allocation once it has held one of this space).
  void from_valid_gene_values(const std::vector<int64_t>& values, Subnet& out) const;
  std::vector<bool> active_genes(const Subnet& subnet) const;  // false for genes of skipped blocks
  // The same from gene values (valid ones) into a reused buffer of 0 / 1, no subnet built.
  void active_genes_into(const std::vector<int64_t>& values, std::vector<unsigned char>& active) const;
  // Which block slots run (1 / 0, indexed by Gene::block) in the subnet of valid gene values; with
  // gene_active, the activity of single genes without a pass over every gene.
  void block_activity_into(const std::vector<int64_t>& values, std::vector<unsigned char>& blocks) const;
  bool gene_active(size_t gene, const std::vector<unsigned char>& blocks) const {
    const int b = genes_[gene].block;
    return b < 0 || blocks[static_cast<size_t>(b)] != 0;
  }
  size_t one_hot_size() const;  // sum of choice counts
  // Concatenated one-hot of every gene's choice; all-zero for inactive genes and float (also_valid) values.
  std::vector<float> one_hot(const Subnet& subnet) const;
  // Where a one-hot encoding puts a gene: its choices' columns start at `column`.
  struct OneHotGene {
    size_t gene;
    size_t column;
  };
  // The one-hot columns of the listed genes into row from gene values and their block activity
  // (block_activity_into); row is zeroed over `columns` first. one_hot lists every gene; predictor encodings
  // list their own selection.
  void one_hot_into(const std::vector<int64_t>& values, const std::vector<unsigned char>& blocks,
                    const std::vector<OneHotGene>& genes, float* row, size_t columns) const;

  // ---- quantization ----------------------------------------------------------------------------
  // Resolved weight / input specs of every layer slot (float, fixed or the subnet's searched choice).
  std::vector<nn::LayerQuantSpecs> layer_specs(const Subnet& subnet) const;
  nn::LayerQuantSpecs slot_specs(const Subnet& subnet, size_t slot) const;  // one entry of layer_specs
  // Every weight / input spec a slot can be asked to use (Quantizer::create_entries before the optimizer).
  std::vector<quant::QuantSpec> weight_specs(const LayerSlot& slot) const;
  std::vector<quant::QuantSpec> input_specs(const LayerSlot& slot) const;

 protected:
  Space(int64_t input_channels, int64_t classes, std::vector<int64_t> resolutions, QuantChoices quant);

  // Subclass hooks. Architecture genes come after "resolution" and before the quant genes.
  virtual std::vector<Gene> arch_genes() const = 0;
  virtual void write_arch(const Subnet& subnet, std::vector<int64_t>& values) const = 0;
  virtual void read_arch(const std::vector<int64_t>& values, size_t& pos, Subnet& subnet) const = 0;
  // Throws when the arch fields have the wrong shape (counts); values are checked gene by gene afterwards.
  virtual void check_arch_shape(const Subnet& subnet) const = 0;
  // Reads the arch keys of subnet JSON ("stages" / "widths") into subnet.
  virtual void parse_arch(util::JsonReader& reader, Subnet& subnet) const = 0;
  // Does block slot `block` run in the subnet of these gene values (default: every block runs)?
  virtual bool block_active(const std::vector<int64_t>& values, int block) const;

  // Called by subclass constructors once the slots are known: numbers searched slots, builds the gene list.
  void set_slots(std::vector<LayerSlot> slots);
  // Log10 of the quantization choices of one searched layer.
  double log10_quant_per_layer() const;
  nlohmann::json describe_common() const;

 private:
  std::vector<LayerQuant> parse_quant(const nlohmann::json& j, const std::string& file) const;

  int64_t input_channels_, classes_;
  std::vector<int64_t> resolutions_;
  QuantChoices quant_;
  std::vector<LayerSlot> slots_;
  size_t searched_ = 0;
  std::vector<Gene> genes_;
  size_t arch_end_ = 0;            // genes [1, arch_end_) are architecture genes
  size_t block_slots_ = 0;         // 1 + the largest Gene::block
  std::vector<size_t> all_genes_;  // 0, 1, ..., genes_.size() - 1
};

}  // namespace oqa::space
