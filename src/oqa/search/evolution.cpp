// Evolution, genetic algorithm and random search over a space's genes under budgets.
#include "oqa/search/evolution.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "oqa/search/pareto.h"
#include "oqa/train/subnet_sampler.h"
#include "oqa/util/error.h"
#include "oqa/util/hash.h"

namespace oqa::search {
namespace {

// A fast identity of a subnet's network: hash of its gene values with the genes of skipped blocks at their
// first choice (Space::canonical without its validation and JSON work; candidates are valid by construction).
uint64_t gene_key(const space::Space& space, const space::Subnet& s) {
  std::vector<int64_t> values = space.gene_values(s);
  const std::vector<bool> active = space.active_genes(s);
  for (size_t i = 0; i < values.size(); ++i)
    if (!active[i]) values[i] = space.genes()[i].choices[0];
  return util::fnv1a64(
      std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t)));
}

// Scores, costs and feasibility of candidates, with a cache of costs by gene values.
class Evaluator {
 public:
  Evaluator(const SearchProblem& p, SearchResult& r) : p_(p), r_(r) {}

  space::Subnet normalize(space::Subnet s) const { return p_.normalize ? p_.normalize(std::move(s)) : s; }

  const Costs& costs(const space::Subnet& s, uint64_t key) {
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, p_.costs(s)).first;
    return it->second;
  }

  bool feasible(const Costs& c) const {
    for (const Budget& b : p_.budgets)
      if (!b.admits(c)) return false;
    return true;
  }

  // Draws with make() until the subnet fits every budget.
  template <typename Make>
  Candidate draw(Make&& make, int64_t max_tries) {
    for (int64_t t = 0; t < max_tries; ++t) {
      Candidate c;
      c.subnet = normalize(make());
      c.key = gene_key(*p_.space, c.subnet);
      c.costs = costs(c.subnet, c.key);
      if (feasible(c.costs)) return c;
      ++r_.rejected;
    }
    std::string budgets;
    for (const Budget& b : p_.budgets) budgets += (budgets.empty() ? "" : ", ") + b.to_string();
    throw util::usage_error("no subnet within the budgets (" + budgets + ") found in " + std::to_string(max_tries) +
                            " draws; loosen a budget");
  }

  void score(std::vector<Candidate>& cands) {
    std::vector<space::Subnet> subnets;
    subnets.reserve(cands.size());
    for (const auto& c : cands) subnets.push_back(c.subnet);
    const std::vector<double> s = p_.score(subnets);
    if (s.size() != cands.size()) throw util::internal_error("search: score returned a wrong count");
    for (size_t i = 0; i < cands.size(); ++i) cands[i].score = s[i];
    r_.scored += static_cast<int64_t>(cands.size());
    for (const auto& c : cands) archive_.push_back(c);
  }

  // The accuracy-cost front of every scored candidate (duplicates collapse: same cost and score).
  std::vector<Candidate> front() const {
    std::vector<double> score, cost;
    for (const auto& c : archive_) {
      score.push_back(c.score);
      cost.push_back(c.costs.get(p_.objective));
    }
    std::vector<Candidate> out;
    for (size_t i : accuracy_cost_front(score, cost)) out.push_back(archive_[i]);
    return out;
  }

 private:
  const SearchProblem& p_;
  SearchResult& r_;
  std::unordered_map<uint64_t, Costs> cache_;
  std::vector<Candidate> archive_;
};

// Candidates ordered best first: by score, or (multi-objective) by non-dominated rank then crowding distance.
std::vector<size_t> selection_order(const std::vector<Candidate>& cands, bool multi_objective, Metric objective) {
  std::vector<size_t> order(cands.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (!multi_objective) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cands[a].score > cands[b].score; });
    return order;
  }
  std::vector<Point> points;
  for (const auto& c : cands) points.push_back({-c.score, c.costs.get(objective)});
  const std::vector<int> rank = non_dominated_ranks(points);
  std::vector<double> crowd(cands.size(), 0.0);
  const int max_rank = rank.empty() ? -1 : *std::max_element(rank.begin(), rank.end());
  for (int r = 0; r <= max_rank; ++r) {
    std::vector<size_t> members;
    for (size_t i = 0; i < rank.size(); ++i)
      if (rank[i] == r) members.push_back(i);
    const std::vector<double> d = crowding_distance(points, members);
    for (size_t k = 0; k < members.size(); ++k) crowd[members[k]] = d[k];
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return rank[a] != rank[b] ? rank[a] < rank[b] : crowd[a] > crowd[b];
  });
  return order;
}

// The first n of `cands` in selection order, skipping exact duplicates.
std::vector<Candidate> select(const std::vector<Candidate>& cands, size_t n,
                              bool multi_objective, Metric objective) {
  std::vector<Candidate> out;
  std::unordered_set<uint64_t> seen;
  for (size_t i : selection_order(cands, multi_objective, objective)) {
    if (out.size() == n) break;
    if (!seen.insert(cands[i].key).second) continue;
    out.push_back(cands[i]);
  }
  return out;
}

Candidate best_of(const std::vector<Candidate>& cands) {
  return *std::max_element(cands.begin(), cands.end(),
                           [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
}

void check_options(const EvolutionOptions& o) {
  if (o.population < 2) throw util::usage_error("search population must be at least 2").value(std::to_string(o.population));
  if (o.generations < 0) throw util::usage_error("search generations must be >= 0").value(std::to_string(o.generations));
  if (!(o.parent_ratio > 0 && o.parent_ratio <= 1) || !(o.mutate_ratio >= 0 && o.parent_ratio + o.mutate_ratio <= 1))
    throw util::usage_error("search needs 0 < parent_ratio and parent_ratio + mutate_ratio <= 1");
}

}  // namespace

std::string algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::kEvolution: return "evolution";
    case Algorithm::kGenetic: return "ga";
    case Algorithm::kRandom: return "random";
  }
  return "";
}

Algorithm parse_algorithm(const std::string& name) {
  if (name == "evolution") return Algorithm::kEvolution;
  if (name == "ga") return Algorithm::kGenetic;
  if (name == "random") return Algorithm::kRandom;
  throw util::usage_error("search algorithm must be evolution, ga or random").value(name);
}

std::function<space::Subnet(space::Subnet)> stage_normalizer(const space::Space& space, const std::string& quant) {
  if (quant == "mixed") return [](space::Subnet s) { return s; };
  const std::vector<space::LayerQuant> q = train::apply_stage_quant(space, space.largest(), quant).quant;
  return [q](space::Subnet s) {
    s.quant = q;
    return s;
  };
}

void check_budgets(const SearchProblem& p) {
  space::Subnet smallest = p.space->smallest();
  if (p.normalize) smallest = p.normalize(smallest);
  const Costs c = p.costs(smallest);
  for (const Budget& b : p.budgets) {
    if (b.admits(c)) continue;
    throw util::usage_error("budget " + b.to_string() + " cannot be met: the smallest achievable " +
                            metric_name(b.metric) + (p.stage.empty() ? "" : " at stage " + p.stage) + " is " +
                            format_scaled(c.get(b.metric)) + " (the smallest subnet)")
        .field("budget")
        .value(metric_name(b.metric) + "=" + format_scaled(b.limit));
  }
}

SearchResult evolve(const SearchProblem& p, const EvolutionOptions& o,
                    const std::function<void(int64_t, const Candidate&)>& on_generation) {
  if (o.algorithm == Algorithm::kRandom) return random_search(p, o.population * (o.generations + 1), o.seed);
  check_options(o);
  check_budgets(p);
  const auto start = std::chrono::steady_clock::now();
  SearchResult r;
  Evaluator ev(p, r);
  const space::Space& space = *p.space;
  std::mt19937_64 rng(o.seed);
  auto pick = [&](const std::vector<Candidate>& v) -> const Candidate& {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const size_t pop_n = static_cast<size_t>(o.population);

  std::vector<Candidate> pop;
  for (size_t i = 0; i < pop_n; ++i) pop.push_back(ev.draw([&] { return space.sample(rng); }, o.max_tries));
  ev.score(pop);

  const size_t n_parents = std::max<size_t>(1, static_cast<size_t>(o.parent_ratio * o.population));
  const size_t n_mutate = static_cast<size_t>(o.mutate_ratio * o.population);
  for (int64_t gen = 0; gen < o.generations; ++gen) {
    std::vector<Candidate> children;
    if (o.algorithm == Algorithm::kEvolution) {
      const std::vector<Candidate> parents = select(pop, n_parents, o.multi_objective, p.objective);
      for (size_t i = 0; i < n_mutate; ++i)
        children.push_back(ev.draw([&] { return space.mutate(pick(parents).subnet, o.mutate_prob, rng); }, o.max_tries));
      while (children.size() + parents.size() < pop_n)
        children.push_back(ev.draw([&] { return space.crossover(pick(parents).subnet, pick(parents).subnet, rng); },
                                   o.max_tries));
      ev.score(children);
      pop = parents;
      pop.insert(pop.end(), children.begin(), children.end());
    } else {  // GA: tournament selection, crossover, mutation, then the best of parents + children survive
      const std::vector<size_t> order = selection_order(pop, o.multi_objective, p.objective);
      std::vector<size_t> place(pop.size());
      for (size_t k = 0; k < order.size(); ++k) place[order[k]] = k;
      auto tournament = [&]() -> const Candidate& {
        size_t winner = std::uniform_int_distribution<size_t>(0, pop.size() - 1)(rng);
        for (int64_t t = 1; t < o.tournament; ++t) {
          const size_t c = std::uniform_int_distribution<size_t>(0, pop.size() - 1)(rng);
          if (place[c] < place[winner]) winner = c;
        }
        return pop[winner];
      };
      std::uniform_real_distribution<double> u(0, 1);
      for (size_t i = 0; i < pop_n; ++i)
        children.push_back(ev.draw(
            [&] {
              space::Subnet child = tournament().subnet;
              if (u(rng) < o.crossover_prob) child = space.crossover(child, tournament().subnet, rng);
              return space.mutate(child, o.mutate_prob, rng);
            },
            o.max_tries));
      ev.score(children);
      pop.insert(pop.end(), children.begin(), children.end());
      pop = select(pop, pop_n, o.multi_objective, p.objective);
    }
    const Candidate best = best_of(pop);
    r.best_per_generation.push_back(best.score);
    if (on_generation) on_generation(gen, best);
  }
  r.population = select(pop, pop.size(), false, p.objective);
  r.best = r.population.front();
  r.front = ev.front();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

SearchResult random_search(const SearchProblem& p, int64_t evaluations, uint64_t seed) {
  check_budgets(p);
  const auto start = std::chrono::steady_clock::now();
  SearchResult r;
  Evaluator ev(p, r);
  std::mt19937_64 rng(seed);
  std::vector<Candidate> all;
  for (int64_t i = 0; i < std::max<int64_t>(1, evaluations); ++i)
    all.push_back(ev.draw([&] { return p.space->sample(rng); }, 10000));
  ev.score(all);
  r.population = select(all, std::min<size_t>(all.size(), 100), false, p.objective);
  r.best = best_of(all);
  r.front = ev.front();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace oqa::search
