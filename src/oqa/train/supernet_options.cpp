// Reading and checking the "supernet" config section.
#include "oqa/train/supernet_options.h"

#include <set>

#include <fmt/format.h>

#include "oqa/util/json_reader.h"
#include "oqa/space/quant_choices.h"
#include "oqa/space/space_config.h"

namespace oqa::train {
namespace {

const nlohmann::json kDefaultStages = nlohmann::json::array({
    {{"quant", "float"}, {"epochs", 2}, {"lr", 0.05}},
    {{"quant", "w4a4"}, {"epochs", 1}, {"lr", 0.02}},
    {{"quant", "w3a3"}, {"epochs", 1}, {"lr", 0.02}},
    {{"quant", "w2a2"}, {"epochs", 1}, {"lr", 0.02}},
});

const char* const kGpgTeacher = "GPG distils from its own subnets: a frozen teacher needs distill \"sandwich\"";

}  // namespace

int stage_bits(const std::string& quant) {
  if (quant == "float") return 0;
  int w = 0, a = 0;
  if (space::parse_wa(quant, w, a) && w == a) return w;
  return -1;
}

SupernetOptions read_supernet_options(util::ConfigNode node) {
  SupernetOptions o;
  o.distill = node.get_choice("distill", o.distill, {"sandwich", "gpg"});
  o.random_subnets = node.get_int_range("random_subnets", o.random_subnets, 0, 64);
  o.kd_ce_weight = node.get_range("kd_ce_weight", o.kd_ce_weight, 0.0, 100.0);
  o.wdr_weight = node.get_range("wdr_weight", o.wdr_weight, 0.0, 100.0);
  o.bn_recal_images = node.get_int_range("bn_recal_images", o.bn_recal_images, 0, int64_t{1} << 30);
  o.eval_each_epoch = node.get<bool>("eval_each_epoch", o.eval_each_epoch);
  o.min_stage_steps = node.get_int_range("min_stage_steps", o.min_stage_steps, 0, int64_t{1} << 30);
  std::set<std::string> names;
  util::read_object_list(node, "stages", kDefaultStages, [&](util::JsonReader& r) {
    SupernetStage s;
    s.quant = r.get_string("quant", "float");
    int w = 0, a = 0;
    if (s.quant != "float" && s.quant != "mixed" && !space::parse_wa(s.quant, w, a))
      throw r.error("quant", "expected \"float\", \"mixed\" or \"w<b>a<b>\" with b in 2..8").value(s.quant);
    s.name = r.get_string("name", s.quant);
    if (s.name.empty() || s.name.find('/') != std::string::npos || s.name.rfind("direct-", 0) == 0)
      throw r.error("name", "a stage name must be a plain folder name not starting with \"direct-\"")
          .value(s.name);
    if (!names.insert(s.name).second) throw r.error("name", "two stages share this name").value(s.name);
    s.epochs = r.get_range("epochs", s.epochs, 0.0, 100000.0);
    s.lr = r.get_range("lr", s.lr, 0.0, 100.0);
    s.warmup_epochs = r.get_range("warmup_epochs", s.warmup_epochs, -1.0, 1e5);
    const std::string schedule = r.get_choice("schedule", "restart", {"restart", "continue"});
    s.continue_schedule = schedule == "continue";
    if (s.continue_schedule && o.stages.empty())
      throw r.error("schedule", "the first stage has no schedule to continue").value(schedule);
    s.progressive = r.get_bool("progressive", s.progressive);
    if (s.progressive && s.quant != "float")
      throw r.error("progressive", "progressive shrinking trains a float stage; this stage is " + s.quant)
          .value("true");
    const std::string rule = r.get_choice("step_size_rule", "data", {"double", "min_error", "data"});
    s.step_size_rule = rule == "double" ? StepSizeRule::kDouble
                       : rule == "min_error" ? StepSizeRule::kMinError
                                             : StepSizeRule::kData;
    // Default teacher (measured best: docs/results.md): a stage that drops bits from a quantized parent
    // distils from the parent's frozen supernet, and a 2-bit one from the float stage's; others from themselves.
    const bool quantized_parent = !o.stages.empty() && stage_bits(o.stages.back().quant) >= 2;
    const bool after_float = !o.stages.empty() && o.stages.front().quant == "float";
    const char* teacher = "self";
    if (quantized_parent && s.quant != "float" && o.distill == "sandwich")
      teacher = stage_bits(s.quant) == 2 && after_float ? "float" : "parent";
    s.teacher = r.get_choice("teacher", teacher, {"self", "parent", "float"});
    if (s.teacher != "self" && (o.stages.empty() || s.quant == "float"))
      throw r.error("teacher", "a frozen teacher needs a quantized stage after the first").value(s.teacher);
    if (s.teacher != "self" && o.distill == "gpg")
      throw r.error("teacher", kGpgTeacher).value(s.teacher);
    o.stages.push_back(s);
  });
  o.direct_bits = static_cast<int>(node.get_int_range("direct_bits", o.direct_bits, 0, 8));
  if (o.direct_bits == 1) throw node.error("direct_bits", "must be 0 (off) or 2..8").value("1");
  o.direct_epochs = node.get_range("direct_epochs", o.direct_epochs, 0.0, 100000.0);
  o.direct_lr = node.get_range("direct_lr", o.direct_lr, 0.0, 100.0);
  o.direct_teacher = node.get_choice("direct_teacher", o.direct_teacher, {"self", "parent"});
  if (o.direct_teacher != "self" && o.distill == "gpg") throw node.error("direct_teacher", kGpgTeacher).value(o.direct_teacher);
  if (o.direct_bits > 0 && (o.stages.empty() || o.stages.front().quant != "float"))
    throw node.error("direct_bits",
                     "the direct baseline starts from the float stage: make \"float\" the first stage");
  return o;
}

SupernetStage direct_stage(const SupernetOptions& o) {
  SupernetStage d;
  const std::string wa = "w" + std::to_string(o.direct_bits) + "a" + std::to_string(o.direct_bits);
  d.name = "direct-" + wa;
  d.quant = wa;
  d.epochs = 0;
  d.lr = o.direct_lr;
  d.teacher = o.direct_teacher;
  for (const SupernetStage& s : o.stages) {
    if (s.quant == "float") continue;
    if (d.lr == 0) d.lr = s.lr;
    d.epochs += s.epochs;
    if (s.quant == wa) break;
  }
  if (o.direct_epochs > 0) d.epochs = o.direct_epochs;
  // The folder names every setting of the baseline, so changing one trains a new baseline instead of
  // silently reusing the old result.
  d.name += fmt::format("-e{:g}-lr{:g}{}", d.epochs, d.lr, d.teacher == "self" ? "" : "-t" + d.teacher);
  return d;
}

}  // namespace oqa::train
