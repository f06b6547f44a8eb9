// Thread settings: LibTorch intra-op threads (default: all cores).
#pragma once

namespace oqa::util {

// Sets LibTorch's intra-op thread count; 0 means every core. Returns the count in force.
int set_threads(int n);

// Number of cores on this machine.
int hardware_threads();

}  // namespace oqa::util
