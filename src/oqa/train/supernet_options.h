// SupernetOptions: the "supernet" section of a config (stage list, distillation mode, WDR, BN recalibration).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oqa/util/config.h"

namespace oqa::train {

// How a stage with fewer bits than its parent sets its step sizes (supernet.stages[i].step_size_rule):
// kDouble: every b'-bit step size = 2^(b-b') x the b-bit one (OQA); kMinError: weights take the step size of
// least quantization error on the inherited weights, activations are doubled; kData: LSQ's initialisation
// from data on first use (2 mean|x| / sqrt(Qp)). Applied by init_stage (train/stage_init.h).
enum class StepSizeRule { kDouble, kMinError, kData };

// One training stage of the supernet pipeline; its folder under the run directory is `name`.
struct SupernetStage {
  std::string name;   // "float", "w4a4", ... (default: quant), or "direct-w2a2-e3-lr0.02" for the direct baseline
  std::string quant;  // "float" | "w<b>a<b>" (every searched layer) | "mixed" (quant genes sampled too)
  double epochs = 1;  // may be a fraction (0.5: half the batches of an epoch)
  double lr = 0.05;
  double warmup_epochs = -1;  // < 0: train.warmup_epochs
  // "continue" (schedule = continue): no restart; the stage's learning rate continues the parent's cosine, as
  // if the chain of stages from the last restarting one were one cosine over all their steps (that stage's lr
  // and warm-up; this stage's lr and warmup_epochs are not used).
  bool continue_schedule = false;
  bool progressive = false;   // progressive shrinking (float stages): largest, then kernel, depth, width
  // Fewer bits than the parent: how the step sizes start ("double" | "min_error" | "data").
  StepSizeRule step_size_rule = StepSizeRule::kData;
  // The in-place distillation teacher: "self" (this supernet's largest subnet), "parent" (the parent stage's
  // supernet, frozen, its largest subnet at the parent's quantization) or "float" (the float stage's).
  // Read with the default "parent" for a quantized stage after a quantized one (sandwich), else "self".
  std::string teacher = "self";
};

struct SupernetOptions {
  std::string distill = "sandwich";  // sandwich | gpg
  int64_t random_subnets = 2;        // n random subnets between the largest and the smallest
  double kd_ce_weight = 0.0;         // sandwich: weight of hard-label CE added to the KD loss of the students
  double wdr_weight = 0.0;           // EQ-Net's weight distribution regularisation (0 = off)
  int64_t bn_recal_images = 2000;    // training images for BN recalibration before every evaluation
  bool eval_each_epoch = false;      // evaluate largest / smallest on validation at every epoch end
  int64_t min_stage_steps = 300;     // a stage of fewer optimizer steps trains more epochs (0 = as configured)
  std::vector<SupernetStage> stages;
  // Direct low-bit baseline (OQA's comparison): trained from the float stage's weights at `direct_bits`,
  // for as many epochs as the quantized stages down to that bit-width together (unless direct_epochs > 0).
  int direct_bits = 0;  // 0 = no direct baseline
  double direct_epochs = 0;
  double direct_lr = 0;  // 0 = lr of the first quantized stage
  std::string direct_teacher = "self";  // "parent": distil from the float stage's frozen supernet
};

// Reads the "supernet" section; stage names must be distinct and quant strings valid.
SupernetOptions read_supernet_options(util::ConfigNode node);

// Uniform bit-width of a stage quant string: 0 for "float", b for "w<b>a<b>", -1 for "mixed" or w != a.
int stage_bits(const std::string& quant);

// The direct baseline stage of `o`, named "direct-w<b>a<b>-e<epochs>-lr<lr>[-t<teacher>]" (its settings);
// requires o.direct_bits > 0.
SupernetStage direct_stage(const SupernetOptions& o);

}  // namespace oqa::train
