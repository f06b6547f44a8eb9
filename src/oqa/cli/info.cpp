// `oqa info`: version, threads, LibTorch build and dataset availability.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstdio>

#include "oqa/cli/commands.h"
#include "oqa/util/threads.h"

namespace oqa::cli {

Runner add_info(CLI::App& app, const GlobalOptions&) {
  (void)app;
  return []() -> int {
    std::printf("oqa %s\n", OQA_VERSION);
    std::printf("LibTorch %s (CUDA %s)\n", TORCH_VERSION, torch::cuda::is_available() ? "yes" : "no");
    std::printf("threads: %d intra-op of %d cores\n", at::get_num_threads(), util::hardware_threads());
    return 0;
  };
}

}  // namespace oqa::cli
