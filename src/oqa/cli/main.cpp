// oqa entry point: parses the command line, runs one subcommand, turns errors into one line + exit code.
#include <cstdio>
#include <map>

#include <c10/util/Exception.h>

#include <spdlog/spdlog.h>

#include "oqa/cli/commands.h"
#include "oqa/cli/unknown_word.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"
#include "oqa/util/log.h"
#include "oqa/util/memory.h"
#include "oqa/util/threads.h"

int main(int argc, char** argv) {
  using namespace oqa;
  CLI::App app{"oqa: train, search and deploy once-quantized-for-all supernets", "oqa"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("oqa ") + OQA_VERSION);
  cli::GlobalOptions global;
  global.argv.assign(argv, argv + argc);
  app.add_option("--threads", global.threads, "LibTorch intra-op threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", global.device,
                 "compute device of training, evaluation and search: auto (cuda when present), cpu, cuda, "
                 "cuda:N")
      ->capture_default_str();
  app.add_flag("-q,--quiet", global.quiet, "only warnings and sparse progress lines");
  app.add_flag("-v,--verbose", global.verbose, "debug logging");

  std::map<CLI::App*, cli::Runner> runners;
  auto add = [&](const char* name, const char* help, auto adder) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = adder(*sub, global);
  };
  add("info", "print version, threads, LibTorch and dataset status; with --config, the search space",
      cli::add_info);
  add("train", "train a model from an experiment config", cli::add_train);
  add("bench", "measure this machine: `bench latency` builds a space's per-layer latency table",
      cli::add_bench);
  add("eval", "evaluate one subnet of a trained supernet run (top-1, MACs, BitOPs, bytes)", cli::add_eval);
  add("search", "search a trained run for the best subnet under hardware budgets (predictor + evolution)",
      cli::add_search);
  add("export", "export a subnet of a trained run with its quantized weights: packed .oqa and/or ONNX",
      cli::add_export);
  add("infer", "run an exported .oqa model with the integer runtime (top-1, images/s) or classify one image",
      cli::add_infer);
  add("nce", "neural channel expansion: search a resnet space's widths at 2 bits under a MACs or params budget",
      cli::add_nce);
  add("plot", "draw a run's training curves (metrics.jsonl) to PNG with gnuplot", cli::add_plot);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const std::string unknown = cli::unknown_word_message(app, std::vector<std::string>(argv + 1, argv + argc));
    if (!unknown.empty() && e.get_exit_code() != 0) {
      std::fprintf(stderr, "oqa: error: %s\n", unknown.c_str());
      return static_cast<int>(util::ErrorKind::kUsage);
    }
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(util::ErrorKind::kUsage);
  }
  try {
    util::init_logging(global.quiet     ? util::Verbosity::kQuiet
                       : global.verbose ? util::Verbosity::kVerbose
                                        : util::Verbosity::kNormal);
    util::set_threads(global.threads);
    util::set_compute_device(util::resolve_device(global.device));
    util::keep_freed_memory();
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
    return static_cast<int>(util::ErrorKind::kUsage);
  } catch (const util::Error& e) {
    std::fprintf(stderr, "oqa: error: %s\n", e.what());
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "oqa: internal error (LibTorch): %s\n", e.what_without_backtrace());
    return static_cast<int>(util::ErrorKind::kInternal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oqa: internal error: %s\n", e.what());
    return static_cast<int>(util::ErrorKind::kInternal);
  }
}
