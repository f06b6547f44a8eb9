// The process-wide Gloo process group: rendezvous through a TCPStore, collectives with a timeout.
#include "oqa/dist/group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <exception>
#include <memory>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include "oqa/util/error.h"

namespace oqa::dist {

namespace {

struct Group {
  WorldInfo world;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

std::unique_ptr<Group>& group() {
  static std::unique_ptr<Group> g;
  return g;
}

// The first line of an exception's message (c10 errors carry a stack trace after it).
std::string first_line(const std::exception& e) {
  std::string what = e.what();
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) what = c10->what_without_backtrace();
  const size_t nl = what.find('\n');
  return nl == std::string::npos ? what : what.substr(0, nl);
}

util::Error lost(const char* op, const std::exception& e) {
  const Group& g = *group();
  return util::Error(util::ErrorKind::kDistributed,
                     fmt::format("rank {} of {}: {} failed: {} (a rank that died or hung past --dist-timeout "
                                 "stops the others this way)",
                                 g.world.rank, g.world.world_size, op, first_line(e)));
}

template <typename F>
void collective(const char* op, F&& run) {
  if (!active()) return;
  try {
    run(*group()->pg)->wait();
  } catch (const std::exception& e) {
    throw lost(op, e);
  }
}

}  // namespace

void init(const WorldInfo& world, std::chrono::milliseconds timeout) {
  if (world.world_size <= 1) return;
  OQA_ASSERT(!group(), "dist::init called twice");
  auto g = std::make_unique<Group>();
  g->world = world;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(world.master_port);
    so.isServer = world.rank == 0;
    so.numWorkers = static_cast<size_t>(world.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    g->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, so);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Loopback for a run on one machine; else the address this host reaches the master from.
    const bool local = world.master_addr == "127.0.0.1" || world.master_addr == "localhost";
    options->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, world.rank, world.world_size, options);
  } catch (const std::exception& e) {
    throw util::Error(util::ErrorKind::kDistributed,
                      fmt::format("rank {} of {}: cannot join the run at {}:{} within {} s ({})", world.rank,
                                  world.world_size, world.master_addr, world.master_port,
                                  timeout.count() / 1000.0, first_line(e)));
  }
  group() = std::move(g);
}

void shutdown() {
  group().reset();
}

bool active() {
  return group() != nullptr;
}
int rank() {
  return active() ? group()->world.rank : 0;
}
int world_size() {
  return active() ? group()->world.world_size : 1;
}
bool is_main() {
  return rank() == 0;
}

void allreduce_sum(std::vector<torch::Tensor>& tensors) {
  collective("all-reduce", [&](c10d::ProcessGroupGloo& pg) { return pg.allreduce(tensors); });
}

void broadcast(std::vector<torch::Tensor>& tensors, int root) {
  c10d::BroadcastOptions o;
  o.rootRank = root;
  collective("broadcast", [&](c10d::ProcessGroupGloo& pg) { return pg.broadcast(tensors, o); });
}

void barrier() {
  collective("barrier", [&](c10d::ProcessGroupGloo& pg) { return pg.barrier(); });
}

bool main_decides(bool value) {
  if (!active()) return value;
  std::vector<torch::Tensor> flag = {torch::tensor({value ? 1 : 0}, torch::kInt32)};
  broadcast(flag);
  return flag[0].item<int>() != 0;
}

}  // namespace oqa::dist
