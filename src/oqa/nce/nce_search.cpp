// run_nce: the search loop (alternating weight and architecture steps in a TrainLoop), derivation of the
// architecture within the budget, and the run folder's outputs.
#include "oqa/nce/nce_search.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/nce/arch_params.h"
#include "oqa/nce/candidates.h"
#include "oqa/nce/channel_mix.h"
#include "oqa/nce/expected_cost.h"
#include "oqa/nce/width_plot.h"
#include "oqa/search/budget.h"
#include "oqa/space/resnet_supernet.h"
#include "oqa/train/distill_loss.h"
#include "oqa/train/loop.h"
#include "oqa/train/optimizer.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"

namespace oqa::nce {
namespace {

// What the training loop checkpoints: the supernet's weights and the architecture state together.
struct NceModelImpl : torch::nn::Module {
  NceModelImpl(std::shared_ptr<space::ResNetSupernet> net, ArchParams a)
      : supernet(register_module("supernet", std::move(net))), arch(register_module("arch", std::move(a))) {}
  std::shared_ptr<space::ResNetSupernet> supernet;
  ArchParams arch;
};

// Batch i of an endless pass over a loader's epochs (epoch i / per, batch i % per), for the architecture
// steps.
class Cycle {
 public:
  explicit Cycle(data::Loader& loader) : loader_(loader), per_(loader.batches_per_epoch()) {}
  data::Batch at(int64_t i) {
    const int64_t epoch = i / per_, batch = i % per_;
    if (next_ != i || batch == 0) loader_.start_epoch(epoch, batch);
    std::optional<data::Batch> b = loader_.next();
    OQA_ASSERT(b.has_value(), "the validation loader ended early");
    next_ = i + 1;
    return std::move(*b);
  }

 private:
  data::Loader& loader_;
  int64_t per_;
  int64_t next_ = -1;
};

// The mixing matrix of every group for one sample: sum_k w_k E[g][index_k].
std::vector<torch::Tensor> mix_matrices(const std::vector<GroupSample>& samples,
                                        const std::vector<std::vector<torch::Tensor>>& cand) {
  std::vector<torch::Tensor> out;
  for (size_t g = 0; g < samples.size(); ++g) {
    torch::Tensor m;
    for (size_t k = 0; k < samples[g].index.size(); ++k) {
      const torch::Tensor term =
          samples[g].weights[static_cast<int64_t>(k)] * cand[g][static_cast<size_t>(samples[g].index[k])];
      m = m.defined() ? m + term : term;
    }
    out.push_back(m);
  }
  return out;
}

torch::Tensor forward_with(space::ResNetSupernet& net, const torch::Tensor& images,
                           const std::vector<torch::Tensor>& mats) {
  return net.forward_mixed(
      images, [&](size_t g, const torch::Tensor& y) { return apply_channel_matrix(y, mats[g]); });
}

std::vector<int64_t> widths_of(const std::vector<GroupCandidates>& plan, const std::vector<int64_t>& index) {
  std::vector<int64_t> w;
  for (size_t g = 0; g < plan.size(); ++g) w.push_back(plan[g].widths[static_cast<size_t>(index[g])]);
  return w;
}

// Argmax of every group, then, while over the target, the group whose next narrower candidate is the most
// probable steps down to it.
std::vector<int64_t> derive_within(const ArchParamsImpl& arch, const ExpectedCost& cost,
                                   const std::vector<GroupCandidates>& plan, double target) {
  std::vector<int64_t> index = arch.argmax();
  const torch::Tensor p = arch.probabilities().detach().cpu();
  while (cost.at(widths_of(plan, index)) > target) {
    int best = -1;
    double best_p = -1;
    for (size_t g = 0; g < index.size(); ++g) {
      if (index[g] == 0) continue;
      const double q = p[static_cast<int64_t>(g)][index[g] - 1].item<double>();
      if (q > best_p) best_p = q, best = static_cast<int>(g);
    }
    OQA_ASSERT(best >= 0, "the smallest widths are over the budget (checked before the search)");
    --index[static_cast<size_t>(best)];
  }
  return index;
}

nlohmann::json subnet_json(const space::Space& space, std::vector<int64_t> widths, int bits) {
  space::Subnet s = space.largest();
  s.widths = std::move(widths);
  return space::to_json(space.with_quant(s, fmt::format("w{}a{}", bits, bits)));
}

}  // namespace

nlohmann::json run_nce(const train::Experiment& e, const NceOptions& o, const std::string& run_dir) {
  const auto* resnet = dynamic_cast<const space::ResNetSpace*>(e.space.get());
  if (!resnet)
    throw util::usage_error(
        "neural channel expansion searches widths: it needs a resnet space (space.kind = "
        "resnet); an mbv3 space has no elastic widths")
        .field("space.kind")
        .value(e.space ? e.space->kind() : "none");
  const std::vector<GroupCandidates> plan = plan_candidates(*resnet, o);
  const std::shared_ptr<const space::ResNetSpace> space = expanded_space(*resnet, plan);
  const CostBudget budget = parse_cost_budget(o.budget);
  const ExpectedCost cost(*space, budget.metric);
  const std::vector<int64_t> base = base_widths(plan);
  std::vector<int64_t> smallest, widest;
  for (const GroupCandidates& c : plan)
    smallest.push_back(c.widths.front()), widest.push_back(c.widths.back());
  const double target =
      budget.value == "base" ? cost.at(base) : search::parse_scaled(budget.value, "nce.budget");
  const std::string name = metric_name(budget.metric);
  if (target < cost.at(smallest))
    throw util::usage_error(fmt::format("is below the smallest reachable {} ({}: every width group at its "
                                        "narrowest candidate)",
                                        name, search::format_scaled(cost.at(smallest))))
        .field("nce.budget")
        .value(o.budget);
  spdlog::info("nce: {} target {} (base {}, narrowest {}, widest with expansions {})", name,
               search::format_scaled(target), search::format_scaled(cost.at(base)),
               search::format_scaled(cost.at(smallest)), search::format_scaled(cost.at(widest)));

  // The run's config for `oqa train --run RUN --subnet`: every candidate, expansions included.
  util::Json config = e.resolved;
  for (const GroupCandidates& c : plan) config["space"]["widths"][c.name] = c.widths;
  util::write_json(run_dir + "/config.json", config);
  util::write_json(run_dir + "/base.json", subnet_json(*space, base, o.bits));

  data::Splits splits = data::open_splits(e.data, e.seed);
  if (!splits.val || splits.val->size() == 0)
    throw util::usage_error(
        "neural channel expansion trains the architecture on the validation split: set "
        "data.val_fraction above 0")
        .field("data.val_fraction");
  torch::manual_seed(static_cast<int64_t>(e.seed));
  auto net = std::dynamic_pointer_cast<space::ResNetSupernet>(space::make_supernet(space));
  OQA_ASSERT(net != nullptr, "a resnet space builds a ResNetSupernet");
  space::Subnet full = space->with_quant(space->largest(), fmt::format("w{}a{}", o.bits, o.bits));
  net->set_active(full);
  std::vector<int64_t> totals, initial;
  std::vector<std::vector<torch::Tensor>> cand;
  for (const GroupCandidates& c : plan) {
    totals.push_back(static_cast<int64_t>(c.widths.size()));
    initial.push_back(static_cast<int64_t>(c.initial));
    cand.push_back({});
    for (torch::Tensor& m : candidate_matrices(c.widths, c.widths.back(), o.mix))
      cand.back().push_back(m.to(util::compute_device()));
  }
  ArchParams arch(totals, initial);
  arch->to(util::compute_device());
  torch::Tensor table = torch::zeros_like(arch->alpha).detach();
  for (size_t g = 0; g < plan.size(); ++g)
    for (size_t j = 0; j < plan[g].widths.size(); ++j)
      table[static_cast<int64_t>(g)][static_cast<int64_t>(j)] = static_cast<double>(plan[g].widths[j]);
  auto model = std::make_shared<NceModelImpl>(net, arch);

  data::LoaderOptions lo = e.loader;
  lo.seed = train::step_seed(e.seed, "nce/data", 0);
  data::Loader loader(splits.train, lo);
  data::LoaderOptions vo = e.loader;
  vo.seed = train::step_seed(e.seed, "nce/arch-data", 0);
  vo.transform = data::without_augmentation(vo.transform);
  data::Loader val_loader(splits.val, vo);
  Cycle val(val_loader);
  train::OptimizerOptions oo = e.train.optimizer;
  oo.lr = o.weight_lr;
  auto optimizer = train::make_optimizer(*net, oo);
  const int64_t per_epoch = loader.batches_per_epoch();
  train::ScheduleOptions so_sched;
  so_sched.base_lr = o.weight_lr;
  so_sched.min_lr = e.train.min_lr;
  so_sched.warmup_steps = std::llround(e.train.warmup_epochs * static_cast<double>(per_epoch));
  so_sched.total_steps = std::max<int64_t>(1, train::epoch_steps(o.epochs, per_epoch));
  const int64_t arch_start = std::llround(o.warmup_epochs * static_cast<double>(per_epoch));
  const int64_t arch_steps = std::max<int64_t>(1, so_sched.total_steps - arch_start);

  train::StageOptions so;
  so.stage = "nce";
  so.dir = run_dir + "/nce";
  so.config_hash = util::hex64(util::fnv1a64(e.resolved["nce"].dump(), util::fnv1a64(e.hash)));
  so.epochs = o.epochs;
  so.checkpoint_every = e.train.checkpoint_every;
  so.log_every = o.log_every;
  so.grad_clip = e.train.grad_clip;
  so.step_size_max_change = e.train.step_size_max_change;
  so.seed = e.seed;
  train::MetricsLog metrics(run_dir + "/metrics.jsonl");
  train::TrainLoop loop(so, *model, *optimizer, train::CosineSchedule(so_sched), loader, metrics);
  loop.resume();

  nlohmann::json expansions = nlohmann::json::array();
  for (const auto& rec : metrics.records())
    if (rec.value("event", "") == "expansion") expansions.push_back(rec);
  const auto started = std::chrono::steady_clock::now();
  const double done_s = [&] {
    for (auto it = metrics.records().rbegin(); it != metrics.records().rend(); ++it)
      if (it->contains("search_s")) return (*it)["search_s"].get<double>();
    return 0.0;
  }();
  auto elapsed = [&] {
    return done_s + std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto expected_widths = [&] { return (arch->probabilities() * table).sum(1); };
  auto expected_cost = [&] { return cost.expected(expected_widths()); };

  train::StepFn step = [&](const data::Batch& batch, int64_t i) {
    for (auto& p : net->parameters()) p.mutable_grad().reset();
    torch::Generator gen = at::detail::createCPUGenerator(train::step_seed(e.seed, "nce/gumbel", i));
    nlohmann::json m = nlohmann::json::object();
    const double progress =
        i < arch_start ? 0.0 : static_cast<double>(i - arch_start) / static_cast<double>(arch_steps);
    const double tau = o.tau_max - (o.tau_max - o.tau_min) * progress;
    if (i >= arch_start) {
      const data::Batch vb = val.at(i - arch_start);
      const torch::Tensor logits = forward_with(*net, vb.images, mix_matrices(arch->sample(tau, gen), cand));
      const torch::Tensor ce = torch::nn::functional::cross_entropy(logits, vb.labels);
      const torch::Tensor expected = expected_cost();
      const torch::Tensor loss = ce + o.cost_weight * cost_loss(expected, target, o.cost_tolerance);
      const torch::Tensor grad = torch::autograd::grad({loss}, {arch->alpha})[0];
      arch->adam_step(grad, o.arch_lr, o.arch_weight_decay);
      m["arch_loss"] = loss.item<double>();
      m["tau"] = tau;
      m["cost_ratio"] = expected.item<double>() / target;
      for (const Expansion& x : arch->expand(o.threshold, o.expand_by)) {
        const GroupCandidates& c = plan[x.group];
        spdlog::info("nce: step {}: {} expands: widest candidate {} -> {} channels", i, c.name,
                     c.widths[static_cast<size_t>(x.from - 1)], c.widths[static_cast<size_t>(x.to - 1)]);
        // Its own metrics record at the loop's step count after this step: a resume from an earlier
        // checkpoint drops it with the logits it changed.
        nlohmann::json rec = {{"stage", "nce"},
                              {"step", i + 1},
                              {"event", "expansion"},
                              {"group", c.name},
                              {"from", c.widths[static_cast<size_t>(x.from - 1)]},
                              {"to", c.widths[static_cast<size_t>(x.to - 1)]}};
        metrics.append(rec);
        expansions.push_back(rec);
      }
    }
    std::vector<GroupSample> s;
    {
      torch::NoGradGuard no_grad;
      s = arch->sample(tau, gen);
      for (GroupSample& x : s) x.weights = x.weights.detach();
    }
    const torch::Tensor logits = forward_with(*net, batch.images, mix_matrices(s, cand));
    const torch::Tensor loss = train::label_smoothed_ce(logits, batch.labels, e.train.label_smoothing);
    loss.backward();
    m["search_s"] = elapsed();
    return train::StepResult{loss.item<double>(), m};
  };
  train::EpochEndFn epoch_end = [&](int64_t) -> nlohmann::json {
    torch::NoGradGuard no_grad;
    const torch::Tensor w = expected_widths().cpu().to(torch::kDouble).contiguous();
    return {{"expected_widths", std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel())},
            {"cost_ratio", expected_cost().item<double>() / target},
            {"argmax_widths", widths_of(plan, arch->argmax())},
            {"search_s", elapsed()}};
  };
  net->train();
  loop.run(step, epoch_end);

  const std::vector<int64_t> found = widths_of(plan, derive_within(*arch, cost, plan, target));
  util::write_json(run_dir + "/found.json", subnet_json(*space, found, o.bits));
  nlohmann::json groups = nlohmann::json::array(), probs = nlohmann::json::array();
  const torch::Tensor p = arch->probabilities().detach().cpu();
  for (size_t g = 0; g < plan.size(); ++g) {
    groups.push_back({{"name", plan[g].name},
                      {"candidates", plan[g].widths},
                      {"initial", plan[g].initial},
                      {"active", arch->active(g)},
                      {"base", base[g]},
                      {"found", found[g]}});
    std::vector<double> row;
    for (int64_t j = 0; j < arch->active(g); ++j) row.push_back(p[static_cast<int64_t>(g)][j].item<double>());
    probs.push_back(row);
  }
  nlohmann::json result = {{"budget", o.budget},
                           {"metric", name},
                           {"target", target},
                           {"bits", o.bits},
                           {"found", {{"widths", found}, {"cost", cost.at(found)}}},
                           {"base", {{"widths", base}, {"cost", cost.at(base)}}},
                           {"groups", groups},
                           {"probabilities", probs},
                           {"expansions", expansions},
                           {"search_s", elapsed()}};
  util::write_json(run_dir + "/nce/result.json", result);
  plot_widths(run_dir, result);
  return result;
}

}  // namespace oqa::nce
