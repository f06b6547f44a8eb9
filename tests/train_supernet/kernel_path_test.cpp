// oqa's own CPU kernels against the composed LibTorch path that CUDA tensors take: same supernet training.
#include <gtest/gtest.h>

#include <string>

#include "oqa/train/supernet_stage.h"
#include "oqa/util/device.h"
#include "train_supernet/supernet_test_support.h"

namespace oqa {
namespace {

// Restores the process-wide kernel choice when a test ends, passed or not.
struct OwnKernels {
  explicit OwnKernels(bool enabled) { util::set_own_cpu_kernels(enabled); }
  ~OwnKernels() { util::set_own_cpu_kernels(true); }
};

// The tiny config with every stage quantized after a short float one, kernel 5 so that the depthwise
// weight-gradient kernel (used for k > 3) runs, and 2-bit activations where rounding is coarsest.
nlohmann::json kernel_config() {
  nlohmann::json c = test::tiny_config();
  c["space"]["kernel"] = {5};
  c["supernet"]["stages"] = nlohmann::json::parse(
      R"([{"quant": "float", "epochs": 1, "lr": 0.05}, {"quant": "w2a2", "epochs": 1, "lr": 0.02}])");
  return c;
}

std::shared_ptr<space::Supernet> train_with(bool own_kernels, const std::string& run) {
  OwnKernels guard(own_kernels);
  const nlohmann::json config = kernel_config();
  test::run_pipeline(config, run);
  return test::load_supernet(config, train::stage_checkpoint(run, "w2a2"));
}

TEST(KernelPath, ComposedOpsForcedOnCpuTrainLikeTheFusedKernels) {
  TestDir dir;
  auto fused = train_with(true, (dir.path / "fused").string());
  auto composed = train_with(false, (dir.path / "composed").string());
  EXPECT_TRUE(util::own_cpu_kernels());
  // 18 SGD steps (9 float, 9 at 2 bits) of three subnets each: both paths compute the same function and the
  // same gradients up to float summation order, so the weights agree to rounding, not merely roughly.
  const double diff = test::max_state_difference(*fused, *composed);
  EXPECT_LT(diff, 1e-4) << "largest parameter / buffer difference between the two paths";
  // Not trivially equal: training moved the weights away from their initial values on both paths.
  auto fresh = space::make_supernet(test::experiment_of(kernel_config()).space);
  EXPECT_GT(test::max_state_difference(*fused, *fresh), 1e-2);
}

}  // namespace
}  // namespace oqa
