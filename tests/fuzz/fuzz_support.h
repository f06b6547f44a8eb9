// Shared by the fuzz harnesses: quiet single-threaded setup, the input as a temporary file, and the rule
// that a reader may only answer bad input with a clear input error (an internal error, or any other
// exception, which then escapes and aborts, is a finding).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "oqa/util/error.h"

namespace oqa::fuzz {

// Called once by LLVMFuzzerInitialize (harness_init.cpp, linked into every harness).
inline void quiet_setup() {
  at::set_num_threads(1);
  spdlog::set_level(spdlog::level::off);
}

// The input parsed as JSON; a discarded value when it is not JSON (the JSON parser is not under test).
inline nlohmann::json json_input(const uint8_t* data, size_t size) {
  return nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
}

// Writes the input to a file of this process (TMPDIR or /tmp) and returns its path; `tag` keeps several
// files of one input apart.
inline std::string temp_file(const uint8_t* data, size_t size, const std::string& tag) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path =
      std::string(dir && *dir ? dir : "/tmp") + "/oqa-fuzz-" + std::to_string(::getpid()) + "-" + tag;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs f; an input error is the expected answer to bad input, an internal error is a finding.
template <class F>
void expect_clear_errors(F&& f) {
  try {
    f();
  } catch (const util::Error& e) {
    if (e.kind() == util::ErrorKind::kInternal) {
      std::fprintf(stderr, "fuzz finding: internal error on input: %s\n", e.what());
      std::abort();
    }
  }
}

// A finding that is not a crash (a broken round trip).
inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

}  // namespace oqa::fuzz
