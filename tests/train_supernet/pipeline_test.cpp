// Pipeline tests: resume equivalence across stages, NaN stop with an intact checkpoint, bit inheritance 4 -> 3,
// stage evaluation that leaves the supernet as it was.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "oqa/quant/quantizer.h"
#include "oqa/train/metrics.h"
#include "oqa/train/retrain.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/error.h"
#include "supernet_test_support.h"

using namespace oqa;

namespace {

struct EnvVar {
  explicit EnvVar(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~EnvVar() { ::unsetenv(name_); }
  const char* name_;
};

// Runs the pipeline expecting the injected NaN; returns the error.
util::Error run_until_nan(const nlohmann::json& config, const std::string& run_dir, int64_t step) {
  EnvVar nan("OQA_DEBUG_NAN_AT_STEP", std::to_string(step));
  try {
    test::run_pipeline(config, run_dir);
  } catch (const util::Error& e) {
    return e;
  }
  ADD_FAILURE() << "the run did not stop at the injected NaN (step " << step << ")";
  return util::internal_error("no error");
}

// Reads a config expected to be refused; returns the error (a failure, and an error naming no field, if not).
util::Error config_error(const nlohmann::json& config, const std::string& what) {
  try {
    test::experiment_of(config);
  } catch (const util::Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted " << what;
  return util::internal_error("no error");
}

}  // namespace

// Stopped twice (once in the float stage, once in the middle of the 4-bit stage's second epoch) and resumed,
// the run must end with the same tensors as an uninterrupted one. Everything random is seeded per step, the
// loader order is a function of (seed, epoch) and checkpoints hold optimizer state, so both runs do the same
// float operations in the same order with the same thread count: the results are expected bit-identical. The
// tolerance 1e-6 (absolute, on values of order 1) only allows for a different reduction order if LibTorch ever
// split a reduction differently between the two processes' thread pools; a real resume bug (a skipped or
// repeated batch, a lost momentum buffer, a different subnet draw) moves weights by 1e-3 or more.
TEST(Pipeline, ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne) {
  TestDir dir;
  const nlohmann::json config = test::tiny_config();
  const std::string straight = (dir.path / "straight").string(), resumed = (dir.path / "resumed").string();
  auto summary = test::run_pipeline(config, straight);

  // float: 8 steps (0..7), checkpoints at 4; w4a4: 16 steps, checkpoints at 4, 8 (epoch end), 12.
  util::Error first = run_until_nan(config, resumed, 6);
  EXPECT_EQ(first.kind(), util::ErrorKind::kNumeric);
  EXPECT_EQ(train::read_checkpoint_meta(train::stage_checkpoint(resumed, "float")).step, 4);
  util::Error second = run_until_nan(config, resumed, 14);  // float step 14 does not exist: stops in w4a4
  EXPECT_EQ(train::read_checkpoint_meta(train::stage_checkpoint(resumed, "w4a4")).step, 12);
  auto resumed_summary = test::run_pipeline(config, resumed);

  for (const char* stage : {"float", "w4a4"}) {
    auto a = test::load_supernet(config, train::stage_checkpoint(straight, stage));
    auto b = test::load_supernet(config, train::stage_checkpoint(resumed, stage));
    EXPECT_LE(test::max_state_difference(*a, *b), 1e-6) << stage;
  }
  EXPECT_EQ(summary["stages"].size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_NEAR(summary["stages"][i]["largest"]["test_top1"].get<double>(),
                resumed_summary["stages"][i]["largest"]["test_top1"].get<double>(), 1e-9);
  // The metrics of the resumed run hold each logged step once.
  train::MetricsLog log(resumed + "/metrics.jsonl");
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& r : log.records()) {
    if (!r.contains("loss")) continue;
    EXPECT_TRUE(seen.insert(std::make_pair(r["stage"].get<std::string>(), r["step"].get<int64_t>())).second)
        << r.dump();
  }
  EXPECT_EQ(seen.size(), 4u + 8u);  // log_every 2: 8 / 2 + 16 / 2
}

// Progressive shrinking in the float stage: 8 steps, phases largest 0-1, kernel 2-3, depth 4-5, width 6-7 (the
// channels sorted before step 6). Stopped at step 7 (after the sort; the last checkpoint is from step 4, before
// it) and resumed, the run must sort again at step 6 and end with the uninterrupted run's tensors.
TEST(Pipeline, ProgressiveShrinkingResumesAcrossTheChannelSort) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = {{{"quant", "float"}, {"epochs", 1}, {"lr", 0.05}, {"progressive", true}}};
  const std::string straight = (dir.path / "straight").string(), resumed = (dir.path / "resumed").string();
  test::run_pipeline(config, straight);
  run_until_nan(config, resumed, 7);
  EXPECT_EQ(train::read_checkpoint_meta(train::stage_checkpoint(resumed, "float")).step, 4);
  test::run_pipeline(config, resumed);
  auto a = test::load_supernet(config, train::stage_checkpoint(straight, "float"));
  auto b = test::load_supernet(config, train::stage_checkpoint(resumed, "float"));
  EXPECT_LE(test::max_state_difference(*a, *b), 1e-6);

  config["supernet"]["stages"] = {{{"quant", "float"}, {"epochs", 1}},
                                  {{"quant", "w4a4"}, {"epochs", 1}, {"progressive", true}}};
  const util::Error e = config_error(config, "progressive shrinking in a quantized stage");
  EXPECT_EQ(e.field_name(), "supernet.stages[1].progressive") << e.what();
}

TEST(Pipeline, NanLossStopsWithTheMessageAndKeepsTheLastCheckpoint) {
  TestDir dir;
  const nlohmann::json config = test::tiny_config();
  const std::string run = (dir.path / "run").string();
  util::Error e = run_until_nan(config, run, 5);
  EXPECT_EQ(e.kind(), util::ErrorKind::kNumeric);
  const std::string message = e.what();
  EXPECT_NE(message.find("loss is nan at step 5"), std::string::npos) << message;
  EXPECT_NE(message.find("float"), std::string::npos) << message;
  const std::string ckpt = train::stage_checkpoint(run, "float");
  EXPECT_NE(message.find(ckpt), std::string::npos) << message;
  // The checkpoint is the one of step 4 and loads; the weights in it are finite.
  auto meta = train::read_checkpoint_meta(ckpt);
  EXPECT_EQ(meta.step, 4);
  EXPECT_FALSE(meta.extra.value("done", true));
  auto net = test::load_supernet(config, ckpt);
  for (const auto& p : net->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  EXPECT_FALSE(std::filesystem::exists(train::stage_checkpoint(run, "w4a4")));
}

// A NaN at the first step of a later stage (before it wrote a checkpoint) names the run's last good one: the
// finished parent stage's, not "none yet".
TEST(Pipeline, NanAtTheStartOfAStageNamesTheParentsCheckpoint) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"][0]["epochs"] = 0;  // the float stage only writes its checkpoint
  const std::string run = (dir.path / "run").string();
  util::Error e = run_until_nan(config, run, 0);  // the first step of w4a4
  const std::string message = e.what();
  EXPECT_NE(message.find("of stage 'w4a4'"), std::string::npos) << message;
  EXPECT_NE(message.find(train::stage_checkpoint(run, "float")), std::string::npos) << message;
  EXPECT_EQ(message.find("checkpoint: none yet"), std::string::npos) << message;
}

// 4-bit supernet trained from float weights; the 3-bit stage has 0 epochs, so its result is the inherited
// supernet before any fine-tuning. A 2-bit stage with step_size_rule "data" keeps the 3-bit weights but
// not their step sizes.
TEST(Pipeline, BitInheritanceGivesA3BitSupernetAboveChanceWithDoubledStepSizes) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([
      {"quant": "float", "epochs": 3, "lr": 0.05}, {"quant": "w4a4", "epochs": 2, "lr": 0.02},
      {"quant": "w3a3", "epochs": 0, "lr": 0.01, "step_size_rule": "double"},
      {"quant": "w2a2", "epochs": 0, "lr": 0.01, "step_size_rule": "data"}])");
  const std::string run = (dir.path / "run").string();
  auto summary = test::run_pipeline(config, run);
  ASSERT_EQ(summary["stages"].size(), 4u);
  EXPECT_EQ(summary["stages"][3]["init"], "weights of w3a3, step sizes from data") << summary.dump();
  const auto& w4 = summary["stages"][1];
  const auto& w3 = summary["stages"][2];
  EXPECT_NE(w3["init"].get<std::string>().find("inherited from w4a4"), std::string::npos) << w3.dump();
  const double chance = 10.0;  // 10 balanced synthetic classes
  EXPECT_GT(w4["largest"]["test_top1"].get<double>(), 3 * chance) << summary.dump();
  EXPECT_GT(w3["largest"]["test_top1"].get<double>(), 3 * chance) << summary.dump();
  EXPECT_GT(w3["smallest"]["test_top1"].get<double>(), 2 * chance) << summary.dump();

  auto net4 = test::load_supernet(config, train::stage_checkpoint(run, "w4a4"));
  auto net3 = test::load_supernet(config, train::stage_checkpoint(run, "w3a3"));
  const auto& space = net4->space();
  int checked = 0;
  for (size_t i = 0; i < space.layer_slots().size(); ++i) {
    if (space.layer_slots()[i].precision.kind != space::Precision::Kind::kSearched) continue;
    auto& q4 = net4->layer_quantizers()[i].second;
    auto& q3 = net3->layer_quantizers()[i].second;
    for (auto [a, b] : {std::make_pair(q4->weight, q3->weight), std::make_pair(q4->input, q3->input)})
      for (const auto& spec : a->specs()) {
        if (spec.bits != 4) continue;
        const auto& from = a->entry(spec);
        const auto& to = b->entry(spec.with_bits(3));
        ASSERT_TRUE(from.initialized.all().item<bool>()) << spec.key();
        EXPECT_TRUE(to.initialized.all().item<bool>());
        EXPECT_TRUE(torch::allclose(to.step_size, 2 * from.step_size, 0, 0)) << spec.key();
        ++checked;
      }
  }
  EXPECT_GT(checked, 6);
  // The 2-bit stage (no training) left its entries for LSQ's data initialisation: none was inherited.
  auto net2 = test::load_supernet(config, train::stage_checkpoint(run, "w2a2"));
  int fresh = 0;
  for (size_t i = 0; i < space.layer_slots().size(); ++i) {
    if (space.layer_slots()[i].precision.kind != space::Precision::Kind::kSearched) continue;
    auto& q2 = net2->layer_quantizers()[i].second;
    for (const auto& q : {q2->weight, q2->input})
      for (const auto& spec : q->specs())
        if (spec.bits == 2) {
          EXPECT_FALSE(q->entry(spec).initialized.any().item<bool>()) << spec.key();
          ++fresh;
        }
  }
  EXPECT_GT(fresh, 0);
}

// The direct baseline starts from the float stage with the budget of the quantized stages down to its bits.
TEST(Pipeline, DirectBaselineStartsFromFloatWithTheSameBudget) {
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([
      {"quant": "float", "epochs": 1}, {"quant": "w4a4", "epochs": 2, "lr": 0.02},
      {"quant": "w3a3", "epochs": 1, "lr": 0.01}, {"quant": "w2a2", "epochs": 3, "lr": 0.005}])");
  config["supernet"]["direct_bits"] = 3;
  train::Experiment e = test::experiment_of(config);
  auto stages = train::pipeline_stages(e.supernet, false);
  ASSERT_EQ(stages.size(), 5u);
  EXPECT_EQ(stages.back().name, "direct-w3a3-e3-lr0.02");
  EXPECT_EQ(stages.back().epochs, 3);  // w4a4 + w3a3
  EXPECT_DOUBLE_EQ(stages.back().lr, 0.02);
  EXPECT_EQ(train::parent_stage(stages, 4), "float");
  EXPECT_EQ(train::parent_stage(stages, 3), "w3a3");
  auto only = train::pipeline_stages(e.supernet, true);
  ASSERT_EQ(only.size(), 2u);
  EXPECT_EQ(only[0].name, "float");
  // Adding the direct baseline does not change the run's identity (a finished run can gain it on resume).
  nlohmann::json without = config;
  without["supernet"].erase("direct_bits");
  EXPECT_EQ(test::experiment_of(without).hash, e.hash);
  // Every setting of the baseline changes its folder and the hash its checkpoints carry, so a changed
  // baseline is trained anew instead of reusing an old result.
  const std::string base_hash = train::stage_config_hash(e, stages.back());
  EXPECT_EQ(train::stage_config_hash(e, stages[3]), e.hash);
  std::set<std::string> names = {stages.back().name}, hashes = {base_hash};
  for (const char* change : {"direct_bits=2", "direct_epochs=7", "direct_lr=0.05", "direct_teacher=\"parent\""}) {
    nlohmann::json c = config;
    const std::string key(change, std::strchr(change, '=') - change);
    c["supernet"][key] = nlohmann::json::parse(std::strchr(change, '=') + 1);
    train::Experiment ec = test::experiment_of(c);
    const train::SupernetStage d = train::pipeline_stages(ec.supernet, false).back();
    EXPECT_TRUE(names.insert(d.name).second) << change << ": " << d.name;
    EXPECT_TRUE(hashes.insert(train::stage_config_hash(ec, d)).second) << change;
  }
}

// Two short stages on 256 synthetic images, all defaults (no clipping flag): the 1-epoch 2-bit stage, inherited
// and direct, ends with a finite loss and finite, positive step sizes, and metrics.jsonl counts the clamps.
TEST(Pipeline, OneEpochTwoBitStageOnASmallRunStaysFinite) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["data"]["synthetic_train"] = 256;
  config["supernet"]["stages"] = nlohmann::json::parse(R"([
      {"quant": "float", "epochs": 2, "lr": 0.05}, {"quant": "w4a4", "epochs": 1, "lr": 0.02},
      {"quant": "w2a2", "epochs": 1, "lr": 0.02}])");
  config["supernet"]["direct_bits"] = 2;
  config["supernet"]["direct_epochs"] = 1;
  const std::string run = (dir.path / "run").string();
  auto summary = test::run_pipeline(config, run);
  ASSERT_EQ(summary["stages"].size(), 4u);
  for (const auto& st : summary["stages"]) {
    const std::string name = st["stage"];
    if (name == "float") continue;
    auto net = test::load_supernet(config, train::stage_checkpoint(run, name));
    for (const auto& p : net->named_parameters())
      if (p.key().find("step_") != std::string::npos) {
        EXPECT_TRUE(torch::isfinite(p.value()).all().item<bool>()) << name << " " << p.key();
        EXPECT_TRUE((p.value() > 0).all().item<bool>()) << name << " " << p.key();
      }
    EXPECT_TRUE(std::isfinite(st["largest"]["test_top1"].get<double>())) << name;
  }
  bool logged = false;
  std::ifstream metrics(run + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    auto r = nlohmann::json::parse(line);
    if (r.contains("loss")) {
      EXPECT_TRUE(std::isfinite(r["loss"].get<double>())) << line;
    }
    if (r.contains("step_sizes_bounded")) logged = true;
  }
  EXPECT_TRUE(logged);
}

TEST(Pipeline, ConfigErrorsNameTheField) {
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"][1]["quant"] = "w9a9";
  const util::Error bad_quant = config_error(config, "w9a9");
  EXPECT_EQ(bad_quant.field_name(), "supernet.stages[1].quant") << bad_quant.what();
  config = test::tiny_config();
  config["supernet"]["distil"] = "gpg";
  const util::Error misspelt = config_error(config, "a misspelt key");
  EXPECT_NE(std::string(misspelt.what()).find("distill"), std::string::npos) << misspelt.what();
  // A frozen teacher with GPG is refused when the config is read, naming the stage's field.
  config = test::tiny_config();
  config["supernet"]["distill"] = "gpg";
  config["supernet"]["stages"][1]["teacher"] = "parent";
  const util::Error gpg_teacher = config_error(config, "a frozen teacher with GPG");
  EXPECT_EQ(gpg_teacher.field_name(), "supernet.stages[1].teacher") << gpg_teacher.what();
}

// Default teachers: a stage that drops bits from a quantized parent distils from the parent's frozen supernet,
// a 2-bit one from the float stage's (docs/results.md: inheritance-quick and medium); the first quantized
// stage, and every stage under GPG, from itself; without a float first stage a 2-bit stage takes its parent.
TEST(Pipeline, DefaultTeachersFollowTheMeasuredRule) {
  auto teachers = [](const nlohmann::json& stages, const std::string& distill) {
    nlohmann::json config = test::tiny_config();
    config["supernet"]["stages"] = stages;
    config["supernet"]["distill"] = distill;
    std::vector<std::string> out;
    for (const auto& s : test::experiment_of(config).supernet.stages) out.push_back(s.teacher);
    return out;
  };
  const nlohmann::json chain = nlohmann::json::parse(R"([{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "w4a4", "epochs": 1, "lr": 0.02},
      {"quant": "w3a3", "epochs": 1, "lr": 0.02}, {"quant": "w2a2", "epochs": 1, "lr": 0.02}])");
  EXPECT_EQ(teachers(chain, "sandwich"), (std::vector<std::string>{"self", "self", "parent", "float"}));
  EXPECT_EQ(teachers(chain, "gpg"), (std::vector<std::string>{"self", "self", "self", "self"}));
  const nlohmann::json no_float =
      nlohmann::json::parse(R"([{"quant": "w4a4", "epochs": 1, "lr": 0.02}, {"quant": "w2a2", "epochs": 1, "lr": 0.02}])");
  EXPECT_EQ(teachers(no_float, "sandwich"), (std::vector<std::string>{"self", "parent"}));
}

// The retrain baseline trains one subnet alone from the float stage's weights: its folder names the subnet,
// bits, epochs and lr; a block the smallest subnet skips keeps the float weights exactly while the layers it
// runs move; the result is measured and a second call reuses it.
TEST(Retrain, TrainsOnlyTheFixedSubnetFromTheFloatWeights) {
  TestDir dir;
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([{"quant": "float", "epochs": 1, "lr": 0.05}])");
  const std::string run = (dir.path / "run").string();
  test::run_pipeline(config, run);
  train::Experiment e = test::experiment_of(config);
  train::RetrainOptions o;
  o.subnet = "smallest";
  o.bits = 2;
  o.epochs = 1;
  o.lr = 0.02;
  const nlohmann::json r = train::retrain_subnet(e, run, o);
  EXPECT_EQ(r["dir"], run + "/retrain/smallest-w2a2-e1-lr0.02");
  EXPECT_GE(r["test_top1"].get<double>(), 0.0);
  auto before = test::load_supernet(config, train::stage_checkpoint(run, "float"));
  auto after = test::load_supernet(config, r["dir"].get<std::string>() + "/checkpoints/last.pt");
  auto pa = after->named_parameters();
  int moved = 0, kept = 0;
  for (const auto& p : before->named_parameters()) {
    if (p.key().find("quantizer") != std::string::npos) continue;
    const bool same = torch::equal(p.value(), pa[p.key()]);
    // Depth {1, 2}: the smallest runs block 0 of each stage only.
    if (p.key().rfind("stages.0.1.", 0) == 0 || p.key().rfind("stages.1.1.", 0) == 0) {
      EXPECT_TRUE(same) << p.key();
      ++kept;
    } else if (!same) {
      ++moved;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(moved, 0);
  EXPECT_EQ(train::retrain_subnet(e, run, o), r);
}

// --own-quant: the subnet file's own bits and forms are trained (only their step-size entries get values), the
// folder says "own", the result names the quantization, and WDR is never part of the baseline.
TEST(Retrain, OwnQuantTrainsTheSubnetsOwnFormOnly) {
  TestDir dir;
  nlohmann::json config = test::tiny_forms_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([{"quant": "float", "epochs": 1, "lr": 0.05}])");
  config["supernet"]["wdr_weight"] = 1.0;
  const std::string run = (dir.path / "run").string();
  test::run_pipeline(config, run);
  const nlohmann::json form = {{"weight_bits", 3}, {"act_bits", 2}, {"weight_granularity", "per_tensor"},
                               {"weight_symmetric", false}, {"act_symmetric", false}};
  const std::string file = (dir.path / "w3a2-pt-asym.json").string();
  util::write_json(file, {{"quant", form}});
  train::Experiment e = test::experiment_of(config);
  train::RetrainOptions o;
  o.subnet = file;
  o.bits = 0;
  o.epochs = 1;
  o.lr = 0.02;
  const nlohmann::json r = train::retrain_subnet(e, run, o);
  EXPECT_EQ(r["dir"], run + "/retrain/w3a2-pt-asym-own-e1-lr0.02");
  EXPECT_EQ(r["quant"], "own");
  EXPECT_EQ(r["subnet_quant"], form);
  auto net = test::load_supernet(config, r["dir"].get<std::string>() + "/checkpoints/last.pt");
  quant::QuantSpec used{3, true, quant::Granularity::kPerTensor, 0, false};
  quant::QuantSpec other{2, true, quant::Granularity::kPerTensor, 0, true};
  int searched = 0;
  const auto& slots = e.space->layer_slots();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].searched < 0) continue;
    ++searched;
    const auto& q = net->layer_quantizers()[i].second->weight;
    EXPECT_TRUE(q->is_initialized(used)) << slots[i].name;
    EXPECT_FALSE(q->has_entry(other) && q->is_initialized(other)) << slots[i].name;
  }
  EXPECT_GT(searched, 5);
  const train::MetricsLog metrics(r["dir"].get<std::string>() + "/metrics.jsonl");
  ASSERT_FALSE(metrics.records().empty());
  for (const auto& rec : metrics.records()) EXPECT_FALSE(rec.contains("wdr")) << rec.dump();
}

// A stage trains at least min_stage_steps optimizer steps (by hand: ceil(300 / 35) = 9 epochs), never fewer
// than configured, and a 0-epoch stage stays untrained.
TEST(Pipeline, ShortStagesTrainUpToTheMinimumSteps) {
  EXPECT_EQ(train::trained_epochs(1, 35, 300), 9);
  EXPECT_EQ(train::trained_epochs(1, 299, 300), 2);
  EXPECT_EQ(train::trained_epochs(1, 300, 300), 1);
  EXPECT_EQ(train::trained_epochs(3, 421, 300), 3);
  EXPECT_EQ(train::trained_epochs(0, 35, 300), 0);
  EXPECT_EQ(train::trained_epochs(2, 35, 0), 2);
}

// schedule = "continue": the stage's learning rate continues its parent's cosine (by hand, 10 steps per
// epoch, warm-up 0.5 epochs of w4a4 = 5 steps, chain w4a4 + w3a3 + w2a2 = 10 + 10 + 20 steps); the float stage
// and the direct baseline (not in the list) keep their own. "continue" on the first stage or an unknown value
// is refused naming the field.
TEST(Pipeline, ContinuedScheduleSpansTheChainOfStages) {
  nlohmann::json config = test::tiny_config();
  config["supernet"]["stages"] = nlohmann::json::parse(R"([
      {"quant": "float", "epochs": 2, "lr": 0.1},
      {"quant": "w4a4", "epochs": 1, "lr": 0.02, "warmup_epochs": 0.5},
      {"quant": "w3a3", "epochs": 1, "lr": 0.5, "schedule": "continue"},
      {"quant": "w2a2", "epochs": 2, "lr": 0.5, "warmup_epochs": 3, "schedule": "continue"}])");
  config["supernet"]["direct_bits"] = 2;
  const train::Experiment e = test::experiment_of(config);
  const auto& st = e.supernet.stages;
  const auto sched = [&](const train::SupernetStage& s) { return train::stage_schedule(e.supernet, s, e.train, 10); };
  EXPECT_EQ(sched(st[0]).total_steps, 20);
  EXPECT_DOUBLE_EQ(sched(st[0]).base_lr, 0.1);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(sched(st[i]).base_lr, 0.02) << i;
    EXPECT_EQ(sched(st[i]).warmup_steps, 5) << i;
    EXPECT_EQ(sched(st[i]).total_steps, 40) << i;
  }
  EXPECT_EQ(sched(st[1]).offset_steps, 0);
  EXPECT_EQ(sched(st[2]).offset_steps, 10);
  EXPECT_EQ(sched(st[3]).offset_steps, 20);
  const double t = (10.0 - 5.0) / 35.0;  // w3a3's first step: step 10 of the chain, 5 after the warm-up
  EXPECT_NEAR(train::CosineSchedule(sched(st[2])).lr_at(0), 0.01 * (1 + std::cos(M_PI * t)), 1e-12);
  EXPECT_DOUBLE_EQ(train::CosineSchedule(sched(st[2])).lr_at(0), train::CosineSchedule(sched(st[1])).lr_at(10));
  train::SupernetStage direct = train::direct_stage(e.supernet);
  direct.epochs = 3;
  EXPECT_EQ(sched(direct).total_steps, 30);
  EXPECT_EQ(sched(direct).offset_steps, 0);
  for (const char* bad : {"first", "value"}) {
    nlohmann::json c = test::tiny_config();
    c["supernet"]["stages"][bad[0] == 'f' ? 0 : 1]["schedule"] = bad[0] == 'f' ? "continue" : "keep";
    EXPECT_EQ(config_error(c, bad).field_name(),
              std::string("supernet.stages[") + (bad[0] == 'f' ? "0" : "1") + "].schedule");
  }
}

// Evaluating a stage recalibrates BN for the largest and then the smallest subnet; the supernet must come back
// with the running statistics it had (before the fix it kept the smallest subnet's).
TEST(Pipeline, EvaluateStageLeavesTheBatchNormStatisticsAsTheyWere) {
  TestDir dir;
  train::Experiment e = test::experiment_of(test::tiny_config());
  data::Splits splits = data::open_splits(e.data, e.seed);
  auto net = space::make_supernet(e.space);
  auto before = space::make_supernet(e.space);
  {
    torch::NoGradGuard no_grad;
    net->train();
    net->set_active(e.space->largest());
    net->forward(torch::randn({8, 1, 16, 16}) * 3 + 1);  // running statistics away from their initial values
    for (auto& b : before->named_buffers()) b.value().copy_(net->named_buffers()[b.key()]);
    for (auto& p : before->named_parameters()) p.value().copy_(net->named_parameters()[p.key()]);
  }
  train::MetricsLog metrics((dir.path / "metrics.jsonl").string());
  train::StageContext ctx{e, dir.path.string(), splits, metrics,
                          train::SubnetEvalSetup{splits.train, train::eval_loader_options(e.loader, 160), 96}};
  const auto stages = train::pipeline_stages(e.supernet, false);
  nlohmann::json r = train::evaluate_stage(*net, stages.back(), ctx);
  EXPECT_TRUE(r["smallest"].contains("test_top1"));
  EXPECT_EQ(test::max_state_difference(*net, *before), 0.0);
}
