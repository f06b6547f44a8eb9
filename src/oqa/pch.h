// Precompiled header: the heavy LibTorch and std headers every translation unit uses.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
