// oqa_bench entry point: google-benchmark's main, with oqa's process memory policy (as the oqa binary).
#include <benchmark/benchmark.h>

#include "oqa/util/memory.h"

int main(int argc, char** argv) {
  oqa::util::keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
