// read_search_options: config keys of the "search" section (documented in docs/config.md).
#include "oqa/search/search_options.h"

#include "oqa/search/budget.h"

namespace oqa::search {

SearchOptions read_search_options(util::ConfigNode node) {
  SearchOptions s;
  s.samples = node.get_int_range("samples", s.samples, 2, 10000000);
  s.val_images = node.get_int_range("val_images", s.val_images, 0, 1 << 30);
  s.bn_images = node.get_int_range("bn_images", s.bn_images, -1, 1 << 30);
  s.objective = node.get_choice("objective", s.objective, metric_names());
  s.budgets = node.get<std::vector<std::string>>("budgets", s.budgets);
  for (const auto& b : s.budgets) {
    try {
      parse_budget(b);
    } catch (const util::Error& e) {
      throw node.error("budgets", e.message() + " ('" + b + "')");
    }
  }
  s.profile = read_profile(node.child("profile"));
  s.top = node.get_int_range("top", s.top, 1, 1000);
  s.front_points = node.get_int_range("front_points", s.front_points, 0, 1000);
  s.anchors = node.get<bool>("anchors", s.anchors);

  auto p = node.child("predictor");
  auto& po = s.predictor;
  s.predictor_encoding = p.get_choice("encoding", s.predictor_encoding, {"auto", "arch", "quant", "cond"});
  po.hidden = p.get_int_range("hidden", po.hidden, 1, 1 << 16);
  po.layers = p.get_int_range("layers", po.layers, 1, 64);
  po.epochs = p.get_int_range("epochs", po.epochs, 1, 1000000);
  po.batch_size = p.get_int_range("batch_size", po.batch_size, 1, 1 << 20);
  po.lr = p.get_range("lr", po.lr, 1e-8, 10.0);
  po.weight_decay = p.get_range("weight_decay", po.weight_decay, 0.0, 1.0);
  po.held_out = p.get_range("held_out", po.held_out, 0.0, 0.9);
  s.predictor_precision = p.get_choice("precision", s.predictor_precision, {"auto", "float32", "bfloat16"});

  auto& e = s.evolution;
  e.algorithm = parse_algorithm(
      node.get_choice("algorithm", algorithm_name(e.algorithm), {"evolution", "ga", "random"}));
  e.population = node.get_int_range("population", e.population, 2, 1 << 20);
  e.generations = node.get_int_range("generations", e.generations, 0, 1 << 20);
  e.parent_ratio = node.get_range("parent_ratio", e.parent_ratio, 0.01, 1.0);
  e.mutate_ratio = node.get_range("mutate_ratio", e.mutate_ratio, 0.0, 1.0);
  if (e.parent_ratio + e.mutate_ratio > 1.0)
    throw node.error("mutate_ratio", "parent_ratio + mutate_ratio must be at most 1");
  e.mutate_prob = node.get_range("mutate_prob", e.mutate_prob, 0.0, 1.0);
  e.crossover_prob = node.get_range("crossover_prob", e.crossover_prob, 0.0, 1.0);
  e.tournament = node.get_int_range("tournament", e.tournament, 1, 1 << 10);
  e.multi_objective = node.get<bool>("multi_objective", e.multi_objective);
  return s;
}

}  // namespace oqa::search
