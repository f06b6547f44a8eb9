// resolve_device: the accepted spellings of --device, and clear errors for the rest and for absent CUDA.
#include <gtest/gtest.h>

#include <string>

#include "oqa/util/device.h"
#include "oqa/util/error.h"

namespace oqa::util {
namespace {

std::string message_of(const std::string& text) {
  try {
    resolve_device(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), static_cast<int>(ErrorKind::kUsage)) << text;
    return e.what();
  }
  return "";
}

TEST(Device, CpuAndAutoResolve) {
  EXPECT_TRUE(resolve_device("cpu").is_cpu());
  const torch::Device a = resolve_device("auto");
  EXPECT_EQ(a.is_cuda(), cuda_usable());
  if (a.is_cuda()) {
    EXPECT_EQ(a.index(), 0);
  }
}

TEST(Device, BadSpellingsNameTheOptionAndValue) {
  for (const std::string bad : {"gpu", "cuda0", "cuda:", "cuda:x", "cuda:-1", "CPU", ""}) {
    const std::string m = message_of(bad);
    EXPECT_NE(m.find("--device " + bad + ":"), std::string::npos) << m;
    EXPECT_NE(m.find("expected auto, cpu, cuda or cuda:N"), std::string::npos) << m;
  }
}

TEST(Device, CudaIsRefusedClearlyWhereItIsAbsent) {
  if (cuda_usable()) {
    EXPECT_TRUE(resolve_device("cuda").is_cuda());
    EXPECT_NE(message_of("cuda:999").find("no such device"), std::string::npos);
    return;
  }
  for (const std::string text : {"cuda", "cuda:0", "cuda:1"})
    EXPECT_NE(message_of(text).find("has no CUDA or sees no CUDA device (use --device cpu)"),
              std::string::npos)
        << text;
}

TEST(Device, ComputeDeviceMovesTensorsOnlyWhenElsewhere) {
  set_compute_device(torch::Device(torch::kCPU));
  const torch::Tensor t = torch::ones({3});
  EXPECT_TRUE(to_compute_device(t).is_same(t));
  EXPECT_FALSE(to_compute_device(torch::Tensor()).defined());
}

TEST(Device, OwnKernelSwitchDefaultsOn) {
  EXPECT_TRUE(own_cpu_kernels());
  set_own_cpu_kernels(false);
  EXPECT_FALSE(own_cpu_kernels());
  set_own_cpu_kernels(true);
}

}  // namespace
}  // namespace oqa::util
