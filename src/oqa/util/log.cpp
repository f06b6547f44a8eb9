// spdlog set-up: one stderr logger with a short pattern; the verbosity also steers progress output.
#include "oqa/util/log.h"

#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace oqa::util {
namespace {
Verbosity g_verbosity = Verbosity::kNormal;
}

void init_logging(Verbosity verbosity) {
  g_verbosity = verbosity;
  auto logger = spdlog::get("oqa");
  if (!logger) {
    logger = spdlog::stderr_color_mt("oqa");
    spdlog::set_default_logger(logger);
  }
  logger->set_pattern("%^[%H:%M:%S %L]%$ %v");
  switch (verbosity) {
    case Verbosity::kQuiet: logger->set_level(spdlog::level::warn); break;
    case Verbosity::kNormal: logger->set_level(spdlog::level::info); break;
    case Verbosity::kVerbose: logger->set_level(spdlog::level::debug); break;
  }
}

bool quiet() { return g_verbosity == Verbosity::kQuiet; }

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace oqa::util
