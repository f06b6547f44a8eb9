// `oqa info --config`: the example configs print their space kind, size and the smallest / largest costs;
// a config error names the key.
#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "util/run_command.h"
#include "util/test_dir.h"

namespace {

using oqa::test::run_command;

std::string info(const std::string& config, int expect_status) {
  std::string out;
  EXPECT_EQ(run_command(std::string(OQA_BINARY) + " info --config " + config, out), expect_status) << out;
  return out;
}

}  // namespace

TEST(InfoCli, PrintsSpaceSizeAndCostsOfTheExampleConfigs) {
  for (const char* name : {"space-mbv3-small", "space-resnet20"}) {
    const std::string out = info(std::string(OQA_SOURCE_DIR) + "/configs/" + name + ".json", 0);
    EXPECT_NE(out.find(std::string("space: ") + (name[6] == 'm' ? "mbv3" : "resnet")), std::string::npos)
        << out;
    EXPECT_NE(out.find("size: 10^"), std::string::npos) << out;
    for (const char* word : {"smallest", "largest", "MACs", "params", "bytes", "BitOPs"})
      EXPECT_NE(out.find(word), std::string::npos) << word << "\n" << out;
  }
}

TEST(InfoCli, SpaceConfigErrorsNameFileAndKey) {
  TestDir dir;
  const std::string path = (dir.path / "bad.json").string();
  FILE* f = fopen(path.c_str(), "w");
  fputs(R"({"space": {"kind": "mbv3", "kernal": [3]}})", f);
  fclose(f);
  const std::string out = info(path, 3);
  EXPECT_NE(out.find("bad.json"), std::string::npos) << out;
  EXPECT_NE(out.find("space.kernal"), std::string::npos) << out;
  EXPECT_NE(out.find("did you mean 'space.kernel'"), std::string::npos) << out;
}

TEST(Cli, UnknownSubcommandOrOptionNamesTheWordAndTheNearestValidOne) {
  struct Case {
    const char* args;
    const char* expect;
  };
  for (const Case& c : {Case{"trian", "unknown subcommand 'trian' of 'oqa' (did you mean 'train'?)"},
                        Case{"--threads 1 serch", "unknown subcommand 'serch' of 'oqa' (did you mean 'search'?)"},
                        Case{"--thread 2 info", "unknown option '--thread' of 'oqa' (did you mean '--threads'?)"},
                        Case{"train --config x.json --epoch 3",
                             "unknown option '--epoch' of 'oqa train' (did you mean '--epochs'?)"},
                        Case{"bench deplyo", "unknown subcommand 'deplyo' of 'oqa bench' (did you mean 'deploy'?)"},
                        Case{"train --threads 1", "option '--threads' belongs before the subcommand"}}) {
    std::string out;
    EXPECT_EQ(oqa::test::run_command(std::string(OQA_BINARY) + " " + c.args, out), 2) << c.args << "\n" << out;
    EXPECT_NE(out.find(std::string("oqa: error: ") + c.expect), std::string::npos) << c.args << "\n" << out;
  }
}
