// The process-wide c10d process group of a data-parallel run (Gloo over TCP, TCPStore rendezvous).
#pragma once

#include <chrono>
#include <vector>

#include <torch/types.h>

#include "oqa/dist/world.h"

namespace oqa::dist {

// Joins the run described by `world` (no-op for a world of one): rank 0 hosts the TCPStore at
// master_addr:master_port, every rank waits at most `timeout` for the others to arrive, and every later
// collective fails after `timeout` instead of hanging. Errors name this rank and the master address.
void init(const WorldInfo& world, std::chrono::milliseconds timeout);
// Leaves the group (also done at exit).
void shutdown();

bool active();     // a group of more than one process was joined
int rank();        // 0 when not active
int world_size();  // 1 when not active
bool is_main();    // rank 0: the one process that writes files and logs

// Collectives over all ranks, in place; no-ops when not active. A lost or hung rank throws a util::Error of
// kind kDistributed naming this rank and the operation.
void allreduce_sum(std::vector<torch::Tensor>& tensors);
void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
void barrier();
// Rank 0's `value` on every rank: decisions taken from files only rank 0 writes (does a checkpoint exist?)
// must be the same on every rank, whenever each rank looks.
bool main_decides(bool value);

}  // namespace oqa::dist
