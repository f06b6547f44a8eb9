// Kendall tau-b and RMSE against hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "oqa/search/kendall.h"

TEST(Kendall, HandComputedCases) {
  using oqa::search::kendall_tau;
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // Pairs of (1,2,3) vs (1,3,2): concordant (1,2),(1,3); discordant (2,3) -> (2 - 1) / 3.
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3}, {1, 3, 2}), 1.0 / 3.0);
  // Ties: a = (1,1,2), b = (1,2,3): pairs (0,1) tie in a; (0,2),(1,2) concordant.
  // tau-b = 2 / sqrt((2 + 0 + 1) * (2 + 0 + 0)) = 2 / sqrt(6).
  EXPECT_NEAR(kendall_tau({1, 1, 2}, {1, 2, 3}), 2.0 / std::sqrt(6.0), 1e-12);
  EXPECT_EQ(kendall_tau({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(Kendall, Rmse) { EXPECT_DOUBLE_EQ(oqa::search::rmse({1, 2, 3}, {1, 2, 5}), std::sqrt(4.0 / 3.0)); }
