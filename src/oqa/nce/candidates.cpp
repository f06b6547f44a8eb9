// Planning the initial and expansion width candidates of every width group.
#include "oqa/nce/candidates.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "oqa/util/error.h"

namespace oqa::nce {

std::vector<GroupCandidates> plan_candidates(const space::ResNetSpace& space, const NceOptions& o) {
  std::vector<GroupCandidates> plan;
  bool elastic = false;
  for (const space::WidthGroup& g : space.width_groups()) {
    GroupCandidates c{g.name, g.base, g.candidates, g.candidates.size()};
    const double base = static_cast<double>(g.base);
    const double widest = static_cast<double>(g.candidates.back()) / base;
    for (int k = 1;; ++k) {
      const double m = widest + k * o.expand_step;
      if (m > o.cap + 1e-9) break;
      const int64_t w = std::llround(m * base);
      if (w > c.widths.back()) c.widths.push_back(w);
    }
    elastic = elastic || c.widths.size() > 1;
    plan.push_back(std::move(c));
  }
  if (!elastic)
    throw util::usage_error(
        "neural channel expansion needs width choices: every width group of the space has "
        "one width and nce.cap allows no expansion (set space.width_multipliers or nce.cap)")
        .field("space.width_multipliers");
  return plan;
}

std::shared_ptr<const space::ResNetSpace> expanded_space(const space::ResNetSpace& space,
                                                         const std::vector<GroupCandidates>& plan) {
  space::ResNetOptions o = space.options();
  for (const GroupCandidates& c : plan) o.widths[c.name] = c.widths;
  return std::make_shared<const space::ResNetSpace>(o);
}

std::vector<int64_t> base_widths(const std::vector<GroupCandidates>& plan) {
  std::vector<int64_t> out;
  for (const GroupCandidates& c : plan) {
    const auto first = c.widths.begin(), last = c.widths.begin() + static_cast<std::ptrdiff_t>(c.initial);
    out.push_back(*std::min_element(
        first, last, [&](int64_t a, int64_t b) { return std::llabs(a - c.base) < std::llabs(b - c.base); }));
  }
  return out;
}

}  // namespace oqa::nce
