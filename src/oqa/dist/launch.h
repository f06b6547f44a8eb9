// Local launcher of `--nproc N`: starts N copies of this program as the ranks of one run on this machine.
#pragma once

#include <string>
#include <vector>

namespace oqa::dist {

struct LaunchOptions {
  int nproc = 2;
  int master_port = 0;     // 0: a free port chosen on 127.0.0.1
  int grace_seconds = 10;  // after a rank fails, how long the others get to stop before SIGKILL
};

// Runs `args` (args[0]: the program) N times with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1 and
// MASTER_PORT set, and waits for all of them. When one exits with an error or a signal, the others get
// SIGTERM (SIGKILL after the grace time) and the launcher prints one line naming the rank that failed first;
// returns that rank's exit code (128 + signal for a signal), 0 when every rank succeeded.
int launch_local(const std::vector<std::string>& args, const LaunchOptions& options);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_local_port();

}  // namespace oqa::dist
