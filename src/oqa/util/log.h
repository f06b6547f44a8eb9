// Logging: spdlog set up once for the CLI and library (level, plain or colour output).
#pragma once

#include <spdlog/spdlog.h>

namespace oqa::util {

enum class Verbosity { kQuiet, kNormal, kVerbose };

// Configures the default logger; safe to call more than once.
void init_logging(Verbosity verbosity = Verbosity::kNormal);

// True when `--quiet` was given: long loops log sparse plain lines instead of a progress bar.
bool quiet();

// True when stdout is a terminal.
bool stdout_is_tty();

}  // namespace oqa::util
