// Accuracy dataset sampling, cache reading and resumable measurement.
#include "oqa/search/accuracy_dataset.h"

#include <filesystem>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/util/config.h"
#include "oqa/util/error.h"
#include "oqa/util/progress.h"

namespace oqa::search {

std::vector<space::Subnet> accuracy_subnets(const space::Space& space, int64_t n, uint64_t seed,
                                            const std::function<space::Subnet(space::Subnet)>& normalize) {
  auto norm = [&](space::Subnet s) { return normalize ? normalize(std::move(s)) : s; };
  std::vector<space::Subnet> out;
  std::unordered_set<uint64_t> seen;
  auto add = [&](space::Subnet s) {
    if (!seen.insert(space.hash(s)).second) return false;
    out.push_back(std::move(s));
    return true;
  };
  if (n > 0) add(norm(space.largest()));
  if (n > 1) add(norm(space.smallest()));
  for (uint64_t i = 0; static_cast<int64_t>(out.size()) < n; ++i) {
    std::seed_seq seq{seed, i, uint64_t{0x0a11}};
    std::mt19937_64 rng(seq);
    bool added = false;
    for (int t = 0; t < 100 && !added; ++t) added = add(norm(space.sample(rng)));
    if (!added) break;  // the space has fewer distinct subnets than asked
  }
  return out;
}

std::vector<AccuracyRecord> build_accuracy_dataset(const space::Space& space,
                                                   const std::vector<space::Subnet>& subnets,
                                                   const std::function<double(const space::Subnet&)>& measure,
                                                   const std::string& path, const nlohmann::json& settings,
                                                   int64_t save_every) {
  std::unordered_map<std::string, double> known;  // subnet hash -> top-1
  if (std::filesystem::exists(path)) {
    const util::Json cache = util::read_json(path);
    if (!cache.is_object() || cache.value("format", "") != "oqa-accuracy-dataset" || !cache.contains("records") ||
        !cache["records"].is_array())
      throw util::input_error("not an accuracy dataset (remove it to rebuild)").file(path).field("format");
    if (cache.value("settings", util::Json()) != settings) {
      spdlog::warn("{} was measured with other settings; kept as {}.old, measuring again", path, path);
      std::filesystem::rename(path, path + ".old");
    } else {
      for (const auto& r : cache["records"]) {
        try {
          const space::Subnet s = space.parse(r.at("subnet"), path);
          known[space.hash_hex(s)] = r.at("top1").get<double>();
        } catch (const nlohmann::json::exception& e) {
          throw util::input_error(std::string("malformed record: ") + e.what()).file(path).field("records");
        }
      }
    }
  }
  std::vector<AccuracyRecord> out(subnets.size());
  std::vector<bool> measured(subnets.size(), false);  // out[i].top1 is known (cached or measured now)
  std::vector<size_t> todo;
  for (size_t i = 0; i < subnets.size(); ++i) {
    out[i].subnet = subnets[i];
    auto it = known.find(space.hash_hex(subnets[i]));
    if (it != known.end()) {
      out[i].top1 = it->second;
      measured[i] = true;
    } else {
      todo.push_back(i);
    }
  }
  auto save = [&] {
    util::Json records = util::Json::array();  // the subnets measured so far, in list order
    for (size_t i = 0; i < subnets.size(); ++i)
      if (measured[i]) records.push_back({{"subnet", space::to_json(subnets[i])}, {"top1", out[i].top1}});
    util::write_json(path, {{"format", "oqa-accuracy-dataset"}, {"version", 1}, {"settings", settings},
                            {"records", records}});
  };
  if (todo.empty()) {
    spdlog::info("accuracy dataset: all {} subnets already measured ({})", subnets.size(), path);
    return out;
  }
  if (!known.empty())
    spdlog::info("accuracy dataset: resuming, {} of {} subnets already measured", subnets.size() - todo.size(),
                 subnets.size());
  util::Progress progress("accuracy dataset", static_cast<int64_t>(todo.size()), "subnet");
  int64_t since_save = 0;
  for (size_t i : todo) {
    out[i].top1 = measure(subnets[i]);
    measured[i] = true;
    progress.advance(1, fmt::format("last {:.2f}%", out[i].top1));
    if (++since_save >= save_every) {
      save();
      since_save = 0;
    }
  }
  save();
  progress.finish();
  return out;
}

}  // namespace oqa::search
