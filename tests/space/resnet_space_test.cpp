// ResNetSpace: width groups from the structure, hand-computed size, width overrides, subnet errors.
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nn/nn_test_support.h"
#include "oqa/space/resnet_space.h"
#include "tiny_spaces.h"

using namespace oqa;
using namespace oqa_test;
using nlohmann::json;

TEST(ResNetSpace, WidthGroupsSlotsAndSize) {
  auto base = tiny_space(kTinyResNet);
  auto& s = dynamic_cast<const space::ResNetSpace&>(*base);
  std::vector<std::string> names;
  for (const auto& g : s.width_groups()) names.push_back(g.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stem+stages.0", "stages.0.0.conv1", "stages.0.1.conv1",
                                             "stages.1", "stages.1.0.conv1"}));
  EXPECT_EQ(s.width_groups()[0].candidates, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(s.width_groups()[3].candidates, (std::vector<int64_t>{8, 16}));
  EXPECT_TRUE(s.blocks()[2].projection);
  EXPECT_FALSE(s.blocks()[1].projection);
  // Searched: 2 convs per block + one shortcut; stem float; classifier fixed w8a8.
  EXPECT_EQ(s.searched_layers(), 7u);
  EXPECT_EQ(s.slot("classifier").precision.to_string(), "w8a8");
  // 2 resolutions x 2^5 widths x (3 weight bits x 2 act bits x 2 granularities x 1 x 2 act symmetries)^7.
  EXPECT_NEAR(s.log10_size(), std::log10(2.0 * 32.0) + 7 * std::log10(24.0), 1e-9);
  EXPECT_EQ(s.largest().widths, (std::vector<int64_t>{8, 8, 8, 16, 16}));
  EXPECT_EQ(s.smallest().widths, (std::vector<int64_t>{4, 4, 4, 8, 8}));
}

TEST(ResNetSpace, WidthOverridesAndTheirErrors) {
  json j = json::parse(kTinyResNet);
  j["widths"] = {{"stages.1", {16, 8, 12}}};
  auto s = tiny_space(j.dump().c_str());
  auto& r = dynamic_cast<const space::ResNetSpace&>(*s);
  EXPECT_EQ(r.width_groups()[3].candidates, (std::vector<int64_t>{8, 12, 16}));
  j["widths"] = {{"stages.2", {8}}};
  std::string field, msg;
  try {
    tiny_space(j.dump().c_str());
  } catch (const util::Error& e) {
    field = e.field_name();
    msg = e.what();
  }
  EXPECT_EQ(field, "widths.stages.2");
  EXPECT_NE(msg.find("did you mean 'stages.1'"), std::string::npos) << msg;
}

TEST(ResNetSpace, SubnetJsonAndErrors) {
  auto s = tiny_space(kTinyResNet);
  space::Subnet v = s->parse(json::parse(R"({"kind": "resnet", "resolution": 8, "widths": [4, 8, 4, 16, 8],
                                             "quant": {"weight_bits": 3, "act_bits": 2}})"));
  EXPECT_EQ(v.widths, (std::vector<int64_t>{4, 8, 4, 16, 8}));
  EXPECT_EQ(v.quant[6].weight_bits, 3);
  EXPECT_EQ(s->parse(space::to_json(v)), v);
  auto field = [&](const std::string& text) { return error_field([&] { s->parse(json::parse(text)); }); };
  EXPECT_EQ(field(R"({"widths": [4, 8, 4, 16]})"), "widths");
  EXPECT_EQ(field(R"({"widths": [4, 8, 4, 16, 12]})"), "widths[4]");
  EXPECT_EQ(field(R"({"quant": {"act_bits": 3}})"), "quant.act_bits");
  EXPECT_EQ(field(R"({"quant": {"weight_bits": [4, 4, 4, 4, 4, 4]}})"), "quant.weight_bits");
  EXPECT_EQ(field(R"({"quant": {"weight_symmetric": false}})"), "quant.weight_symmetric");
  EXPECT_EQ(field(R"({"stages": []})"), "stages");
}
