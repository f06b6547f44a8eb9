// Pareto fronts: dominance, non-dominated sorting (NSGA-II ranks), crowding distance and the 2-D front of
// (accuracy up, cost down) points. Every objective of a point vector is minimised.
#pragma once

#include <cstddef>
#include <vector>

namespace oqa::search {

using Point = std::vector<double>;  // objectives, all minimised

// a is no worse than b in every objective and better in at least one.
bool dominates(const Point& a, const Point& b);

// Front index of every point: 0 = non-dominated, 1 = non-dominated once front 0 is removed, ...
// (fast non-dominated sort, O(M N^2)).
std::vector<int> non_dominated_ranks(const std::vector<Point>& points);

// NSGA-II crowding distance of the points `members` (indices into points) within one front; the extremes of
// each objective get infinity.
std::vector<double> crowding_distance(const std::vector<Point>& points, const std::vector<size_t>& members);

// Indices of the points with no other point of higher-or-equal score and lower-or-equal cost (one better),
// sorted by cost ascending; of exact duplicates the first is kept. O(N log N).
std::vector<size_t> accuracy_cost_front(const std::vector<double>& score, const std::vector<double>& cost);

}  // namespace oqa::search
