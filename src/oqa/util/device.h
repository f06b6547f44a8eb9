// Compute device: parsing `--device`, checking it against this LibTorch, and the process-wide choice.
#pragma once

#include <string>

#include <torch/types.h>

namespace oqa::util {

// "auto" (cuda:0 when this LibTorch has CUDA and a device is present, else cpu), "cpu", "cuda" or "cuda:N".
// Throws a usage error naming `field` and the value when the text is not one of them, when CUDA is asked of
// a LibTorch without CUDA or without a device, or when N is not a present device.
torch::Device resolve_device(const std::string& text, const std::string& field = "--device");

// The device every model, batch and checkpoint load follows (default cpu until set).
void set_compute_device(const torch::Device& device);
const torch::Device& compute_device();

// True when this LibTorch was built with CUDA and sees at least one device.
bool cuda_usable();

// oqa's own CPU kernels (the fused LSQ op, the depthwise weight gradient) on or off, process-wide. Off, CPU
// tensors take the composed LibTorch path that other devices (CUDA) take; tests compare the two.
void set_own_cpu_kernels(bool enabled);
bool own_cpu_kernels();

// Moves t to the compute device when it is elsewhere (no copy when it is already there).
torch::Tensor to_compute_device(const torch::Tensor& t);

}  // namespace oqa::util
