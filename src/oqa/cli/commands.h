// Subcommand registry: each subcommand file adds itself to the CLI11 app and returns its runner.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace oqa::cli {

// Options every subcommand shares (set on the top-level app).
struct GlobalOptions {
  int threads = 0;  // 0 = all cores
  std::string device = "auto";  // auto | cpu | cuda | cuda:N (util::resolve_device)
  bool quiet = false;
  bool verbose = false;
  std::vector<std::string> argv;  // the command line as given (`train --nproc` starts its ranks with it)
};

using Runner = std::function<int()>;

// Each returns the function that runs the subcommand once parsing succeeded.
Runner add_info(CLI::App& app, const GlobalOptions& global);
Runner add_train(CLI::App& app, const GlobalOptions& global);
Runner add_bench(CLI::App& app, const GlobalOptions& global);
Runner add_eval(CLI::App& app, const GlobalOptions& global);
Runner add_plot(CLI::App& app, const GlobalOptions& global);
Runner add_search(CLI::App& app, const GlobalOptions& global);
// `bench deploy` under the bench subcommand; the runner returns 0 without running when it was not chosen.
Runner add_bench_deploy(CLI::App& bench);
Runner add_export(CLI::App& app, const GlobalOptions& global);
Runner add_infer(CLI::App& app, const GlobalOptions& global);
Runner add_nce(CLI::App& app, const GlobalOptions& global);

}  // namespace oqa::cli
