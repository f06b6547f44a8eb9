// Consumer of the installed oqa package: builds a model and reads a config through the public headers.
#include <cstdio>

#include "oqa/nn/baseline_cnn.h"
#include "oqa/util/config.h"

int main() {
  auto cfg = oqa::util::Config::from_json(oqa::util::Json::parse(R"({"width": 8})"));
  int64_t width = cfg.root().get<int64_t>("width", 4);
  oqa::nn::BaselineCnn model(oqa::nn::BaselineCnnOptions{1, 10, width});
  auto y = model->forward(torch::zeros({2, 1, 28, 28}));
  if (y.size(0) != 2 || y.size(1) != 10) return 1;
  std::printf("consumer ok: output %lld x %lld\n", static_cast<long long>(y.size(0)),
              static_cast<long long>(y.size(1)));
  return 0;
}
