// Fuzz harness: image decoding (PNG, JPEG, BMP through stb_image, grey / RGB conversion, bilinear resize) as
// the ImageFolder reader and `oqa infer --image` use it.
#include <vector>

#include "fuzz/fuzz_support.h"
#include "oqa/data/image_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = oqa::fuzz::temp_file(data, size, "image");
  for (const oqa::data::ImageShape shape : {oqa::data::ImageShape{3, 16, 16}, oqa::data::ImageShape{1, 5, 7}})
    oqa::fuzz::expect_clear_errors([&] {
      std::vector<uint8_t> out(static_cast<size_t>(shape.numel()));
      oqa::data::decode_image(file, shape, out.data());
    });
  return 0;
}
