// Reading torchrun's environment variables into a WorldInfo.
#include "oqa/dist/world.h"

#include <cerrno>
#include <cstdlib>

#include "oqa/util/error.h"

namespace oqa::dist {

namespace {

// The variable as an integer in [lo, hi], or `fallback` when it is not set.
int env_int(const char* name, int fallback, long lo, long hi) {
  const char* text = std::getenv(name);
  if (!text) return fallback;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    throw util::usage_error("environment variable " + std::string(name) + " must be an integer in " +
                            std::to_string(lo) + ".." + std::to_string(hi))
        .field(name)
        .value(text);
  return static_cast<int>(v);
}

}  // namespace

WorldInfo world_from_env() {
  WorldInfo w;
  w.world_size = env_int("WORLD_SIZE", 1, 1, 65536);
  if (w.world_size == 1) return w;
  if (!std::getenv("RANK")) throw util::usage_error("WORLD_SIZE is set but RANK is not").field("RANK");
  w.rank = env_int("RANK", 0, 0, w.world_size - 1);
  w.local_rank = env_int("LOCAL_RANK", w.rank, 0, w.world_size - 1);
  w.local_world_size = env_int("LOCAL_WORLD_SIZE", w.world_size, 1, w.world_size);
  w.master_port = env_int("MASTER_PORT", w.master_port, 1, 65535);
  if (const char* addr = std::getenv("MASTER_ADDR")) {
    if (*addr == '\0') throw util::usage_error("MASTER_ADDR is empty").field("MASTER_ADDR");
    w.master_addr = addr;
  }
  return w;
}

}  // namespace oqa::dist
