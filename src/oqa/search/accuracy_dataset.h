// Accuracy dataset: (subnet, measured validation top-1) pairs for the predictor, cached in one JSON file that
// is rewritten atomically as it grows, so an interrupted build resumes where it stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/space/space.h"

namespace oqa::search {

struct AccuracyRecord {
  space::Subnet subnet;
  double top1 = 0;  // percent, on the validation images
};

// The n subnets to measure: the largest and the smallest, then uniform samples (sample i drawn from an RNG
// seeded with (seed, i), so the list is a pure function of its arguments); each passed through normalize;
// duplicates redrawn.
std::vector<space::Subnet> accuracy_subnets(const space::Space& space, int64_t n, uint64_t seed,
                                            const std::function<space::Subnet(space::Subnet)>& normalize);

// Measures every subnet without a record in `path` (whose "settings" must equal `settings`; a file made with
// other settings is set aside as <path>.old and rebuilt), rewriting the file atomically every `save_every`
// measurements and at the end. Returns the records of `subnets` in order. Progress shows on a bar.
std::vector<AccuracyRecord> build_accuracy_dataset(const space::Space& space,
                                                   const std::vector<space::Subnet>& subnets,
                                                   const std::function<double(const space::Subnet&)>& measure,
                                                   const std::string& path, const nlohmann::json& settings,
                                                   int64_t save_every = 10);

}  // namespace oqa::search
