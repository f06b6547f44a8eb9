// LLVMFuzzerInitialize of every harness: one thread, no logging.
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  oqa::fuzz::quiet_setup();
  return 0;
}
