// Evolution, genetic algorithm and random search over a space's genes under budgets.
#include "oqa/search/evolution.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <numeric>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "oqa/search/pareto.h"
#include "oqa/space/subnet_sampler.h"
#include "oqa/util/error.h"

namespace oqa::search {
namespace {

// A fast identity of a subnet's network among candidates that share their fixed genes: a word-wise hash of
// the free genes' values with the genes of skipped blocks at their first choice (Space::canonical without its
// validation and JSON work; candidates are valid by construction).
uint64_t gene_key(const space::Space& space, const std::vector<int64_t>& values,
                  const std::vector<unsigned char>& blocks, const std::vector<size_t>& free) {
  const auto& genes = space.genes();
  uint64_t h = 1469598103934665603ULL;
  for (size_t i : free)
    h = (h ^ static_cast<uint64_t>(space.gene_active(i, blocks) ? values[i] : genes[i].choices[0])) *
        1099511628211ULL;
  // splitmix64's finaliser: spreads the small gene values over every bit
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

bool in_domain(const GeneDomain& d, int64_t v) {
  return std::find(d.values.begin(), d.values.end(), v) != d.values.end();
}

// Gene values brought inside SearchProblem::domains (a value outside redrawn uniformly from rng, or without
// rng the nearest allowed value: the smallest and largest subnets within the domains), then its fixed genes set.
void fix_genes(const SearchProblem& p, std::vector<int64_t>& values, std::mt19937_64* rng = nullptr) {
  for (const GeneDomain& d : p.domains) {
    int64_t& v = values.at(d.gene);
    if (in_domain(d, v)) continue;
    if (rng) {
      v = d.values[std::uniform_int_distribution<size_t>(0, d.values.size() - 1)(*rng)];
    } else {
      const int64_t from = v;
      v = *std::min_element(d.values.begin(), d.values.end(),
                            [&](int64_t a, int64_t b) { return std::abs(a - from) < std::abs(b - from); });
    }
  }
  for (const auto& [i, v] : p.fixed_genes) values.at(i) = v;
}

// The candidates on the accuracy-cost front (score up, objective cost down), cheapest first.
std::vector<Candidate> front_of(const std::vector<Candidate>& cands, Metric objective) {
  std::vector<double> score, cost;
  for (const auto& c : cands) {
    score.push_back(c.score);
    cost.push_back(c.costs.get(objective));
  }
  std::vector<Candidate> out;
  for (size_t i : accuracy_cost_front(score, cost)) out.push_back(cands[i]);
  return out;
}

// Scores, costs and feasibility of candidates, with caches of costs and scores by network, and the
// accuracy-cost front of everything scored.
class Evaluator {
 public:
  Evaluator(const SearchProblem& p, SearchResult& r, std::mt19937_64& rng)
      : p_(p), r_(r), space_(*p.space), rng_(rng) {
    std::vector<unsigned char> fixed(space_.genes().size(), 0);
    for (const auto& [i, v] : p.fixed_genes) {
      OQA_ASSERT(i < fixed.size(), "search: fixed gene index out of range");
      fixed[i] = 1;
    }
    domain_of_.assign(fixed.size(), nullptr);
    for (const GeneDomain& d : p.domains) {
      OQA_ASSERT(d.gene < fixed.size() && !d.values.empty(), "search: bad gene domain");
      domain_of_[d.gene] = &d;
      if (d.values.size() == 1) fixed[d.gene] = 1;  // nothing to vary: mutation leaves it alone
    }
    for (size_t i = 0; i < fixed.size(); ++i)
      if (!fixed[i]) free_.push_back(i);
  }

  // The genes mutation and crossover change (the ones SearchProblem::fixed_genes and one-value domains
  // leave free).
  const std::vector<size_t>& free_genes() const { return free_; }

  // A candidate for a valid subnet, inside the domains and with its fixed genes set.
  Candidate make(const space::Subnet& s) { return from_genes(space_.gene_values(s)); }

  // A candidate for valid gene values (mutation and crossover of candidates keep the fixed genes: they change
  // the free genes only; a mutated value outside its domain is redrawn inside). No subnet is built.
  Candidate from_genes(std::vector<int64_t> values) {
    fix_genes(p_, values, &rng_);
    Candidate c;
    c.genes = std::move(values);
    space_.block_activity_into(c.genes, blocks_);
    c.key = gene_key(space_, c.genes, blocks_, free_);
    return c;
  }

  // Costs of the candidate's network, asked of SearchProblem::costs once per network (through a reused
  // subnet).
  const Costs& costs(const Candidate& c) {
    auto it = cost_cache_.find(c.key);
    if (it == cost_cache_.end()) {
      space_.from_valid_gene_values(c.genes, subnet_);
      it = cost_cache_.emplace(c.key, p_.costs(subnet_)).first;
    }
    return it->second;
  }

  bool feasible(const Costs& c) const {
    for (const Budget& b : p_.budgets)
      if (!b.admits(c)) return false;
    return true;
  }

  // Draws with make() (returning a Candidate) until one fits every budget. After kPlainDraws misses (a tight
  // budget that uniform draws rarely meet, e.g. 3 average bits where bits range over 2..8), each draw is
  // repaired instead: one random free ordered gene at a time steps down to its next smaller allowed value
  // until the candidate fits or nothing can shrink.
  template <typename Make>
  Candidate draw(Make&& make, int64_t max_tries) {
    constexpr int64_t kPlainDraws = 50;
    for (int64_t t = 0; t < max_tries; ++t) {
      Candidate c = make();
      c.costs = costs(c);
      while (!feasible(c.costs) && t >= kPlainDraws && shrink_one(c.genes)) {
        c = from_genes(std::move(c.genes));
        c.costs = costs(c);
      }
      if (feasible(c.costs)) return c;
      ++r_.rejected;
    }
    std::string budgets;
    for (const Budget& b : p_.budgets) budgets += (budgets.empty() ? "" : ", ") + b.to_string();
    throw util::usage_error("no subnet within the budgets (" + budgets + ") found in " +
                            std::to_string(max_tries) + " draws; loosen a budget");
  }

  // Steps one random free ordered gene (bits, kernel, depth, ...) that is above its smallest allowed value down
  // to the next smaller allowed one; false when none can shrink.
  bool shrink_one(std::vector<int64_t>& values) {
    const auto& genes = space_.genes();
    std::vector<std::pair<size_t, int64_t>> options;  // (gene, its next smaller allowed value)
    for (size_t i : free_) {
      if (!genes[i].ordered) continue;
      const GeneDomain* d = domain_of_[i];
      const std::vector<int64_t>& allowed = d ? d->values : genes[i].choices;
      int64_t below = values[i];
      for (int64_t v : allowed)
        if (v < values[i] && (below == values[i] || v > below)) below = v;
      if (below != values[i]) options.emplace_back(i, below);
    }
    if (options.empty()) return false;
    const auto& [gene, value] = options[std::uniform_int_distribution<size_t>(0, options.size() - 1)(rng_)];
    values[gene] = value;
    return true;
  }

  // Scores each candidate; networks scored before (or twice in `cands`) reuse their score.
  void score(std::vector<Candidate>& cands) {
    space::GeneRows fresh;
    std::vector<uint64_t> fresh_keys;
    for (const auto& c : cands)
      if (score_cache_.emplace(c.key, 0.0).second) {
        fresh.push_back(&c.genes);
        fresh_keys.push_back(c.key);
      }
    if (!fresh.empty()) {
      const std::vector<double> s = p_.score_genes ? p_.score_genes(fresh) : score_subnets(fresh);
      if (s.size() != fresh.size()) throw util::internal_error("search: score returned a wrong count");
      for (size_t i = 0; i < s.size(); ++i) score_cache_[fresh_keys[i]] = s[i];
    }
    r_.predicted += static_cast<int64_t>(fresh.size());
    r_.scored += static_cast<int64_t>(cands.size());
    for (auto& c : cands) {
      c.score = score_cache_.at(c.key);
      archive(c);
    }
  }

  // The accuracy-cost front of every scored candidate (duplicates collapse: same cost and score).
  std::vector<Candidate> front() const { return front_of(archive_, p_.objective); }

 private:
  std::vector<double> score_subnets(const space::GeneRows& rows) const {
    std::vector<space::Subnet> subnets;
    subnets.reserve(rows.size());
    for (const auto* v : rows) subnets.push_back(space_.from_valid_gene_values(*v));
    return p_.score(subnets);
  }

  // Keeps the candidates that accuracy_cost_front over everything scored so far would keep: a newcomer
  // weakly dominated by a kept one (no more accurate at no lower cost) is dropped, and kept ones it dominates
  // leave (it is later, so an exact tie stays with the earlier one).
  void archive(const Candidate& c) {
    const double cost = c.costs.get(p_.objective);
    for (const Candidate& a : archive_)
      if (a.costs.get(p_.objective) <= cost && a.score >= c.score) return;
    archive_.erase(std::remove_if(archive_.begin(), archive_.end(),
                                  [&](const Candidate& a) {
                                    return cost <= a.costs.get(p_.objective) && c.score >= a.score;
                                  }),
                   archive_.end());
    archive_.push_back(c);
  }

  const SearchProblem& p_;
  SearchResult& r_;
  const space::Space& space_;
  std::mt19937_64& rng_;  // redraws of values outside a domain
  std::vector<const GeneDomain*> domain_of_;  // by gene: its SearchProblem::domains entry, or nullptr
  std::unordered_map<uint64_t, Costs> cost_cache_;
  std::unordered_map<uint64_t, double> score_cache_;
  std::vector<Candidate> archive_;
  std::vector<size_t> free_;
  std::vector<unsigned char> blocks_;  // reused buffers
  space::Subnet subnet_;
};

// Candidates ordered best first: by score, or (multi-objective) by non-dominated rank then crowding distance.
std::vector<size_t> selection_order(const std::vector<Candidate>& cands, bool multi_objective,
                                    Metric objective) {
  std::vector<size_t> order(cands.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (!multi_objective) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return cands[a].score > cands[b].score; });
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
std::vector<Candidate> select(const std::vector<Candidate>& cands, size_t n, bool multi_objective,
                              Metric objective) {
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

// Builds the subnet of a candidate (the search works on genes; results carry subnets).
void materialize(const space::Space& space, Candidate& c) {
  space.from_valid_gene_values(c.genes, c.subnet);
}

// SearchProblem::exact_score applied to the final population (re-sorted; the best is its first) and front.
void rescore(const SearchProblem& p, SearchResult& r) {
  if (!p.exact_score) return;
  auto apply = [&](std::vector<Candidate>& cands) {
    std::vector<space::Subnet> subnets;
    for (const auto& c : cands) subnets.push_back(c.subnet);
    const std::vector<double> s = subnets.empty() ? std::vector<double>{} : p.exact_score(subnets);
    if (s.size() != cands.size()) throw util::internal_error("search: exact_score returned a wrong count");
    for (size_t i = 0; i < s.size(); ++i) cands[i].score = s[i];
  };
  apply(r.population);
  r.population = select(r.population, r.population.size(), false, p.objective);
  r.best = r.population.front();
  apply(r.front);
  r.front = front_of(r.front, p.objective);
}

// The returned candidates' subnets, then their exact scores, and the time taken.
void finish(const SearchProblem& p, SearchResult& r, std::chrono::steady_clock::time_point start) {
  for (auto* list : {&r.population, &r.front})
    for (Candidate& c : *list) materialize(*p.space, c);
  materialize(*p.space, r.best);
  rescore(p, r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_options(const EvolutionOptions& o) {
  if (o.population < 2)
    throw util::usage_error("search population must be at least 2").value(std::to_string(o.population));
  if (o.generations < 0)
    throw util::usage_error("search generations must be >= 0").value(std::to_string(o.generations));
  if (!(o.parent_ratio > 0 && o.parent_ratio <= 1) ||
      !(o.mutate_ratio >= 0 && o.parent_ratio + o.mutate_ratio <= 1))
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

std::vector<std::pair<size_t, int64_t>> stage_fixed_genes(const space::Space& space,
                                                          const std::string& quant) {
  if (quant == "mixed") return {};
  const std::vector<int64_t> values = space.gene_values(stage_normalizer(space, quant)(space.largest()));
  std::vector<std::pair<size_t, int64_t>> fixed;
  for (size_t i = space.quant_genes_begin(); i < values.size(); ++i) fixed.emplace_back(i, values[i]);
  return fixed;
}

std::function<space::Subnet(space::Subnet)> stage_normalizer(const space::Space& space,
                                                             const std::string& quant) {
  if (quant == "mixed") return [](space::Subnet s) { return s; };
  const std::vector<space::LayerQuant> q = space::apply_stage_quant(space, space.largest(), quant).quant;
  return [q](space::Subnet s) {
    s.quant = q;
    return s;
  };
}

space::Subnet within_domains(const SearchProblem& p, const space::Subnet& subnet) {
  std::vector<int64_t> values = p.space->gene_values(subnet);
  fix_genes(p, values);
  return p.space->from_gene_values(values);
}

namespace {

// The costs of subnet with the stage's fixed genes (its quantization) applied.
Costs costs_at_stage(const SearchProblem& p, const space::Subnet& subnet) {
  return p.costs(within_domains(p, subnet));
}

}  // namespace

void resolve_budgets(SearchProblem& p) {
  const Costs lo = costs_at_stage(p, p.space->smallest()), hi = costs_at_stage(p, p.space->largest());
  for (Budget& b : p.budgets)
    if (b.fraction >= 0) {
      const double from = lo.get(b.metric), to = hi.get(b.metric);
      // The largest end rounded up a little, so that 100% admits the largest subnet itself.
      b.limit = b.fraction >= 1 ? to * (1 + 1e-9) : from + b.fraction * (to - from);
    }
}

void check_domains(const SearchProblem& p) {
  for (const GeneDomain& d : p.domains)
    for (const auto& [i, v] : p.fixed_genes)
      if (i == d.gene && !in_domain(d, v)) {
        const space::Gene& g = p.space->genes().at(i);
        std::string allowed;
        for (int64_t a : d.values) allowed += (allowed.empty() ? "" : ", ") + space::gene_value_text(g, a);
        throw util::usage_error("the profile allows the " + g.label + " only " + allowed + ", but stage " +
                                p.stage + " fixes it at " + space::gene_value_text(g, v) +
                                "; search a stage the profile admits (e.g. a mixed one)")
            .field("profile")
            .value(g.field);
      }
}

void check_budgets(const SearchProblem& p) {
  const Costs c = costs_at_stage(p, p.space->smallest());
  for (const Budget& b : p.budgets) {
    OQA_ASSERT(b.fraction < 0 || b.limit > 0, "budget " + b.to_string() + " used before resolve_budgets");
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
  check_domains(p);
  check_budgets(p);
  const auto start = std::chrono::steady_clock::now();
  SearchResult r;
  std::mt19937_64 rng(o.seed);
  Evaluator ev(p, r, rng);
  const space::Space& space = *p.space;
  auto pick = [&](const std::vector<Candidate>& v) -> const Candidate& {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const size_t pop_n = static_cast<size_t>(o.population);

  std::vector<Candidate> pop;
  for (size_t i = 0; i < pop_n; ++i)
    pop.push_back(ev.draw([&] { return ev.make(space.sample(rng)); }, o.max_tries));
  ev.score(pop);

  const size_t n_parents = std::max<size_t>(1, static_cast<size_t>(o.parent_ratio * o.population));
  const size_t n_mutate = static_cast<size_t>(o.mutate_ratio * o.population);
  for (int64_t gen = 0; gen < o.generations; ++gen) {
    std::vector<Candidate> children;
    if (o.algorithm == Algorithm::kEvolution) {
      const std::vector<Candidate> parents = select(pop, n_parents, o.multi_objective, p.objective);
      for (size_t i = 0; i < n_mutate; ++i)
        children.push_back(ev.draw(
            [&] {
              std::vector<int64_t> v = pick(parents).genes;
              space.mutate_values(v, o.mutate_prob, rng, ev.free_genes());
              return ev.from_genes(std::move(v));
            },
            o.max_tries));
      while (children.size() + parents.size() < pop_n)
        children.push_back(ev.draw(
            [&] {
              std::vector<int64_t> v = pick(parents).genes;
              space.crossover_values(v, pick(parents).genes, rng, ev.free_genes());
              return ev.from_genes(std::move(v));
            },
            o.max_tries));
      ev.score(children);
      pop = std::move(parents);
      std::move(children.begin(), children.end(), std::back_inserter(pop));
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
              std::vector<int64_t> v = tournament().genes;
              if (u(rng) < o.crossover_prob)
                space.crossover_values(v, tournament().genes, rng, ev.free_genes());
              space.mutate_values(v, o.mutate_prob, rng, ev.free_genes());
              return ev.from_genes(std::move(v));
            },
            o.max_tries));
      ev.score(children);
      std::move(children.begin(), children.end(), std::back_inserter(pop));
      pop = select(pop, pop_n, o.multi_objective, p.objective);
    }
    Candidate best = best_of(pop);
    r.best_per_generation.push_back(best.score);
    if (on_generation) {
      materialize(space, best);
      on_generation(gen, best);
    }
  }
  r.population = select(pop, pop.size(), false, p.objective);
  r.best = r.population.front();
  r.front = ev.front();
  finish(p, r, start);
  return r;
}

SearchResult random_search(const SearchProblem& p, int64_t evaluations, uint64_t seed) {
  check_domains(p);
  check_budgets(p);
  const auto start = std::chrono::steady_clock::now();
  SearchResult r;
  std::mt19937_64 rng(seed);
  Evaluator ev(p, r, rng);
  std::vector<Candidate> all;
  for (int64_t i = 0; i < std::max<int64_t>(1, evaluations); ++i)
    all.push_back(ev.draw([&] { return ev.make(p.space->sample(rng)); }, 10000));
  ev.score(all);
  r.population = select(all, std::min<size_t>(all.size(), 100), false, p.objective);
  r.best = best_of(all);
  r.front = ev.front();
  finish(p, r, start);
  return r;
}

}  // namespace oqa::search
