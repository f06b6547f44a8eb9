// Layer order: every #include between module folders and every oqa_module() link goes down the order that
// docs/architecture.md writes; the checker itself is tried on a small tree with a back edge.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "util/test_dir.h"

namespace {

namespace fs = std::filesystem;
using Layers = std::map<std::string, int>;  // module folder -> layer (0 = lowest)

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The "layer N: a b c" lines of the architecture page.
Layers read_layers(const std::string& text) {
  Layers out;
  const std::regex line(R"(^layer (\d+): ([a-z_ ]+)$)");
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    std::istringstream names(m[2].str());
    for (std::string n; names >> n;) out[n] = std::stoi(m[1].str());
  }
  return out;
}

// "file: includes oqa/<module>/..." for each include of a module not strictly below the file's own, and
// "<folder>: not in the layer list" for a folder the page does not place.
std::vector<std::string> include_violations(const fs::path& src, const Layers& layers) {
  std::vector<std::string> out;
  const std::regex inc(R"(^\s*#\s*include\s+"oqa/([a-z_]+)/[^"]+")");
  for (const auto& dir : fs::directory_iterator(src)) {
    if (!dir.is_directory()) continue;
    const std::string mod = dir.path().filename().string();
    const auto own = layers.find(mod);
    if (own == layers.end()) {
      out.push_back(mod + ": not in the layer list");
      continue;
    }
    for (const auto& f : fs::recursive_directory_iterator(dir.path())) {
      if (!f.is_regular_file()) continue;
      std::istringstream in(slurp(f.path()));
      for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (!std::regex_search(l, m, inc) || m[1].str() == mod) continue;
        const auto to = layers.find(m[1].str());
        if (to == layers.end() || to->second >= own->second)
          out.push_back(fs::relative(f.path(), src).string() + ": includes oqa/" + m[1].str() + "/");
      }
    }
  }
  return out;
}

// "oqa_<m> links oqa_<d>" for each oqa_module(m deps...) dependency not strictly below m.
std::vector<std::string> link_violations(const std::string& cmake, const Layers& layers) {
  std::vector<std::string> out;
  const std::regex call(R"(oqa_module\(([a-z_]+)((?: oqa_[a-z_]+)*)\))");
  for (auto it = std::sregex_iterator(cmake.begin(), cmake.end(), call); it != std::sregex_iterator(); ++it) {
    const std::string mod = (*it)[1].str();
    std::istringstream deps((*it)[2].str());
    for (std::string d; deps >> d;) {
      const std::string dep = d.substr(4);
      if (!layers.count(mod) || !layers.count(dep) || layers.at(dep) >= layers.at(mod))
        out.push_back("oqa_" + mod + " links " + d);
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

TEST(Layers, TheDocumentedOrderCoversEveryModule) {
  const Layers layers = read_layers(slurp(fs::path(OQA_SOURCE_DIR) / "docs/architecture.md"));
  for (const char* m :
       {"util", "data", "quant", "nn", "space", "cost", "train", "search", "deploy", "pipeline", "cli"})
    EXPECT_TRUE(layers.count(m)) << m;
  // train, search and deploy sit side by side: none may use another; only the pipeline combines them.
  EXPECT_EQ(layers.at("train"), layers.at("search"));
  EXPECT_EQ(layers.at("train"), layers.at("deploy"));
  EXPECT_LT(layers.at("deploy"), layers.at("pipeline"));
}

TEST(Layers, EveryIncludeAndLinkGoesDown) {
  const Layers layers = read_layers(slurp(fs::path(OQA_SOURCE_DIR) / "docs/architecture.md"));
  ASSERT_FALSE(layers.empty());
  const auto inc = include_violations(fs::path(OQA_SOURCE_DIR) / "src/oqa", layers);
  EXPECT_TRUE(inc.empty()) << "includes against docs/architecture.md's layer order:" << joined(inc);
  const auto links = link_violations(slurp(fs::path(OQA_SOURCE_DIR) / "CMakeLists.txt"), layers);
  EXPECT_TRUE(links.empty()) << "module links against the layer order:" << joined(links);
  EXPECT_NE(slurp(fs::path(OQA_SOURCE_DIR) / "CMakeLists.txt").find("oqa_module(pipeline"),
            std::string::npos);
}

// The checker on a made-up tree: a side edge (train -> search), an up edge (util -> data) and an unplaced
// folder are reported; a down edge and a module's own headers are not.
TEST(Layers, TheCheckerReportsBackEdges) {
  TestDir dir;
  const fs::path& root = dir.path;
  const auto write = [&](const std::string& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  };
  write("util/a.h", "#include \"oqa/util/b.h\"\n#include \"oqa/data/x.h\"\n");
  write("train/t.cpp", "#include \"oqa/util/a.h\"\n  #include \"oqa/search/s.h\"\n");
  write("search/s.h", "#include \"oqa/util/a.h\"\n");
  write("extra/e.h", "");
  const Layers layers = read_layers("layer 1: util\nlayer 2: data\nlayer 3: train search\n");
  EXPECT_EQ(layers.size(), 4u);
  auto v = include_violations(root, layers);
  std::sort(v.begin(), v.end());
  const std::vector<std::string> want = {"extra: not in the layer list", "train/t.cpp: includes oqa/search/",
                                         "util/a.h: includes oqa/data/"};
  EXPECT_EQ(v, want);
  EXPECT_EQ(link_violations("oqa_module(train oqa_util oqa_search)\noqa_module(data oqa_util)", layers),
            std::vector<std::string>{"oqa_train links oqa_search"});
}

}  // namespace
