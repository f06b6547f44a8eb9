// run_search: the search pipeline on a loaded run, its measurements and its output files.
#include "oqa/search/search_run.h"

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
#include "oqa/search/evolution.h"
#include "oqa/search/pareto_plot.h"
#include "oqa/search/predictor.h"
#include "oqa/train/subnet_eval.h"
#include "oqa/train/subnet_sampler.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"
#include "oqa/util/progress.h"

namespace oqa::search {
namespace {

// A subnet measured on validation and test, with its prediction and costs.
struct Measured {
  Candidate candidate;
  double val = 0, test = 0;
  util::Json to_json(const space::Space& space) const {
    return {{"subnet", space::to_json(candidate.subnet)},
            {"hash", space.hash_hex(candidate.subnet)},
            {"predicted_top1", candidate.score},
            {"val_top1", val},
            {"test_top1", test},
            {"costs", candidate.costs.to_json()}};
  }
};

bool needs_latency(const SearchRequest& r, Metric objective) {
  bool need = objective == Metric::kLatency;
  for (const Budget& b : r.budgets) need = need || b.metric == Metric::kLatency;
  return need;
}

std::string checkpoint_fingerprint(const std::string& run_dir, const std::string& stage) {
  const std::string path = run_dir + "/" + stage + "/checkpoints/last.pt";
  return util::hex64(util::fnv1a64(util::read_file(path)));
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

}  // namespace

util::Json run_search(train::LoadedRun& run, const std::string& run_dir, const SearchRequest& req) {
  const train::Experiment& e = run.experiment;
  const space::Space& space = *e.space;
  space::Supernet& net = *run.net;
  const std::string stage = run.stage.name, quant = run.stage.quant;
  const SearchOptions& o = req.options;
  const Metric objective = parse_metric(o.objective);
  const std::string out_dir = req.out_dir.empty() ? run_dir + "/search/" + stage : req.out_dir;
  util::ensure_dir(out_dir);

  // ---- costs ----------------------------------------------------------------------------------------
  std::optional<cost::LatencyTable> table;
  if (needs_latency(req, objective)) {
    if (req.latency_table.empty())
      throw util::usage_error(
          "a latency budget or objective needs --latency-table FILE (make one with `oqa bench "
          "latency --config " +
          run_dir + "/config.json`)");
    table = cost::LatencyTable::load(req.latency_table);
  } else if (!req.latency_table.empty()) {
    table = cost::LatencyTable::load(req.latency_table);
  }
  const cost::CostOptions exclude_float{cost::FloatLayers::kExclude};
  auto costs_of = [&](const space::Subnet& s) {
    const cost::CostSummary a = cost::count_totals(space, s), b = cost::count_totals(space, s, exclude_float);
    Costs c;
    c.macs = a.macs;
    c.bitops = a.bitops;
    c.bytes = a.bytes;
    c.params = a.params;
    c.avg_weight_bits = b.avg_weight_bits;
    c.avg_act_bits = b.avg_act_bits;
    if (table) c.latency_ms = table->predict(space::extract_static(net, s));
    return c;
  };
  const auto normalize = stage_normalizer(space, quant);

  SearchProblem problem;
  problem.space = &space;
  problem.fixed_genes = stage_fixed_genes(space, quant);
  problem.costs = costs_of;
  problem.budgets = req.budgets;
  problem.objective = objective;
  problem.stage = stage;
  check_budgets(problem);  // before any measurement: an impossible budget fails at once

  // ---- measurement on validation (search) and test (report) ---------------------------------------
  data::Splits splits = data::open_splits(e.data, e.seed);
  if (!splits.val || splits.val->size() == 0)
    throw util::usage_error(
        "the run has no validation split (data.val_fraction is 0): search measures on "
        "validation images, never on the test set")
        .file(run_dir + "/config.json")
        .field("data.val_fraction");
  data::DatasetPtr val = splits.val;
  if (o.val_images > 0 && static_cast<size_t>(o.val_images) < val->size()) {
    std::vector<size_t> idx(static_cast<size_t>(o.val_images));
    std::iota(idx.begin(), idx.end(), size_t{0});
    val = data::subset(val, idx);
  }
  const int64_t bn_images = o.bn_images >= 0 ? o.bn_images : e.supernet.bn_recal_images;
  const train::SubnetEvalSetup setup{
      splits.train, train::eval_loader_options(e.loader, e.train.eval_batch_size), bn_images};
  auto measure = [&](const space::Subnet& s, const data::DatasetPtr& d) {
    return train::evaluate_subnet(net, s, d, setup, "").top1;
  };
  auto measure_val = [&](const space::Subnet& s) { return measure(s, val); };

  // ---- accuracy dataset ---------------------------------------------------------------------------
  const util::Json settings = {{"stage", stage},
                               {"checkpoint", checkpoint_fingerprint(run_dir, stage)},
                               {"val_images", static_cast<int64_t>(val->size())},
                               {"bn_images", bn_images},
                               {"seed", e.seed}};
  const std::vector<space::Subnet> subnets = accuracy_subnets(space, o.samples, e.seed, normalize);
  const std::vector<AccuracyRecord> records =
      build_accuracy_dataset(space, subnets, measure_val, out_dir + "/accuracy.json", settings);
  std::vector<double> top1;
  for (const auto& r : records) top1.push_back(r.top1);

  // ---- predictors (both encodings; the configured one drives the search) -----------------------------
  util::Json predictor_reports = util::Json::object();
  std::unique_ptr<AccuracyPredictor> predictor;
  for (Encoding enc : {Encoding::kArch, Encoding::kQuant}) {
    PredictorOptions po = o.predictor;
    po.encoding = enc;
    po.seed = e.seed;
    auto p = std::make_unique<AccuracyPredictor>(space, po);
    const PredictorReport rep = p->train(subnets, top1);
    p->save(out_dir + "/predictor-" + encoding_name(enc));
    predictor_reports[encoding_name(enc)] = rep.to_json();
    std::printf(
        "predictor (%s encoding, %zu inputs): %lld train / %lld held-out pairs, RMSE %.3f pt, Kendall tau "
        "%.3f%s\n",
        encoding_name(enc).c_str(), p->encoder().size(), static_cast<long long>(rep.train_pairs),
        static_cast<long long>(rep.held_out_pairs), rep.rmse, rep.kendall_tau,
        enc == o.predictor.encoding ? "  (used by the search)" : "");
    if (enc == o.predictor.encoding) predictor = std::move(p);
  }
  predictor->set_precision(parse_precision(o.predictor_precision));
  std::printf("predictor precision in the search: %s%s\n", precision_name(predictor->precision()).c_str(),
              predictor->precision() == Precision::kFloat32
                  ? ""
                  : " (final population and front re-scored in float32)");
  std::fflush(stdout);
  problem.score = [&](const std::vector<space::Subnet>& s) { return predictor->predict(s); };
  problem.score_genes = [&](const space::GeneRows& rows) { return predictor->predict_values(rows); };
  if (predictor->precision() != Precision::kFloat32)
    problem.exact_score = [&](const std::vector<space::Subnet>& s) {
      return predictor->predict(s, Precision::kFloat32);
    };

  // ---- search ----------------------------------------------------------------------------------------
  EvolutionOptions eo = o.evolution;
  eo.seed = e.seed;
  util::Progress progress(algorithm_name(eo.algorithm),
                          eo.algorithm == Algorithm::kRandom ? 1 : eo.generations, "gen");
  const SearchResult found = evolve(problem, eo, [&](int64_t, const Candidate& best) {
    progress.advance(1, fmt::format("best predicted {:.2f}%", best.score));
  });
  progress.finish(fmt::format("{} candidates scored ({} distinct networks predicted), {} over budget redrawn",
                              found.scored, found.predicted, found.rejected));
  const SearchResult random = random_search(problem, found.scored, e.seed + 1);

  // ---- measure --------------------------------------------------------------------------------------
  const size_t top_n = static_cast<size_t>(o.top);
  const std::vector<size_t> front_idx = spread(found.front.size(), static_cast<size_t>(o.front_points));
  const int64_t total_evals = 2 * static_cast<int64_t>(std::min(top_n, found.population.size()) +
                                                       std::min(top_n, random.population.size())) +
                              static_cast<int64_t>(front_idx.size()) + 4;
  util::Progress mprog("measure", total_evals, "subnet");
  auto measure_both = [&](const Candidate& c) {
    Measured m{c, measure(c.subnet, val), 0};
    mprog.advance();
    m.test = measure(c.subnet, splits.test);
    mprog.advance();
    return m;
  };
  auto measure_top = [&](const SearchResult& r) {
    std::vector<Measured> out;
    for (size_t i = 0; i < std::min(top_n, r.population.size()); ++i)
      out.push_back(measure_both(r.population[i]));
    // The winner is chosen on validation; its test top-1 is only reported.
    std::stable_sort(out.begin(), out.end(),
                     [](const Measured& a, const Measured& b) { return a.val > b.val; });
    return out;
  };
  const std::vector<Measured> top = measure_top(found), random_top = measure_top(random);
  std::vector<Measured> front_measured;
  for (size_t i : front_idx) {
    front_measured.push_back({found.front[i], measure(found.front[i].subnet, val), 0});
    mprog.advance();
  }
  auto uniform = [&](space::Subnet s) {
    Candidate c;
    c.subnet = normalize(std::move(s));
    c.score = predictor->predict({c.subnet}, Precision::kFloat32)[0];
    c.costs = costs_of(c.subnet);
    return measure_both(c);
  };
  const Measured largest = uniform(space.largest()), smallest = uniform(space.smallest());
  mprog.finish();
  const Measured& best = top.front();

  // ---- files ----------------------------------------------------------------------------------------
  util::write_json(out_dir + "/best.json", space::to_json(best.candidate.subnet));
  util::Json front = util::Json::array();
  std::string csv = "cost,predicted_top1,val_top1,macs,bitops,bytes,params,wbits,abits,latency_ms,hash\n";
  for (size_t i = 0; i < found.front.size(); ++i) {
    const Candidate& c = found.front[i];
    util::Json f = {{"subnet", space::to_json(c.subnet)},
                    {"hash", space.hash_hex(c.subnet)},
                    {"predicted_top1", c.score},
                    {"cost", c.costs.get(objective)},
                    {"costs", c.costs.to_json()}};
    std::string val_text;
    for (size_t k = 0; k < front_idx.size(); ++k)
      if (front_idx[k] == i) {
        f["val_top1"] = front_measured[k].val;
        val_text = fmt::format("{:.4f}", front_measured[k].val);
      }
    front.push_back(f);
    csv += fmt::format("{:.9g},{:.4f},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.4f},{:.4f},{},{}\n",
                       c.costs.get(objective), c.score, val_text, c.costs.macs, c.costs.bitops, c.costs.bytes,
                       c.costs.params, c.costs.avg_weight_bits, c.costs.avg_act_bits,
                       std::isnan(c.costs.latency_ms) ? "" : fmt::format("{:.6g}", c.costs.latency_ms),
                       space.hash_hex(c.subnet));
  }
  util::Json budgets = util::Json::array();
  for (const Budget& b : req.budgets) budgets.push_back(b.to_string());
  util::Json baselines = {{"largest", largest.to_json(space)}, {"smallest", smallest.to_json(space)}};
  util::write_json(out_dir + "/pareto.json", {{"stage", stage},
                                              {"objective", metric_name(objective)},
                                              {"budgets", budgets},
                                              {"front", front},
                                              {"baselines", baselines}});
  util::atomic_write(out_dir + "/pareto.csv", csv);

  auto list = [&](const std::vector<Measured>& v) {
    util::Json a = util::Json::array();
    for (const auto& m : v) a.push_back(m.to_json(space));
    return a;
  };
  util::Json summary = {
      {"run", run_dir},
      {"stage", stage},
      {"budgets", budgets},
      {"objective", metric_name(objective)},
      {"accuracy_dataset",
       {{"subnets", records.size()}, {"val_images", val->size()}, {"bn_images", bn_images}}},
      {"predictors", predictor_reports},
      {"predictor_used", encoding_name(o.predictor.encoding)},
      {"search",
       {{"algorithm", algorithm_name(eo.algorithm)},
        {"population", eo.population},
        {"generations", eo.generations},
        {"multi_objective", eo.multi_objective},
        {"scored", found.scored},
        {"predicted", found.predicted},
        {"rejected", found.rejected},
        {"predictor_precision", precision_name(predictor->precision())},
        {"seconds", found.seconds},
        {"front_size", found.front.size()}}},
      {"random_search",
       {{"scored", random.scored},
        {"seconds", random.seconds},
        {"best", random_top.front().to_json(space)},
        {"top", list(random_top)}}},
      {"best", best.to_json(space)},
      {"top", list(top)},
      {"baselines", baselines}};
  if (req.plot) {
    ParetoPlot plot;
    plot.title = fmt::format("{} stage {}: top-1 against {}", e.name, stage, metric_name(objective));
    plot.cost_label = metric_name(objective) + (objective == Metric::kLatency ? " (ms)" : "");
    for (const auto& r : records) plot.dataset.push_back({costs_of(r.subnet).get(objective), r.top1});
    for (const auto& c : found.front) plot.front_predicted.push_back({c.costs.get(objective), c.score});
    for (const auto& m : front_measured)
      plot.front_measured.push_back({m.candidate.costs.get(objective), m.val});
    for (const auto& m : top) plot.candidates.push_back({m.candidate.costs.get(objective), m.val});
    plot.chosen = {{best.candidate.costs.get(objective), best.val}};
    plot.random_best = {{random_top.front().candidate.costs.get(objective), random_top.front().val}};
    plot.largest = {{largest.candidate.costs.get(objective), largest.val}};
    plot.smallest = {{smallest.candidate.costs.get(objective), smallest.val}};
    for (const Budget& b : req.budgets)
      if (b.metric == objective) plot.budget = b.limit;
    summary["plot"] = draw_pareto_plot(plot, out_dir);
  }
  util::write_json(out_dir + "/search.json", summary);
  return summary;
}

}  // namespace oqa::search
