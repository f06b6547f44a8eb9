// `oqa nce`: neural channel expansion, the width search of a quantized ResNet space under a MACs or params
// budget, into a resumable run folder.
#include <cstdio>

#include <spdlog/spdlog.h>

#include "oqa/cli/commands.h"
#include "oqa/nce/nce_options.h"
#include "oqa/nce/nce_search.h"
#include "oqa/pipeline/run_config.h"
#include "oqa/pipeline/run_dir.h"
#include "oqa/search/budget.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::cli {

namespace {

struct NceArgs {
  std::string config, out, resume, budget;
  std::vector<std::string> sets;
  bool force = false;
};

std::string join(const nlohmann::json& list) {
  std::string s;
  for (const auto& v : list) s += (s.empty() ? "" : " ") + std::to_string(v.get<int64_t>());
  return s;
}

int run_nce_command(const NceArgs& a) {
  std::string run_dir;
  util::Config config = util::Config::from_json(util::Json::object());
  if (!a.resume.empty()) {
    if (!a.config.empty() || !a.sets.empty() || !a.budget.empty())
      throw util::usage_error(
          "--resume continues a search with its own nce-config.json; drop --config/--set/--budget");
    run_dir = a.resume;
    config = util::Config::load(run_dir + "/nce-config.json");
  } else {
    if (a.config.empty()) throw util::usage_error("give --config FILE (or --resume RUN)");
    if (a.out.empty()) throw util::usage_error("give --out RUN, the folder of the search");
    run_dir = a.out;
    config = util::Config::load(a.config);
    for (const auto& s : a.sets) config.set(s);
    if (!a.budget.empty()) config.set("nce.budget=\"" + a.budget + "\"");
  }
  const nce::NceOptions options = nce::read_nce_options(config.root().child("nce"));
  const train::Experiment e = pipeline::read_run_config(config).experiment;
  const util::FileLock lock = pipeline::claim_run_dir(run_dir, !a.resume.empty(), a.force);
  util::write_json(run_dir + "/nce-config.json", e.resolved);
  spdlog::info("nce run directory: {}", run_dir);
  const nlohmann::json r = nce::run_nce(e, options, run_dir);
  const std::string metric = r["metric"].get<std::string>();
  std::printf("neural channel expansion under %s (%s %s): %.0f s\n", r["budget"].get<std::string>().c_str(),
              metric.c_str(), search::format_scaled(r["target"].get<double>()).c_str(),
              r["search_s"].get<double>());
  std::printf(
      "  base  %s: %s\n  found %s: %s\n", search::format_scaled(r["base"]["cost"].get<double>()).c_str(),
      join(r["base"]["widths"]).c_str(), search::format_scaled(r["found"]["cost"].get<double>()).c_str(),
      join(r["found"]["widths"]).c_str());
  std::printf("  expansions: %zu; results: %s/nce/result.json, %s/found.json, %s/widths.png\n",
              r["expansions"].size(), run_dir.c_str(), run_dir.c_str(), run_dir.c_str());
  std::printf(
      "train both at %d bits: oqa train --run %s --subnet %s/found.json --bits %d --from-scratch "
      "(and --subnet %s/base.json)\n",
      r["bits"].get<int>(), run_dir.c_str(), run_dir.c_str(), r["bits"].get<int>(), run_dir.c_str());
  return 0;
}

}  // namespace

Runner add_nce(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<NceArgs>();
  app.add_option("-c,--config", a->config,
                 "experiment config with a resnet space and an optional nce section");
  app.add_option("-o,--out", a->out, "run directory of the search");
  app.add_option("--resume", a->resume, "continue the search in this directory from its last checkpoint");
  app.add_option("--budget", a->budget,
                 "macs=VALUE or params=VALUE (K/M/G suffixes; base = the base widths' cost); "
                 "shortcut for --set nce.budget=...");
  app.add_option("--set", a->sets, "override a config key: --set nce.epochs=2 (repeatable)");
  app.add_flag("--force", a->force, "start over in a run directory that already holds a run");
  return [a] { return run_nce_command(*a); };
}

}  // namespace oqa::cli
