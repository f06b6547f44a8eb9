// Compute device: parsing `--device`, checking it against this LibTorch, and the process-wide choice.
#include "oqa/util/device.h"

#include <atomic>
#include <cctype>

#include <torch/cuda.h>

#include "oqa/util/error.h"

namespace oqa::util {

namespace {

torch::Device& current() {
  static torch::Device device(torch::kCPU);
  return device;
}

std::atomic<bool>& own_kernels() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

const char* const kSpellings = "expected auto, cpu, cuda or cuda:N";

Error device_error(const std::string& field, const std::string& value, const std::string& why) {
  return usage_error(field + " " + value + ": " + why);
}

}  // namespace

bool cuda_usable() {
  return torch::cuda::is_available() && torch::cuda::device_count() > 0;
}

torch::Device resolve_device(const std::string& text, const std::string& field) {
  if (text == "auto") return cuda_usable() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (text == "cpu") return torch::Device(torch::kCPU);
  int index = 0;
  if (text.rfind("cuda", 0) != 0) throw device_error(field, text, kSpellings);
  if (text.size() > 4) {
    const std::string digits = text.substr(5);
    bool ok = text[4] == ':' && !digits.empty() && digits.size() <= 3;
    for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    if (!ok) throw device_error(field, text, kSpellings);
    index = std::stoi(digits);
  }
  if (!cuda_usable())
    throw device_error(field, text, "this LibTorch has no CUDA or sees no CUDA device (use --device cpu)");
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count)
    throw device_error(field, text, "no such device: " + std::to_string(count) + " CUDA device(s) present");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void set_compute_device(const torch::Device& device) {
  current() = device;
}

const torch::Device& compute_device() {
  return current();
}

void set_own_cpu_kernels(bool enabled) {
  own_kernels() = enabled;
}

bool own_cpu_kernels() {
  return own_kernels();
}

torch::Tensor to_compute_device(const torch::Tensor& t) {
  if (!t.defined() || t.device() == current()) return t;
  return t.to(current(), /*non_blocking=*/true);
}

}  // namespace oqa::util
