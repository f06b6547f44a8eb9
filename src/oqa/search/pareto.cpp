// Non-dominated sorting, crowding distance and the accuracy-cost front.
#include "oqa/search/pareto.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace oqa::search {

bool dominates(const Point& a, const Point& b) {
  bool better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

std::vector<int> non_dominated_ranks(const std::vector<Point>& points) {
  const size_t n = points.size();
  std::vector<std::vector<size_t>> dominated(n);  // points that i dominates
  std::vector<int> count(n, 0), rank(n, -1);      // how many points dominate i
  std::vector<size_t> front;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (dominates(points[i], points[j])) {
        dominated[i].push_back(j);
        ++count[j];
      } else if (dominates(points[j], points[i])) {
        dominated[j].push_back(i);
        ++count[i];
      }
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (count[i] == 0) front.push_back(i);
  for (int r = 0; !front.empty(); ++r) {
    std::vector<size_t> next;
    for (size_t i : front) {
      rank[i] = r;
      for (size_t j : dominated[i])
        if (--count[j] == 0) next.push_back(j);
    }
    front.swap(next);
  }
  return rank;
}

std::vector<double> crowding_distance(const std::vector<Point>& points, const std::vector<size_t>& members) {
  const size_t n = members.size();
  std::vector<double> dist(n, 0.0);
  if (n == 0) return dist;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<size_t> order(n);
  for (size_t m = 0; m < points[members[0]].size(); ++m) {
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return points[members[a]][m] < points[members[b]][m]; });
    const double lo = points[members[order.front()]][m], hi = points[members[order.back()]][m];
    dist[order.front()] = dist[order.back()] = inf;
    if (hi <= lo) continue;
    for (size_t k = 1; k + 1 < n; ++k)
      dist[order[k]] += (points[members[order[k + 1]]][m] - points[members[order[k - 1]]][m]) / (hi - lo);
  }
  return dist;
}

std::vector<size_t> accuracy_cost_front(const std::vector<double>& score, const std::vector<double>& cost) {
  std::vector<size_t> order(score.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Cost ascending; among equal costs the best score first, then the earliest index.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return cost[a] != cost[b] ? cost[a] < cost[b] : score[a] > score[b];
  });
  std::vector<size_t> front;
  double best = -std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    if (score[i] > best) {
      front.push_back(i);
      best = score[i];
    }
  }
  return front;
}

}  // namespace oqa::search
