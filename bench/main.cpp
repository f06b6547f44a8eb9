// oqa_bench entry point: google-benchmark's main.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
