// Subnet search under budgets: Once-for-All's evolution (parents, mutation, crossover), EQ-Net's genetic
// algorithm (tournament selection, crossover, mutation, elitist merge), NSGA-II selection for the
// multi-objective mode, and random search as the baseline. Every candidate kept satisfies every budget.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "oqa/search/budget.h"
#include "oqa/search/profile.h"
#include "oqa/space/space.h"

namespace oqa::search {

struct Candidate {
  // The network; the search itself works on `genes` and builds subnets only for what it returns
  // (SearchResult's population, best and front) and for on_generation's best.
  space::Subnet subnet;
  double score = 0;  // predicted (or synthetic) accuracy: higher is better
  Costs costs;
  uint64_t key = 0;            // identity of the network (canonical gene values), set by the search
  std::vector<int64_t> genes;  // Space::gene_values of subnet, set by the search
};

struct SearchProblem {
  const space::Space* space = nullptr;
  // Genes held at a value in every candidate (e.g. the quantization genes at a stage's uniform bit-width,
  // stage_fixed_genes): set in every sampled, mutated or crossed subnet; the search varies only the others.
  std::vector<std::pair<size_t, int64_t>> fixed_genes;
  // Genes restricted to some of their choices (a hardware profile, profile_domains): every sampled or mutated
  // value outside its domain is redrawn uniformly from it, so every candidate lies inside.
  std::vector<GeneDomain> domains;
  // Batched scores of subnets (higher is better). Equal networks (same canonical genes) are scored once.
  std::function<std::vector<double>(const std::vector<space::Subnet>&)> score;
  // Optional, the fast path: the same scores from gene values (a predictor encodes them without building
  // subnets); used instead of `score` during the search when set.
  std::function<std::vector<double>(const space::GeneRows&)> score_genes;
  // Optional: re-scores the final population and front (the predictor in float32 when `score` runs it in
  // bfloat16); the front is kept under `score` during the search and recomputed from the new scores.
  std::function<std::vector<double>(const std::vector<space::Subnet>&)> exact_score;
  std::function<Costs(const space::Subnet&)> costs;  // asked once per distinct network
  std::vector<Budget> budgets;
  Metric objective = Metric::kBitops;  // the cost axis of the front (and of the multi-objective mode)
  std::string stage;                   // named in messages ("w2a2")
};

enum class Algorithm { kEvolution, kGenetic, kRandom };
std::string algorithm_name(Algorithm a);             // "evolution" | "ga" | "random"
Algorithm parse_algorithm(const std::string& name);  // usage error naming the value

struct EvolutionOptions {
  Algorithm algorithm = Algorithm::kEvolution;
  int64_t population = 100;
  int64_t generations = 500;
  double parent_ratio = 0.25;    // evolution: share of the population kept as parents
  double mutate_ratio = 0.5;     // evolution: share of the population made by mutation (the rest: crossover)
  double mutate_prob = 0.1;      // probability of redrawing each gene
  double crossover_prob = 0.9;   // GA: probability that a child is a crossover (else a copy) before mutation
  int64_t tournament = 2;        // GA: tournament size
  bool multi_objective = false;  // keep the non-dominated (score, objective cost) front instead of the top
  int64_t max_tries = 10000;     // draws per candidate before giving up on the budgets
  uint64_t seed = 0;
};

struct SearchResult {
  std::vector<Candidate> population;  // final, best score first
  Candidate best;                     // highest score under every budget
  std::vector<Candidate> front;  // non-dominated (score up, objective cost down) of every scored candidate
  int64_t scored = 0;            // candidates scored
  int64_t predicted = 0;  // of them, distinct networks sent to SearchProblem::score (the rest repeat one)
  int64_t rejected = 0;   // draws over a budget (resampled)
  double seconds = 0;
  std::vector<double> best_per_generation;
};

// A subnet normalized to a training stage: every searched layer at the stage's quantization ("w2a2",
// "float"), resolved once so each call only copies it; "mixed" keeps the sampled quantization.
std::function<space::Subnet(space::Subnet)> stage_normalizer(const space::Space& space,
                                                             const std::string& quant);
// SearchProblem::fixed_genes for the same stage: every quantization gene at the value stage_normalizer
// gives it (none for "mixed").
std::vector<std::pair<size_t, int64_t>> stage_fixed_genes(const space::Space& space,
                                                          const std::string& quant);

// subnet with every gene value outside SearchProblem::domains moved to the nearest allowed value and the fixed
// genes set: the subnet as the stage and the profile let it be.
space::Subnet within_domains(const SearchProblem& problem, const space::Subnet& subnet);

// Sets the limit of every budget given as a share ("bitops=40%"): the smallest subnet's cost at the stage plus
// that share of the way to the largest's.
void resolve_budgets(SearchProblem& problem);

// Throws a usage error when a gene's domain excludes the value a stage fixes it at (a 4-bit-only profile at
// stage w2a2), naming the profile key, the gene and the stage.
void check_domains(const SearchProblem& problem);

// Throws a usage error when a budget is below the smallest achievable value (the smallest subnet's cost at
// the stage within the domains), naming the budget and that value.
void check_budgets(const SearchProblem& problem);

// on_generation(generation, best so far) after each generation (for progress output).
SearchResult evolve(const SearchProblem& problem, const EvolutionOptions& options,
                    const std::function<void(int64_t, const Candidate&)>& on_generation = {});

// `evaluations` uniform feasible samples; the front and best as evolve's.
SearchResult random_search(const SearchProblem& problem, int64_t evaluations, uint64_t seed);

}  // namespace oqa::search
