// `oqa info`: version, threads, LibTorch build and which datasets are found at their default locations.
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "oqa/cli/commands.h"
#include "oqa/cli/info_space.h"
#include "oqa/data/registry.h"
#include "oqa/util/device.h"
#include "oqa/util/threads.h"

namespace oqa::cli {
namespace {

void print_datasets() {
  std::printf("datasets (default locations; set data.root in a config to use another):\n");
  for (const std::string& name : data::dataset_names()) {
    const std::string root = data::default_root(name);
    if (root.empty()) {
      std::printf("  %-14s generated\n", name.c_str());
      continue;
    }
    std::error_code ec;
    const bool found = std::filesystem::is_directory(root, ec);
    std::printf("  %-14s %-9s %s\n", name.c_str(), found ? "found" : "not found", root.c_str());
  }
}

}  // namespace

Runner add_info(CLI::App& app, const GlobalOptions&) {
  auto config = std::make_shared<std::string>();
  app.add_option("-c,--config", *config, "experiment config: also print its search space and costs");
  return [config]() -> int {
    std::printf("oqa %s\n", OQA_VERSION);
    std::printf("LibTorch %s (CUDA %s)\n", TORCH_VERSION, torch::cuda::is_available() ? "yes" : "no");
    std::printf("threads: %d intra-op of %d cores\n", at::get_num_threads(), util::hardware_threads());
    std::printf("device: %s (training, search and evaluation; deployed models run on the CPU)%s\n",
                util::compute_device().str().c_str(),
                util::cuda_usable() ? "" : "; this LibTorch has no CUDA or sees no device");
    std::printf("data-parallel training: Gloo (c10d) over TCP: `oqa train --nproc N`, or under torchrun\n");
    print_datasets();
    if (!config->empty()) print_space_info(*config);
    return 0;
  };
}

}  // namespace oqa::cli
