// Non-dominated sorting, crowding distance and the accuracy-cost front against brute-force definitions.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "oqa/search/pareto.h"

using oqa::search::Point;

namespace {

std::vector<Point> random_points(std::mt19937& rng, size_t n, size_t m, int grid) {
  std::uniform_int_distribution<int> u(0, grid);  // a coarse grid makes ties and duplicates common
  std::vector<Point> p(n, Point(m));
  for (auto& x : p)
    for (auto& v : x) v = u(rng);
  return p;
}

// Brute force: peel fronts by checking every pair among the points not yet ranked.
std::vector<int> brute_ranks(const std::vector<Point>& p) {
  std::vector<int> rank(p.size(), -1);
  for (int r = 0;; ++r) {
    std::vector<size_t> front;
    for (size_t i = 0; i < p.size(); ++i) {
      if (rank[i] >= 0) continue;
      bool dominated = false;
      for (size_t j = 0; j < p.size() && !dominated; ++j) {
        if (rank[j] >= 0 || j == i) continue;
        bool no_worse = true, better = false;
        for (size_t k = 0; k < p[i].size(); ++k) {
          no_worse = no_worse && p[j][k] <= p[i][k];
          better = better || p[j][k] < p[i][k];
        }
        dominated = no_worse && better;
      }
      if (!dominated) front.push_back(i);
    }
    if (front.empty()) return rank;
    for (size_t i : front) rank[i] = r;
  }
}

}  // namespace

TEST(Pareto, NonDominatedRanksEqualBruteForceOnRandomSets) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 1 + trial * 3, m = 2 + trial % 3;
    const auto p = random_points(rng, n, m, trial % 2 ? 5 : 1000);
    EXPECT_EQ(oqa::search::non_dominated_ranks(p), brute_ranks(p)) << "trial " << trial;
  }
}

TEST(Pareto, DominatesIsStrictInOneObjective) {
  EXPECT_TRUE(oqa::search::dominates({1, 2}, {1, 3}));
  EXPECT_FALSE(oqa::search::dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(oqa::search::dominates({0, 3}, {1, 2}));
}

TEST(Pareto, AccuracyCostFrontEqualsBruteForce) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const auto p = random_points(rng, 5 + trial * 5, 2, trial % 2 ? 6 : 1000);
    std::vector<double> score, cost;
    for (const auto& x : p) {
      score.push_back(x[0]);
      cost.push_back(x[1]);
    }
    const auto front = oqa::search::accuracy_cost_front(score, cost);
    // Brute force: i is on the front when nobody has score >= and cost <= with one strict, and it is the first
    // of its exact duplicates.
    std::vector<size_t> expect;
    for (size_t i = 0; i < p.size(); ++i) {
      bool keep = true;
      for (size_t j = 0; j < p.size() && keep; ++j) {
        if (j == i) continue;
        const bool dominated = score[j] >= score[i] && cost[j] <= cost[i] && (score[j] > score[i] || cost[j] < cost[i]);
        const bool earlier_twin = j < i && score[j] == score[i] && cost[j] == cost[i];
        keep = !dominated && !earlier_twin;
      }
      if (keep) expect.push_back(i);
    }
    std::sort(expect.begin(), expect.end(), [&](size_t a, size_t b) { return cost[a] < cost[b]; });
    EXPECT_EQ(front, expect) << "trial " << trial;
  }
}

TEST(Pareto, CrowdingDistanceHandComputed) {
  // Three points on a line: the ends are infinite, the middle one sums its neighbours' normalised gaps.
  const std::vector<Point> p = {{0, 4}, {1, 2}, {4, 0}};
  const auto d = oqa::search::crowding_distance(p, {0, 1, 2});
  EXPECT_EQ(d[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(d[2], std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(d[1], (4.0 - 0.0) / 4.0 + (4.0 - 0.0) / 4.0);
}
