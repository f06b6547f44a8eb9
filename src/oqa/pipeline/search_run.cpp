// run_search: the search pipeline on a loaded run as named steps (costs, measurement, accuracy dataset,
// predictors, algorithms, candidates measured, outputs).
#include "oqa/pipeline/search_run.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/cost/cost.h"
#include "oqa/cost/latency_table.h"
#include "oqa/search/accuracy_dataset.h"
#include "oqa/search/anchors.h"
#include "oqa/search/evolution.h"
#include "oqa/search/pareto_plot.h"
#include "oqa/search/predictor.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/train/supernet_stage.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"
#include "oqa/util/progress.h"

namespace oqa::pipeline {

using namespace oqa::search;  // the search module's budgets, predictors and algorithms, used throughout

namespace {

// A subnet measured on validation and test, with its prediction and costs.
struct Measured {
  Candidate candidate;
  double val = 0, test = 0;
  bool anchor = false;  // a uniform anchor (uniform_anchors), not a searched candidate
  util::Json to_json(const space::Space& space) const {
    util::Json j = {{"subnet", space::to_json(candidate.subnet)},
                    {"hash", space.hash_hex(candidate.subnet)},
                    {"predicted_top1", candidate.score},
                    {"val_top1", val},
                    {"test_top1", test},
                    {"costs", candidate.costs.to_json()}};
    if (anchor) j["uniform_anchor"] = true;
    return j;
  }
};

bool needs_latency(const SearchRequest& r, Metric objective) {
  bool need = objective == Metric::kLatency;
  for (const Budget& b : r.budgets) need = need || b.metric == Metric::kLatency;
  return need;
}

std::string checkpoint_fingerprint(const std::string& run_dir, const std::string& stage) {
  return util::hex64(util::fnv1a64(util::read_file(train::stage_checkpoint(run_dir, stage))));
}

// Picks up to n indices spread evenly over [0, size).
std::vector<size_t> spread(size_t size, size_t n) {
  std::vector<size_t> out;
  if (size == 0 || n == 0) return out;
  if (n >= size) {
    out.resize(size);
    std::iota(out.begin(), out.end(), size_t{0});
    return out;
  }
  for (size_t k = 0; k < n; ++k) {
    const size_t i = n == 1 ? size - 1 : k * (size - 1) / (n - 1);
    if (out.empty() || out.back() != i) out.push_back(i);
  }
  return out;
}

// ---- step 1: costs -------------------------------------------------------------------------------------
// The latency table when a budget or the objective needs one (or one was given).
std::optional<cost::LatencyTable> load_latency_table(const SearchRequest& req, Metric objective,
                                                     const std::string& run_dir) {
  if (needs_latency(req, objective) && req.latency_table.empty())
    throw util::usage_error(
        "a latency budget or objective needs --latency-table FILE (make one with `oqa bench "
        "latency --config " +
        run_dir + "/config.json`)");
  if (req.latency_table.empty()) return std::nullopt;
  return cost::LatencyTable::load(req.latency_table);
}

// A subnet's costs (subnet_costs) with the predicted latency when a table is given.
std::function<Costs(const space::Subnet&)> cost_function(const space::Space& space, space::Supernet& net,
                                                         const std::optional<cost::LatencyTable>& table) {
  return [&space, &net, &table](const space::Subnet& s) {
    Costs c = subnet_costs(space, s);
    if (table) c.latency_ms = table->predict(space::extract_static(net, s));
    return c;
  };
}

// ---- step 2: measurement on validation (search) and test (report) ----------------------------------------
struct Measurement {
  data::Splits splits;
  data::DatasetPtr val;  // the validation images the search measures on (search.val_images of them)
  int64_t bn_images = 0;
  train::SubnetEvalSetup setup;
  space::Supernet* net = nullptr;
  double top1(const space::Subnet& s, const data::DatasetPtr& d) const {
    return train::evaluate_subnet(*net, s, d, setup, "").top1;
  }
};

Measurement open_measurement(const train::Experiment& e, space::Supernet& net, const SearchOptions& o,
                             const std::string& run_dir) {
  Measurement m;
  m.splits = data::open_splits(e.data, e.seed);
  if (!m.splits.val || m.splits.val->size() == 0)
    throw util::usage_error(
        "the run has no validation split (data.val_fraction is 0): search measures on "
        "validation images, never on the test set")
        .file(run_dir + "/config.json")
        .field("data.val_fraction");
  m.val = m.splits.val;
  if (o.val_images > 0 && static_cast<size_t>(o.val_images) < m.val->size()) {
    std::vector<size_t> idx(static_cast<size_t>(o.val_images));
    std::iota(idx.begin(), idx.end(), size_t{0});
    m.val = data::subset(m.val, idx);
  }
  m.bn_images = o.bn_images >= 0 ? o.bn_images : e.supernet.bn_recal_images;
  m.setup = {m.splits.train, train::eval_loader_options(e.loader, e.train.eval_batch_size), m.bn_images};
  m.net = &net;
  return m;
}

// ---- step 3: accuracy dataset (resumable: accuracy.json) -------------------------------------------------
struct AccuracySet {
  std::vector<space::Subnet> subnets;
  std::vector<AccuracyRecord> records;
  std::vector<double> top1;
};

AccuracySet measure_accuracy_set(const train::Experiment& e, const SearchOptions& o, const Measurement& m,
                                 const std::function<space::Subnet(space::Subnet)>& normalize,
                                 const std::string& run_dir, const std::string& stage,
                                 const std::string& out_dir) {
  const space::Space& space = *e.space;
  const util::Json settings = {{"stage", stage},
                               {"checkpoint", checkpoint_fingerprint(run_dir, stage)},
                               {"val_images", static_cast<int64_t>(m.val->size())},
                               {"bn_images", m.bn_images},
                               {"seed", e.seed}};
  AccuracySet a;
  a.subnets = accuracy_subnets(space, o.samples, e.seed, normalize);
  a.records = build_accuracy_dataset(
      space, a.subnets, [&](const space::Subnet& s) { return m.top1(s, m.val); }, out_dir + "/accuracy.json",
      settings);
  for (const auto& r : a.records) a.top1.push_back(r.top1);
  return a;
}

// ---- step 4: predictors (every encoding; the configured one, or the best ranking one, drives the search) --
struct Predictors {
  util::Json reports = util::Json::object();
  std::unique_ptr<AccuracyPredictor> used;
  std::string used_name;
};

Predictors train_predictors(const space::Space& space, const SearchOptions& o, uint64_t seed,
                            const AccuracySet& a, const std::string& out_dir) {
  Predictors out;
  double best_tau = -2;
  for (Encoding enc : all_encodings()) {
    if (Encoder(space, enc).size() == 0) {  // e.g. the arch encoding of a fixed architecture (EQ-Net)
      if (o.predictor_encoding == encoding_name(enc))
        throw util::usage_error(
            "predictor encoding " + encoding_name(enc) +
            " has no inputs in this space (nothing it encodes varies); use auto, quant or cond")
            .field("search.predictor.encoding")
            .value(encoding_name(enc));
      out.reports[encoding_name(enc)] = {
          {"skipped", "no inputs: nothing this encoding covers varies in the space"}};
      std::fprintf(stderr, "predictor (%s encoding): skipped, nothing it encodes varies in this space\n",
                   encoding_name(enc).c_str());
      continue;
    }
    PredictorOptions po = o.predictor;
    po.encoding = enc;
    po.seed = seed;
    auto p = std::make_unique<AccuracyPredictor>(space, po);
    const PredictorReport rep = p->train(a.subnets, a.top1);
    p->save(out_dir + "/predictor-" + encoding_name(enc));
    out.reports[encoding_name(enc)] = rep.to_json();
    std::fprintf(stderr,
                 "predictor (%s encoding, %zu inputs): %lld train / %lld held-out pairs, RMSE %.3f pt, "
                 "Kendall tau %.3f\n",
                 encoding_name(enc).c_str(), p->encoder().size(), static_cast<long long>(rep.train_pairs),
                 static_cast<long long>(rep.held_out_pairs), rep.rmse, rep.kendall_tau);
    const bool pick = o.predictor_encoding == "auto" ? rep.kendall_tau > best_tau
                                                     : o.predictor_encoding == encoding_name(enc);
    if (pick) {
      best_tau = rep.kendall_tau;
      out.used = std::move(p);
      out.used_name = encoding_name(enc);
    }
  }
  OQA_ASSERT(out.used != nullptr, "no predictor for search.predictor.encoding = " + o.predictor_encoding);
  std::fprintf(stderr, "predictor used by the search: %s%s\n", out.used_name.c_str(),
               o.predictor_encoding == "auto" ? " (best held-out Kendall tau)" : "");
  out.used->set_precision(parse_precision(o.predictor_precision));
  std::fprintf(
      stderr, "predictor precision in the search: %s%s\n", precision_name(out.used->precision()).c_str(),
      out.used->precision() == Precision::kFloat32 ? ""
                                                   : " (final population and front re-scored in float32)");
  std::fflush(stderr);
  return out;
}

// The problem's scorers from the predictor (batched subnets, gene rows, float32 re-scoring).
void score_with(SearchProblem& problem, AccuracyPredictor& predictor) {
  problem.score = [&predictor](const std::vector<space::Subnet>& s) { return predictor.predict(s); };
  problem.score_genes = [&predictor](const space::GeneRows& rows) { return predictor.predict_values(rows); };
  if (predictor.precision() != Precision::kFloat32)
    problem.exact_score = [&predictor](const std::vector<space::Subnet>& s) {
      return predictor.predict(s, Precision::kFloat32);
    };
}

// ---- step 5: algorithms -------------------------------------------------------------------------------
struct Searched {
  SearchResult found;   // the configured algorithm
  SearchResult random;  // random search with as many scored candidates (the baseline)
};

Searched run_algorithms(const SearchProblem& problem, const EvolutionOptions& eo, uint64_t seed) {
  util::Progress progress(algorithm_name(eo.algorithm),
                          eo.algorithm == Algorithm::kRandom ? 1 : eo.generations, "gen");
  Searched s;
  s.found = evolve(problem, eo, [&](int64_t, const Candidate& best) {
    progress.advance(1, fmt::format("best predicted {:.2f}%", best.score));
  });
  progress.finish(fmt::format("{} candidates scored ({} distinct networks predicted), {} over budget redrawn",
                              s.found.scored, s.found.predicted, s.found.rejected));
  s.random = random_search(problem, s.found.scored, seed + 1);
  return s;
}

// ---- step 6: candidates measured --------------------------------------------------------------------
struct Measurements {
  std::vector<Measured> top, random_top;  // best first by validation top-1
  std::vector<Measured> anchors;          // the uniform anchors within the budgets (a mixed stage)
  std::vector<size_t> front_idx;          // the front points measured on validation
  std::vector<Measured> front;
  Measured largest, smallest;  // the uniform extremes at the stage's quantization
  // The winner: the best on validation of the searched candidates and the anchors (a candidate on ties).
  const Measured& best() const {
    const Measured* b = &top.front();
    for (const Measured& a : anchors)
      if (a.val > b->val) b = &a;
    return *b;
  }
};

Measurements measure_candidates(const Searched& s, const SearchOptions& o, const Measurement& m,
                                const space::Space& space, AccuracyPredictor& predictor,
                                const std::function<Costs(const space::Subnet&)>& costs_of,
                                const std::function<space::Subnet(space::Subnet)>& normalize,
                                const std::vector<space::Subnet>& anchors) {
  Measurements out;
  const size_t top_n = static_cast<size_t>(o.top);
  out.front_idx = spread(s.found.front.size(), static_cast<size_t>(o.front_points));
  const int64_t total_evals = 2 * static_cast<int64_t>(std::min(top_n, s.found.population.size()) +
                                                       std::min(top_n, s.random.population.size()) +
                                                       anchors.size()) +
                              static_cast<int64_t>(out.front_idx.size()) + 4;
  util::Progress mprog("measure", total_evals, "subnet");
  auto measure_both = [&](const Candidate& c) {
    Measured r{c, m.top1(c.subnet, m.val), 0};
    mprog.advance();
    r.test = m.top1(c.subnet, m.splits.test);
    mprog.advance();
    return r;
  };
  auto measure_top = [&](const SearchResult& r) {
    std::vector<Measured> v;
    for (size_t i = 0; i < std::min(top_n, r.population.size()); ++i)
      v.push_back(measure_both(r.population[i]));
    // The winner is chosen on validation; its test top-1 is only reported.
    std::stable_sort(v.begin(), v.end(), [](const Measured& a, const Measured& b) { return a.val > b.val; });
    return v;
  };
  out.top = measure_top(s.found);
  out.random_top = measure_top(s.random);
  for (size_t i : out.front_idx) {
    out.front.push_back({s.found.front[i], m.top1(s.found.front[i].subnet, m.val), 0});
    mprog.advance();
  }
  auto uniform = [&](space::Subnet sub) {
    Candidate c;
    c.subnet = normalize(std::move(sub));
    c.score = predictor.predict({c.subnet}, Precision::kFloat32)[0];
    c.costs = costs_of(c.subnet);
    return measure_both(c);
  };
  out.largest = uniform(space.largest());
  out.smallest = uniform(space.smallest());
  for (const space::Subnet& a : anchors) {
    out.anchors.push_back(uniform(a));
    out.anchors.back().anchor = true;
  }
  mprog.finish();
  return out;
}

// ---- step 7: outputs --------------------------------------------------------------------------------
util::Json budget_list(const SearchRequest& req) {
  util::Json budgets = util::Json::array();
  for (const Budget& b : req.budgets) budgets.push_back(b.to_string());
  return budgets;
}

util::Json baselines_json(const Measurements& ms, const space::Space& space) {
  return {{"largest", ms.largest.to_json(space)}, {"smallest", ms.smallest.to_json(space)}};
}

// best.json, pareto.json and pareto.csv.
void write_front_files(const Searched& s, const Measurements& ms, const space::Space& space, Metric objective,
                       const SearchRequest& req, const std::string& stage, const std::string& out_dir) {
  util::write_json(out_dir + "/best.json", space::to_json(ms.best().candidate.subnet));
  util::Json front = util::Json::array();
  std::string csv = "cost,predicted_top1,val_top1,macs,bitops,bytes,params,wbits,abits,latency_ms,hash\n";
  for (size_t i = 0; i < s.found.front.size(); ++i) {
    const Candidate& c = s.found.front[i];
    util::Json f = {{"subnet", space::to_json(c.subnet)},
                    {"hash", space.hash_hex(c.subnet)},
                    {"predicted_top1", c.score},
                    {"cost", c.costs.get(objective)},
                    {"costs", c.costs.to_json()}};
    std::string val_text;
    for (size_t k = 0; k < ms.front_idx.size(); ++k)
      if (ms.front_idx[k] == i) {
        f["val_top1"] = ms.front[k].val;
        val_text = fmt::format("{:.4f}", ms.front[k].val);
      }
    front.push_back(f);
    csv += fmt::format("{:.9g},{:.4f},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.4f},{:.4f},{},{}\n",
                       c.costs.get(objective), c.score, val_text, c.costs.macs, c.costs.bitops, c.costs.bytes,
                       c.costs.params, c.costs.avg_weight_bits, c.costs.avg_act_bits,
                       std::isnan(c.costs.latency_ms) ? "" : fmt::format("{:.6g}", c.costs.latency_ms),
                       space.hash_hex(c.subnet));
  }
  util::write_json(out_dir + "/pareto.json", {{"stage", stage},
                                              {"objective", metric_name(objective)},
                                              {"budgets", budget_list(req)},
                                              {"front", front},
                                              {"baselines", baselines_json(ms, space)}});
  util::atomic_write(out_dir + "/pareto.csv", csv);
}

// What search.json holds (without the plot).
util::Json summary_json(const Searched& s, const Measurements& ms, const AccuracySet& a, const Predictors& p,
                        const Measurement& m, const space::Space& space, Metric objective,
                        const SearchOptions& o, const EvolutionOptions& eo, const SearchRequest& req,
                        const std::string& run_dir, const std::string& stage) {
  auto list = [&](const std::vector<Measured>& v) {
    util::Json out = util::Json::array();
    for (const auto& x : v) out.push_back(x.to_json(space));
    return out;
  };
  return {{"run", run_dir},
          {"stage", stage},
          {"budgets", budget_list(req)},
          {"profile", o.profile.to_json()},
          {"objective", metric_name(objective)},
          {"accuracy_dataset",
           {{"subnets", a.records.size()}, {"val_images", m.val->size()}, {"bn_images", m.bn_images}}},
          {"predictors", p.reports},
          {"predictor_used", p.used_name},
          {"predictor_choice", o.predictor_encoding},
          {"search",
           {{"algorithm", algorithm_name(eo.algorithm)},
            {"population", eo.population},
            {"generations", eo.generations},
            {"multi_objective", eo.multi_objective},
            {"scored", s.found.scored},
            {"predicted", s.found.predicted},
            {"rejected", s.found.rejected},
            {"predictor_precision", precision_name(p.used->precision())},
            {"seconds", s.found.seconds},
            {"front_size", s.found.front.size()}}},
          {"random_search",
           {{"scored", s.random.scored},
            {"seconds", s.random.seconds},
            {"best", ms.random_top.front().to_json(space)},
            {"top", list(ms.random_top)}}},
          {"best", ms.best().to_json(space)},
          {"top", list(ms.top)},
          {"anchors", list(ms.anchors)},
          {"baselines", baselines_json(ms, space)}};
}

// pareto.png: the accuracy dataset, the predicted and measured front, the candidates and the choice.
util::Json plot_search(const Searched& s, const Measurements& ms, const AccuracySet& a,
                       const std::function<Costs(const space::Subnet&)>& costs_of, Metric objective,
                       const SearchRequest& req, const std::string& title, const std::string& out_dir) {
  ParetoPlot plot;
  plot.title = title;
  plot.cost_label = metric_name(objective) + (objective == Metric::kLatency ? " (ms)" : "");
  for (const auto& r : a.records) plot.dataset.push_back({costs_of(r.subnet).get(objective), r.top1});
  for (const auto& c : s.found.front) plot.front_predicted.push_back({c.costs.get(objective), c.score});
  for (const auto& x : ms.front) plot.front_measured.push_back({x.candidate.costs.get(objective), x.val});
  for (const auto* list : {&ms.top, &ms.anchors})
    for (const auto& x : *list) plot.candidates.push_back({x.candidate.costs.get(objective), x.val});
  plot.chosen = {{ms.best().candidate.costs.get(objective), ms.best().val}};
  plot.random_best = {{ms.random_top.front().candidate.costs.get(objective), ms.random_top.front().val}};
  plot.largest = {{ms.largest.candidate.costs.get(objective), ms.largest.val}};
  plot.smallest = {{ms.smallest.candidate.costs.get(objective), ms.smallest.val}};
  for (const Budget& b : req.budgets)
    if (b.metric == objective) plot.budget = b.limit;
  return draw_pareto_plot(plot, out_dir);
}

}  // namespace

Costs subnet_costs(const space::Space& space, const space::Subnet& subnet) {
  const cost::CostSummary a = cost::count_totals(space, subnet);
  const cost::CostSummary b = cost::count_totals(space, subnet, cost::CostOptions{cost::FloatLayers::kExclude});
  Costs c;
  c.macs = a.macs;
  c.bitops = a.bitops;
  c.bytes = a.bytes;
  c.params = a.params;
  c.avg_weight_bits = b.avg_weight_bits;
  c.avg_act_bits = b.avg_act_bits;
  return c;
}

util::Json run_search(train::LoadedRun& run, const std::string& run_dir, const SearchRequest& request) {
  SearchRequest req = request;  // its budgets resolved at the stage below
  const train::Experiment& e = run.experiment;
  const space::Space& space = *e.space;
  const std::string stage = run.stage.name, quant = run.stage.quant;
  const SearchOptions& o = req.options;
  const Metric objective = parse_metric(o.objective);
  const std::string out_dir = req.out_dir.empty() ? run_dir + "/search/" + stage : req.out_dir;
  util::ensure_dir(out_dir);

  const std::optional<cost::LatencyTable> table = load_latency_table(req, objective, run_dir);
  const auto costs_of = cost_function(space, *run.net, table);
  const auto normalize = stage_normalizer(space, quant);
  SearchProblem problem;
  problem.space = &space;
  problem.fixed_genes = stage_fixed_genes(space, quant);
  problem.domains = profile_domains(space, o.profile);  // a profile no subnet meets fails here
  problem.costs = costs_of;
  problem.budgets = req.budgets;
  problem.objective = objective;
  problem.stage = stage;
  resolve_budgets(problem);  // shares of the largest subnet's cost become limits at this stage
  req.budgets = problem.budgets;
  check_domains(problem);  // before any measurement: an impossible profile or budget fails at once
  check_budgets(problem);

  const Measurement m = open_measurement(e, *run.net, o, run_dir);
  const AccuracySet a = measure_accuracy_set(e, o, m, normalize, run_dir, stage, out_dir);
  const Predictors p = train_predictors(space, o, e.seed, a, out_dir);
  score_with(problem, *p.used);
  EvolutionOptions eo = o.evolution;
  eo.seed = e.seed;
  const Searched s = run_algorithms(problem, eo, e.seed);
  const std::vector<space::Subnet> anchors = o.anchors ? uniform_anchors(problem) : std::vector<space::Subnet>{};
  const Measurements ms = measure_candidates(s, o, m, space, *p.used, costs_of, normalize, anchors);

  write_front_files(s, ms, space, objective, req, stage, out_dir);
  util::Json summary = summary_json(s, ms, a, p, m, space, objective, o, eo, req, run_dir, stage);
  if (req.plot)
    summary["plot"] = plot_search(
        s, ms, a, costs_of, objective, req,
        fmt::format("{} stage {}: top-1 against {}", e.name, stage, metric_name(objective)), out_dir);
  util::write_json(out_dir + "/search.json", summary);
  return summary;
}

}  // namespace oqa::pipeline
