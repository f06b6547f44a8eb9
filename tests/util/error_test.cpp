// Error formatting: file, field and value appear in one line; kinds map to distinct exit codes.
#include <gtest/gtest.h>

#include "oqa/util/error.h"

using namespace oqa::util;

TEST(Error, FormatsContext) {
  Error e = input_error("bits must lie in 2..8").file("net.json").field("layers[3].w_bits").value("9");
  EXPECT_STREQ(e.what(), "net.json: field 'layers[3].w_bits' = 9: bits must lie in 2..8");
  EXPECT_EQ(e.exit_code(), 3);
}

TEST(Error, DistinctExitCodes) {
  EXPECT_NE(usage_error("").exit_code(), input_error("").exit_code());
  EXPECT_NE(input_error("").exit_code(), internal_error("").exit_code());
  EXPECT_NE(usage_error("").exit_code(), 0);
  EXPECT_THROW(OQA_ASSERT(1 == 2, "math"), Error);
}
