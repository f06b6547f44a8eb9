// WorldInfo: this process's place in a data-parallel run, read from torchrun's environment variables.
#pragma once

#include <string>

namespace oqa::dist {

struct WorldInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;  // ranks on this machine (LOCAL_WORLD_SIZE; default: world_size)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (as torchrun sets them). Without
// WORLD_SIZE, or with WORLD_SIZE=1, a single process (rank 0 of 1). A bad value is a usage error naming the
// variable and the value.
WorldInfo world_from_env();

}  // namespace oqa::dist
