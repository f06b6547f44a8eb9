// Fuzz harness: a whole .oqa file (header, sizes, CRC-32, zlib metadata, payload) through decode_oqa, then
// the integer runtime on what decodes.
#include "fuzz/fuzz_support.h"
#include "fuzz/oqa_model_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  oqa::fuzz::expect_clear_errors([&] {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    oqa::fuzz::run_decoded(oqa::deploy::decode_oqa(bytes, "fuzz.oqa"));
  });
  return 0;
}
