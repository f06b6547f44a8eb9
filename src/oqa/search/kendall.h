// Rank agreement of predictions with measurements: Kendall's tau-b and the root mean square error.
#pragma once

#include <vector>

namespace oqa::search {

// Kendall's tau-b of two equally long samples (ties in either count as neither concordant nor discordant, with
// the tau-b normalisation); 0 when fewer than two points or when one sample is constant. O(N^2).
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

double rmse(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace oqa::search
