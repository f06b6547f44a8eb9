// Fuzz harness: subnet JSON (what --subnet FILE, search results and exports hold) parsed against the small
// MobileNetV3 space of tests/fuzz/tiny-run.json (the seed run); what parses must survive a round trip and be
// costed.
#include <memory>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "oqa/cost/cost.h"
#include "oqa/space/make_space.h"
#include "oqa/space/subnet.h"
#include "oqa/util/config.h"

namespace {

const oqa::space::Space& fuzz_space() {
  static const std::shared_ptr<oqa::space::Space> space = [] {
    oqa::util::Config config =
        oqa::util::Config::load(std::string(OQA_SOURCE_DIR) + "/tests/fuzz/tiny-run.json");
    return oqa::space::make_space(config.root().child("space"));
  }();
  return *space;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = oqa::fuzz::json_input(data, size);
  if (j.is_discarded()) return 0;
  const oqa::space::Space& space = fuzz_space();
  oqa::fuzz::expect_clear_errors([&] {
    const oqa::space::Subnet s = space.parse(j, "fuzz.json");
    if (space.parse(oqa::space::to_json(s), "round-trip") != s)
      oqa::fuzz::finding("subnet JSON round trip differs");
    oqa::cost::count(space, s);
  });
  return 0;
}
