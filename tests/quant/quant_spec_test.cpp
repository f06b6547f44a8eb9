// QuantSpec: levels, keys, JSON round trip and validation errors that name the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oqa/quant/quant_spec.h"
#include "oqa/util/error.h"

namespace oqa::quant {
namespace {

TEST(QuantSpec, Levels) {
  QuantSpec s;
  s.bits = 4;
  s.is_signed = true;
  EXPECT_EQ(s.qn(), -8);
  EXPECT_EQ(s.qp(), 7);
  s.is_signed = false;
  EXPECT_EQ(s.qn(), 0);
  EXPECT_EQ(s.qp(), 15);
  s.bits = 2;
  EXPECT_EQ(s.qp(), 3);
  s.bits = 8;
  s.is_signed = true;
  EXPECT_EQ(s.qn(), -128);
  EXPECT_EQ(s.qp(), 127);
}

TEST(QuantSpec, KeysAreShortStableAndInvertible) {
  QuantSpec s;
  s.bits = 4;
  s.granularity = Granularity::kPerChannel;
  EXPECT_EQ(s.key(), "b4_s_pc_sym");
  EXPECT_EQ(s.form_key(), "s_pc_sym");
  s.is_signed = false;
  s.symmetric = false;
  s.granularity = Granularity::kPerTensor;
  s.bits = 8;
  EXPECT_EQ(s.key(), "b8_u_pt_asym");
  s.granularity = Granularity::kPerChannel;
  s.axis = 1;
  EXPECT_EQ(s.key(), "b8_u_pc1_asym");
  EXPECT_EQ(QuantSpec::float_spec().key(), "float");
  for (int bits = 2; bits <= 8; ++bits)
    for (bool sg : {false, true})
      for (bool pc : {false, true})
        for (bool sym : {false, true}) {
          QuantSpec q{bits, sg, pc ? Granularity::kPerChannel : Granularity::kPerTensor, pc ? 2 : 0, sym};
          EXPECT_EQ(QuantSpec::from_key(q.key()), q) << q.key();
        }
  EXPECT_THROW(QuantSpec::from_key("b4_x_pc_sym"), util::Error);
  EXPECT_THROW(QuantSpec::from_key("b9_s_pc_sym"), util::Error);
  EXPECT_THROW(QuantSpec::from_key("b4_s_pc0_sym"), util::Error);  // not canonical
}

TEST(QuantSpec, JsonRoundTrip) {
  QuantSpec s{3, false, Granularity::kPerChannel, 1, false};
  nlohmann::json j = s;
  EXPECT_EQ(j.at("granularity"), "per_channel");
  EXPECT_EQ(j.at("bits"), 3);
  EXPECT_EQ(j.get<QuantSpec>(), s);
  auto partial = nlohmann::json::parse(R"({"bits": 2})").get<QuantSpec>();
  EXPECT_EQ(partial.bits, 2);
  EXPECT_TRUE(partial.is_signed);
}

// Runs f, expects an oqa::util::Error whose field is `field` and whose message names it.
template <class F>
void expect_field_error(F f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "no error for field " << field;
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), field) << e.what();
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(QuantSpec, BadSpecsNameTheField) {
  expect_field_error([] { QuantSpec{1}.validate(); }, "bits");
  expect_field_error([] { QuantSpec{9}.validate(); }, "bits");
  expect_field_error([] { QuantSpec{4, true, Granularity::kPerChannel, -1}.validate(); }, "axis");
  expect_field_error([] { nlohmann::json::parse(R"({"bits": 9})").get<QuantSpec>(); }, "bits");
  expect_field_error([] { nlohmann::json::parse(R"({"granularity": "per_row"})").get<QuantSpec>(); },
                     "granularity");
  expect_field_error([] { nlohmann::json::parse(R"({"bitz": 4})").get<QuantSpec>(); }, "bitz");
  expect_field_error([] { nlohmann::json::parse(R"({"signed": 1})").get<QuantSpec>(); }, "signed");
  QuantSpec{0}.validate();  // float is fine
}

}  // namespace
}  // namespace oqa::quant
