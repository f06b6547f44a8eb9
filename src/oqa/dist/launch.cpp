// Local launcher: fork/exec of N ranks, first failure wins, the rest are stopped.
#include "oqa/dist/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "oqa/util/error.h"

namespace oqa::dist {

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw util::internal_error("cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw util::internal_error("cannot bind a socket on 127.0.0.1 to find a free port");
  return ntohs(addr.sin_port);
}

namespace {

pid_t start_rank(const std::vector<std::string>& args, int rank, int nproc, int port) {
  const pid_t pid = ::fork();
  if (pid < 0) throw util::internal_error("fork failed while starting rank " + std::to_string(rank));
  if (pid > 0) return pid;
  ::setenv("RANK", std::to_string(rank).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "oqa: error: rank %d: cannot start %s\n", rank, args[0].c_str());
  ::_exit(127);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("exited with code {}", exit_code_of(status));
}

// Stops the ranks still running: SIGTERM, then SIGKILL after `grace` seconds.
void stop_all(std::vector<pid_t>& pids, int grace) {
  for (pid_t p : pids)
    if (p > 0) ::kill(p, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace);
  for (pid_t& p : pids) {
    while (p > 0) {
      int status = 0;
      if (::waitpid(p, &status, WNOHANG) == p) {
        p = 0;
      } else if (std::chrono::steady_clock::now() > deadline) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &status, 0);
        p = 0;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

}  // namespace

int launch_local(const std::vector<std::string>& args, const LaunchOptions& o) {
  OQA_ASSERT(!args.empty(), "launch_local: no program");
  if (o.nproc < 1 || o.nproc > 1024)
    throw util::usage_error("--nproc must be in 1..1024").field("--nproc").value(std::to_string(o.nproc));
  const int port = o.master_port > 0 ? o.master_port : free_local_port();
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  for (int r = 0; r < o.nproc; ++r) pids.push_back(start_rank(args, r, o.nproc, port));
  int running = o.nproc;
  while (running > 0) {
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, 0);
    if (done < 0) break;
    for (int r = 0; r < o.nproc; ++r) {
      if (pids[static_cast<size_t>(r)] != done) continue;
      pids[static_cast<size_t>(r)] = 0;
      --running;
      if (exit_code_of(status) != 0) {
        stop_all(pids, o.grace_seconds);
        std::fprintf(stderr, "oqa: error: rank %d of %d %s; the other ranks were stopped\n", r, o.nproc,
                     describe(status).c_str());
        return exit_code_of(status);
      }
    }
  }
  return 0;
}

}  // namespace oqa::dist
