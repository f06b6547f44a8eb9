// Bit packing: round trips at every width 2..8 and odd lengths, hand-packed bytes, range and size errors.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "oqa/deploy/bit_pack.h"
#include "oqa/util/error.h"

using namespace oqa;

TEST(BitPack, RoundTripsEveryWidthAndOddLengths) {
  std::mt19937 rng(7);
  for (int bits = 2; bits <= 8; ++bits)
    for (int32_t lo : {-(1 << (bits - 1)), 0})
      for (int64_t n : {1, 2, 3, 5, 7, 8, 9, 13, 31, 64, 101, 1001}) {
        std::uniform_int_distribution<int32_t> level(lo, lo + (1 << bits) - 1);
        std::vector<int32_t> v(static_cast<size_t>(n));
        for (auto& x : v) x = level(rng);
        v.front() = lo;  // both ends of the range
        v.back() = lo + (1 << bits) - 1;
        const std::vector<uint8_t> packed = deploy::pack_levels(v.data(), n, bits, lo);
        ASSERT_EQ(static_cast<int64_t>(packed.size()), (n * bits + 7) / 8) << bits << " bits, n " << n;
        std::vector<int32_t> back(static_cast<size_t>(n), 12345);
        deploy::unpack_levels(packed.data(), static_cast<int64_t>(packed.size()), n, bits, lo, back.data());
        EXPECT_EQ(back, v) << bits << " bits, lo " << lo << ", n " << n;
      }
}

TEST(BitPack, LaysBitsOutLeastSignificantFirstAcrossBytes) {
  const std::vector<int32_t> two = {1, 2, 3, 0};  // 01 10 11 00 from bit 0 up
  EXPECT_EQ(deploy::pack_levels(two.data(), 4, 2, 0), (std::vector<uint8_t>{0x39}));
  const std::vector<int32_t> three = {7, 1, 5};  // 111 100 101 (bit 0 first): 5 straddles the byte boundary
  EXPECT_EQ(deploy::pack_levels(three.data(), 3, 3, 0), (std::vector<uint8_t>{0x4F, 0x01}));
  const std::vector<int32_t> signed4 = {-8, 7, -1};  // stored as v + 8: 0, 15, 7
  EXPECT_EQ(deploy::pack_levels(signed4.data(), 3, 4, -8), (std::vector<uint8_t>{0xF0, 0x07}));
}

TEST(BitPack, RejectsOutOfRangeValuesBadWidthsAndSizes) {
  const std::vector<int32_t> v = {0, 4};
  try {
    deploy::pack_levels(v.data(), 2, 2, 0);
    FAIL() << "4 does not fit 2 bits";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "levels[1]");
    EXPECT_EQ(e.field_value(), "4");
  }
  for (int bits : {1, 9}) {
    try {
      deploy::pack_levels(v.data(), 1, bits, 0);
      FAIL() << bits << " bits accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.field_name(), "bits");
    }
  }
  const std::vector<uint8_t> bytes(2, 0);
  std::vector<int32_t> out(5);
  EXPECT_THROW(deploy::unpack_levels(bytes.data(), 2, 5, 4, 0, out.data()), util::Error);  // needs 3 bytes
}
