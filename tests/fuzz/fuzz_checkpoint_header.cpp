// Fuzz harness: the JSON header every checkpoint carries (magic, format version, config hash, stage, step,
// epoch, batch); what reads must survive a round trip.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "oqa/train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = oqa::fuzz::json_input(data, size);
  if (j.is_discarded()) return 0;
  oqa::fuzz::expect_clear_errors([&] {
    const oqa::train::CheckpointMeta m = oqa::train::CheckpointMeta::from_json(j, "fuzz.pt");
    const oqa::train::CheckpointMeta back = oqa::train::CheckpointMeta::from_json(m.to_json(), "round-trip");
    if (back.to_json() != m.to_json()) oqa::fuzz::finding("checkpoint header round trip differs");
  });
  return 0;
}
