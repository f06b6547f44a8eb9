// `oqa train`: trains the experiment of a config into a run directory, or resumes one.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <algorithm>

#include <spdlog/spdlog.h>

#include "oqa/cli/commands.h"
#include "oqa/dist/group.h"
#include "oqa/dist/launch.h"
#include "oqa/util/log.h"
#include "oqa/util/threads.h"
#include "oqa/pipeline/run_config.h"
#include "oqa/pipeline/run_dir.h"
#include "oqa/train/experiment.h"
#include "oqa/train/float_baseline.h"
#include "oqa/train/retrain.h"
#include "oqa/train/supernet_pipeline.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::cli {

namespace {

struct TrainArgs {
  std::string config, out, resume;
  std::vector<std::string> sets;
  int64_t epochs = 0;
  bool force = false;
  bool from_scratch = false;  // supernet: float stage + direct baseline only
  bool own_quant = false;     // retrain: the subnet JSON's own quantization instead of --bits
  int bits = 0;               // supernet: add the direct baseline at this bit-width
  std::string run, subnet;    // retrain: this subnet of this run alone
  double lr = 0;
  int nproc = 0;               // data-parallel: start this many local ranks
  double dist_timeout = 60;    // seconds a collective waits for the other ranks
};

// The run directory's lock and marker, taken by rank 0 alone in a data-parallel run (the others hold none).
util::FileLock claim_as_main(const std::string& dir, bool resume, bool force) {
  if (!dist::is_main()) return {};
  return pipeline::claim_run_dir(dir, resume, force);
}

// `oqa train --run RUN --subnet S --bits B`: the retrain baseline of one subnet.
int run_retrain(const TrainArgs& a) {
  if (a.run.empty()) throw util::usage_error("--subnet retrains a subnet of a trained run: give --run RUN");
  if (!a.config.empty() || !a.resume.empty() || !a.sets.empty() || a.force)
    throw util::usage_error("--subnet takes the run's own config.json; drop --config/--resume/--set/--force");
  const util::FileLock lock = claim_as_main(a.run, /*resume=*/true, /*force=*/false);
  util::Config config = util::Config::load(a.run + "/config.json");
  train::Experiment e = train::read_experiment(config);
  if (!e.is_supernet()) throw util::usage_error("--subnet needs a supernet run").file(a.run + "/config.json");
  train::RetrainOptions o;
  o.subnet = a.subnet;
  if (a.own_quant && a.bits) throw util::usage_error("--own-quant keeps the subnet's quantization: drop --bits");
  o.bits = a.own_quant ? 0 : a.bits ? a.bits : 2;
  o.epochs = a.epochs;
  o.lr = a.lr;
  o.from_scratch = a.from_scratch;
  const nlohmann::json r = train::retrain_subnet(e, a.run, o);
  std::printf("retrained %s at %s for %g epochs: test top-1 %.2f%%\nresult: %s/result.json\n",
              a.subnet.c_str(), r["quant"].get<std::string>().c_str(), r["epochs"].get<double>(),
              r["test_top1"].get<double>(),
              r["dir"].get<std::string>().c_str());
  return 0;
}

// Prints the per-stage table of a supernet run's summary.
void print_supernet_summary(const nlohmann::json& summary) {
  std::printf("%-14s %-6s %6s  %15s  %15s\n", "stage", "quant", "epochs", "largest top-1", "smallest top-1");
  for (const auto& s : summary["stages"]) {
    auto top1 = [&](const char* which) {
      const auto& r = s[which];
      return r.contains("test_top1") ? r["test_top1"].get<double>() : 0.0;
    };
    std::printf("%-14s %-6s %6g  %14.2f%%  %14.2f%%\n", s["stage"].get<std::string>().c_str(),
                s["quant"].get<std::string>().c_str(), s["epochs"].get<double>(),
                top1("largest"), top1("smallest"));
  }
}

std::string default_run_dir(const std::string& name) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
  return "runs/" + name + "-" + buf;
}

// The command line without `--nproc N` (what each rank runs).
std::vector<std::string> without_nproc(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") {
      ++i;
      continue;
    }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  return out;
}

// A data-parallel run: with --nproc N (and no torchrun variables) starts N local ranks and returns their
// result; as a rank (RANK, WORLD_SIZE, ... set), joins the group, and ranks other than 0 write no file and
// print nothing but errors. Returns nothing when this process is to train (a rank or a single process).
std::optional<int> start_data_parallel(const TrainArgs& a, const GlobalOptions& g) {
  const dist::WorldInfo world = dist::world_from_env();
  if (a.nproc > 1 && world.world_size == 1) {
    dist::LaunchOptions lo;
    lo.nproc = a.nproc;
    return dist::launch_local(without_nproc(g.argv), lo);
  }
  if (world.world_size == 1) return std::nullopt;
  if (!util::compute_device().is_cpu())
    throw util::usage_error("--device " + util::compute_device().str() +
                            ": data-parallel training runs on the CPU with Gloo; NCCL for CUDA devices is not "
                            "built yet (use --device cpu)");
  if (g.threads == 0) util::set_threads(std::max(1, util::hardware_threads() / world.local_world_size));
  dist::init(world, std::chrono::milliseconds(static_cast<int64_t>(a.dist_timeout * 1000)));
  if (!dist::is_main()) {
    util::set_file_writes(false);
    util::init_logging(util::Verbosity::kQuiet);
    if (!std::freopen("/dev/null", "w", stdout)) throw util::internal_error("cannot silence stdout of a rank");
  }
  spdlog::info("data-parallel training: {} ranks (Gloo, {}:{}), LibTorch threads per rank: {}; rank 0 writes the run",
               world.world_size, world.master_addr, world.master_port, at::get_num_threads());
  return std::nullopt;
}

int run_train(const TrainArgs& a, const GlobalOptions& g) {
  if (const auto launched = start_data_parallel(a, g)) return *launched;
  if (!a.subnet.empty() || !a.run.empty()) return run_retrain(a);
  std::string run_dir;
  util::Config config = util::Config::from_json(util::Json::object());
  if (!a.resume.empty()) {
    if (!a.config.empty() || !a.sets.empty() || a.epochs || a.from_scratch)
      throw util::usage_error(
          "--resume continues a run with its own config.json; drop --config/--set/--epochs/--from-scratch");
    run_dir = a.resume;
    config = util::Config::load(run_dir + "/config.json");
    if (a.bits) config.set("supernet.direct_bits=" + std::to_string(a.bits));  // adds the direct baseline
  } else {
    if (a.config.empty()) throw util::usage_error("give --config FILE (or --resume RUN)");
    config = util::Config::load(a.config);
    for (const auto& s : a.sets) config.set(s);
    if (a.epochs) config.set("train.epochs=" + std::to_string(a.epochs));
    if (a.bits) config.set("supernet.direct_bits=" + std::to_string(a.bits));
  }
  if (a.from_scratch && !a.bits) throw util::usage_error("--from-scratch needs --bits B (the direct baseline's bits)");
  train::Experiment e = pipeline::read_run_config(config).experiment;
  if (a.resume.empty()) run_dir = a.out.empty() ? default_run_dir(e.name) : a.out;
  const util::FileLock lock = claim_as_main(run_dir, !a.resume.empty(), a.force);
  util::write_json(run_dir + "/config.json", e.resolved);
  dist::barrier();  // data-parallel: the other ranks look into the run directory only after rank 0 claimed it
  spdlog::info("run directory: {}", run_dir);
  if (e.is_supernet()) {
    if (a.epochs)
      throw util::usage_error("--epochs sets train.epochs, which a supernet config does not use: set each stage's "
                              "epochs (--set 'supernet.stages=[...]') or supernet.direct_epochs")
          .file(a.config);
    if (a.bits && e.supernet.direct_bits == 0) throw util::usage_error("--bits needs a supernet config");
    train::PipelineOptions po;
    po.direct_only = a.from_scratch;
    print_supernet_summary(train::run_supernet_pipeline(e, run_dir, po));
    std::printf("run directory: %s\n", run_dir.c_str());
    return 0;
  }
  if (a.bits || a.from_scratch) throw util::usage_error("--bits and --from-scratch need a supernet config (a \"space\" section)");
  auto summary = train::run_float_baseline(e, run_dir);
  std::printf("float baseline (%s): test top-1 %.2f%%", e.model.kind.c_str(), summary["test_top1"].get<double>());
  if (summary.contains("val_top1")) std::printf(", val top-1 %.2f%%", summary["val_top1"].get<double>());
  std::printf("\nrun directory: %s\n", run_dir.c_str());
  return 0;
}

}  // namespace

Runner add_train(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<TrainArgs>();
  app.add_option("-c,--config", a->config, "experiment config (JSON)");
  app.add_option("-o,--out", a->out, "run directory (default: runs/<name>-<time>)");
  app.add_option("--resume", a->resume, "continue the run in this directory from its last checkpoint");
  app.add_option("--set", a->sets, "override a config key: --set train.epochs=3 (repeatable)");
  app.add_option("--epochs", a->epochs, "shortcut for --set train.epochs=N")->check(CLI::PositiveNumber);
  app.add_flag("--force", a->force, "start over in a run directory that already holds a run");
  app.add_flag("--from-scratch", a->from_scratch,
               "supernet: train only the float stage and the direct baseline at --bits (no bit inheritance)");
  app.add_option("--bits", a->bits, "supernet: add the direct baseline at B bits (same budget as the inherited path)")
      ->check(CLI::Range(2, 8));
  app.add_option("--run", a->run, "retrain: the trained supernet run whose subnet to retrain (with --subnet)");
  app.add_option("--subnet", a->subnet,
                 "retrain one subnet alone (a subnet JSON, largest or smallest) at --bits B (default 2) for "
                 "--epochs N (default: the run's stage at B bits), from the float stage's weights or --from-scratch");
  app.add_flag("--own-quant", a->own_quant,
               "retrain: keep the subnet JSON's own quantization (per-layer bits and forms, e.g. one form of an "
               "EQ-Net supernet) instead of --bits; epochs and lr default to the run's mixed stage");
  app.add_option("--lr", a->lr, "retrain: learning rate (default: the run's stage at B bits)")->check(CLI::PositiveNumber);
  app.add_option("--nproc", a->nproc,
                 "data-parallel: train with N processes on this machine (Gloo; each gets cores / N threads); "
                 "under torchrun, leave it out")
      ->check(CLI::Range(1, 1024));
  app.add_option("--dist-timeout", a->dist_timeout,
                 "data-parallel: seconds a rank waits for the others before it stops with an error (default 60)")
      ->check(CLI::Range(1.0, 86400.0));
  const GlobalOptions* g = &global;
  return [a, g] { return run_train(*a, *g); };
}

}  // namespace oqa::cli
