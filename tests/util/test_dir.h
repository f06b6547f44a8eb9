// TestDir: a fresh temporary folder for one test, removed afterwards.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

struct TestDir {
  std::filesystem::path path;
  TestDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("oqa-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
