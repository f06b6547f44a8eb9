// Config: typed gets, defaults written back, unknown keys and wrong types named with suggestions.
#include <gtest/gtest.h>

#include "oqa/util/config.h"
#include "oqa/util/error.h"
#include "test_dir.h"

using namespace oqa::util;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, ReadsValuesAndWritesDefaults) {
  auto c = Config::from_json(Json::parse(R"({"train": {"epochs": 3, "lr": 0.1}})"), "c.json");
  auto t = c.root().child("train");
  EXPECT_EQ(t.get<int64_t>("epochs", 1), 3);
  EXPECT_DOUBLE_EQ(t.get<double>("lr", 0.5), 0.1);
  EXPECT_EQ(t.get<std::string>("optimizer", "sgd"), "sgd");
  EXPECT_EQ(c.resolved()["train"]["optimizer"], "sgd");
  EXPECT_NO_THROW(c.check_unknown());
}

TEST(Config, UnknownKeyIsNamedWithSuggestion) {
  auto c = Config::from_json(Json::parse(R"({"train": {"epohcs": 3}})"), "exp.json");
  c.root().child("train").get<int64_t>("epochs", 1);
  std::string msg = error_of([&] { c.check_unknown(); });
  EXPECT_NE(msg.find("exp.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.epohcs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.epochs'"), std::string::npos) << msg;
}

TEST(Config, WrongTypeNamesKeyAndValue) {
  auto c = Config::from_json(Json::parse(R"({"train": {"epochs": "ten"}})"), "exp.json");
  std::string msg = error_of([&] { c.root().child("train").get<int64_t>("epochs", 1); });
  EXPECT_NE(msg.find("train.epochs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"ten\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected an integer"), std::string::npos) << msg;
  auto c2 = Config::from_json(Json::parse(R"({"lr": true})"), "x.json");
  EXPECT_NE(error_of([&] { c2.root().get<double>("lr", 0.1); }).find("expected a number"), std::string::npos);
  // A list of integers holding a float (found by fuzzing: 3.2e33 converted to int64 is undefined behaviour).
  auto c3 = Config::from_json(Json::parse(R"({"space": {"resolutions": [28, 3.2e33]}})"), "s.json");
  const std::string list = error_of([&] { c3.root().child("space").get<std::vector<int64_t>>("resolutions", {}); });
  EXPECT_NE(list.find("space.resolutions"), std::string::npos) << list;
  auto c4 = Config::from_json(Json::parse(R"({"resolutions": [28, 32]})"), "s.json");
  EXPECT_EQ(c4.root().get<std::vector<int64_t>>("resolutions", {}), (std::vector<int64_t>{28, 32}));
}

TEST(Config, RangeAndChoice) {
  auto c = Config::from_json(Json::parse(R"({"a": 5, "b": "adamw", "c": -1})"), "x.json");
  EXPECT_NE(error_of([&] { c.root().get_range("a", 1, 0, 1); }).find("must lie in"), std::string::npos);
  std::string msg = error_of([&] { c.root().get_choice("b", "sgd", {"sgd", "adam"}); });
  EXPECT_NE(msg.find("did you mean 'adam'"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { c.root().get_int_range("c", 1, 0, 10); }).find("field 'c' = -1"), std::string::npos);
}

TEST(Config, OverridesParseJsonOrString) {
  auto c = Config::from_json(Json::parse(R"({"train": {"epochs": 3}})"));
  c.set("train.epochs=7");
  c.set("data.dataset=cifar10");
  c.set("train.milestones=[1,2]");
  EXPECT_EQ(c.resolved()["train"]["epochs"], 7);
  EXPECT_EQ(c.resolved()["data"]["dataset"], "cifar10");
  EXPECT_EQ(c.resolved()["train"]["milestones"].size(), 2u);
  EXPECT_THROW(c.set("novalue"), Error);
}

TEST(Config, HashChangesWithContent) {
  auto a = Config::from_json(Json::parse(R"({"x": 1})"));
  auto b = Config::from_json(Json::parse(R"({"x": 2})"));
  auto a2 = Config::from_json(Json::parse(R"({"x": 1})"));
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_EQ(a.hash(), a2.hash());
}

TEST(Config, BadJsonFileNamesLine) {
  TestDir d;
  auto p = (d.path / "bad.json").string();
  write_json(p, Json::object());
  {
    std::FILE* f = std::fopen(p.c_str(), "w");
    std::fputs("{\n  \"a\": 1,\n  \"b\": \n}\n", f);
    std::fclose(f);
  }
  std::string msg = error_of([&] { Config::load(p); });
  EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 4"), std::string::npos) << msg;
}

TEST(Config, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(nearest("epohcs", {"epochs", "lr", "seed"}), "epochs");
  EXPECT_EQ(nearest("zzzzzzzz", {"lr"}), "");
}
