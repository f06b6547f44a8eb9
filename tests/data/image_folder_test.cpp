// ImageFolder tests: PNG/BMP files written here, classes and labels, exact pixels at the same size,
// bilinear resize against LibTorch, and undecodable files named in the error (also via the loader).
#include <stb/stb_image_write.h>  // implemented in stb_write_impl.cpp

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "data/test_files.h"
#include "oqa/data/image_folder.h"
#include "oqa/data/jpeg_check.h"
#include "oqa/data/loader.h"
#include "oqa/data/png_chunks.h"
#include "oqa/data/resize.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::data {
namespace {

using testing::TempDir;

// An interleaved HWC test image with distinct values per pixel and channel.
std::vector<uint8_t> hwc_image(int h, int w, int c, int salt) {
  std::vector<uint8_t> v(static_cast<size_t>(h * w * c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) v[static_cast<size_t>((y * w + x) * c + k)] = static_cast<uint8_t>((salt + y * 40 + x * 17 + k * 90) & 0xFF);
  return v;
}

void write_png(const std::string& path, int h, int w, int c, int salt) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::vector<uint8_t> img = hwc_image(h, w, c, salt);
  ASSERT_NE(stbi_write_png(path.c_str(), w, h, c, img.data(), w * c), 0) << path;
}

void write_bmp(const std::string& path, int h, int w, int c, int salt) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::vector<uint8_t> img = hwc_image(h, w, c, salt);
  ASSERT_NE(stbi_write_bmp(path.c_str(), w, h, c, img.data()), 0) << path;
}

// Value of CHW pixel (k, y, x) of hwc_image as read with `channels` (grey sources replicated).
uint8_t expected(int h, int w, int c, int salt, int k, int y, int x) {
  (void)h, (void)w;
  return static_cast<uint8_t>((salt + y * 40 + x * 17 + (c == 1 ? 0 : k) * 90) & 0xFF);
}

TEST(ImageFolder, ClassesLabelsAndExactPixels) {
  TempDir dir;
  const int h = 3, w = 4;
  write_png(dir.file("zebra/b.png"), h, w, 3, 5);
  write_png(dir.file("zebra/a.png"), h, w, 3, 1);
  write_bmp(dir.file("ant/x.bmp"), h, w, 3, 9);
  write_png(dir.file("ant/grey.PNG"), h, w, 1, 77);
  testing::write_bytes(dir.file("ant/notes.txt"), "not an image");
  testing::write_bytes(dir.file("ant/.hidden.png"), "hidden");
  testing::write_bytes(dir.file("readme.md"), "a file at the root is not a class");
  std::filesystem::create_directories(dir.file("empty_class"));

  auto d = std::make_shared<ImageFolderDataset>(dir.path().string(), ImageShape{3, h, w});
  ASSERT_EQ(d->classes(), (std::vector<std::string>{"ant", "empty_class", "zebra"}));
  EXPECT_EQ(d->num_classes(), 3);
  ASSERT_EQ(d->size(), 4u);
  // Files sorted by name inside each class: "grey.PNG" < "x.bmp"; "a.png" < "b.png".
  const std::vector<std::pair<std::string, int>> files = {{"ant/grey.PNG", 77}, {"ant/x.bmp", 9},
                                                          {"zebra/a.png", 1}, {"zebra/b.png", 5}};
  const std::vector<int> labels = {0, 0, 2, 2};
  const std::vector<int> source_channels = {1, 3, 3, 3};
  std::vector<uint8_t> img(static_cast<size_t>(3 * h * w));
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(d->path(i), dir.file(files[i].first));
    EXPECT_EQ(d->label(i), labels[i]);
    d->read_image(i, img.data());
    for (int k = 0; k < 3; ++k)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          ASSERT_EQ(img[static_cast<size_t>((k * h + y) * w + x)],
                    expected(h, w, source_channels[i], files[i].second, k, y, x))
              << files[i].first << " c" << k << " y" << y << " x" << x;
  }
}

TEST(ImageFolder, GreyOutputFromGreySource) {
  TempDir dir;
  write_png(dir.file("a/g.png"), 5, 6, 1, 33);
  DatasetPtr d = load_image_folder(dir.path().string(), ImageShape{1, 5, 6});
  std::vector<uint8_t> img(30);
  d->read_image(0, img.data());
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 6; ++x) ASSERT_EQ(img[static_cast<size_t>(y * 6 + x)], expected(5, 6, 1, 33, 0, y, x));
}

// Rounded torch bilinear resize of a uint8 CHW image, as the reference.
std::vector<uint8_t> torch_resize(const std::vector<uint8_t>& chw, int64_t c, int64_t h, int64_t w, int64_t oh,
                                  int64_t ow) {
  at::Tensor t = at::from_blob(const_cast<uint8_t*>(chw.data()), {1, c, h, w}, at::kByte).to(at::kFloat);
  at::Tensor r = at::upsample_bilinear2d(t, {oh, ow}, false).round().clamp(0, 255).to(at::kByte).contiguous();
  return std::vector<uint8_t>(r.data_ptr<uint8_t>(), r.data_ptr<uint8_t>() + r.numel());
}

TEST(ImageFolder, ResizeMatchesTorchBilinear) {
  for (auto [h, w, oh, ow] : std::vector<std::array<int64_t, 4>>{{8, 6, 5, 7}, {7, 9, 16, 12}, {28, 28, 32, 32}, {5, 5, 5, 5}}) {
    std::vector<uint8_t> chw(static_cast<size_t>(3 * h * w));
    for (size_t i = 0; i < chw.size(); ++i) chw[i] = static_cast<uint8_t>((i * 97 + i / 7) & 0xFF);
    std::vector<uint8_t> ours(static_cast<size_t>(3 * oh * ow));
    resize_bilinear_u8(chw.data(), 3, h, w, ours.data(), oh, ow);
    const std::vector<uint8_t> ref = torch_resize(chw, 3, h, w, oh, ow);
    ASSERT_EQ(ours.size(), ref.size());
    for (size_t i = 0; i < ours.size(); ++i)  // float rounding at .5 may differ by one level
      ASSERT_LE(std::abs(int(ours[i]) - int(ref[i])), 1) << h << "x" << w << " -> " << oh << "x" << ow << " at " << i;
  }
}

TEST(ImageFolder, ReadImageResizesToTheShape) {
  TempDir dir;
  write_png(dir.file("a/big.png"), 10, 13, 3, 21);
  DatasetPtr d = load_image_folder(dir.path().string(), ImageShape{3, 6, 4});
  std::vector<uint8_t> img(3 * 6 * 4);
  d->read_image(0, img.data());
  // Reference: the source in CHW, resized by torch.
  std::vector<uint8_t> chw(3 * 10 * 13);
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 13; ++x) chw[static_cast<size_t>((k * 10 + y) * 13 + x)] = expected(10, 13, 3, 21, k, y, x);
  const std::vector<uint8_t> ref = torch_resize(chw, 3, 10, 13, 6, 4);
  for (size_t i = 0; i < img.size(); ++i) ASSERT_LE(std::abs(int(img[i]) - int(ref[i])), 1) << i;
}

TEST(ImageFolder, UndecodableImageNamesTheFile) {
  TempDir dir;
  write_png(dir.file("a/good.png"), 4, 4, 3, 0);
  testing::write_bytes(dir.file("b/broken.jpg"), "this is not a jpeg at all");
  // Unchecked at open (check none), the file fails when read.
  DatasetPtr d = load_image_folder(dir.path().string(), ImageShape{3, 4, 4}, {ImageCheck::kNone, false});
  ASSERT_EQ(d->size(), 2u);
  std::vector<uint8_t> img(48);
  d->read_image(0, img.data());
  try {
    d->read_image(1, img.data());
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), dir.file("b/broken.jpg"));
    EXPECT_NE(std::string(e.what()).find("cannot decode image"), std::string::npos) << e.what();
  }
  // Through a loader with workers: the same error reaches next().
  LoaderOptions opt;
  opt.batch_size = 1;
  opt.shuffle = false;
  opt.workers = 2;
  Loader loader(d, opt);
  loader.start_epoch(0);
  ASSERT_TRUE(loader.next().has_value());
  try {
    loader.next();
    FAIL() << "no error from the loader";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), dir.file("b/broken.jpg"));
  }
}

// The check at open finds every bad file before any training: a file that is no image, one whose header is
// cut, one cut after its header (only a decode finds it); it fails with their count, or skips them.
TEST(ImageFolder, EveryUndecodableFileIsFoundAtOpenThenFailsOrIsSkipped) {
  TempDir dir;
  write_png(dir.file("a/good1.png"), 16, 16, 3, 0);
  write_png(dir.file("b/good2.png"), 16, 16, 3, 7);
  write_png(dir.file("b/whole.png"), 16, 16, 3, 9);
  const std::string png = testing::read_bytes(dir.file("b/whole.png"));
  testing::write_bytes(dir.file("a/not-an-image.jpg"), "this is not a jpeg at all");
  testing::write_bytes(dir.file("a/header-cut.png"), png.substr(0, 20));
  testing::write_bytes(dir.file("b/data-cut.png"), png.substr(0, png.size() / 2));
  const std::string root = dir.path().string();
  const ImageShape shape{3, 16, 16};
  try {
    load_image_folder(root, shape);
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), root);
    EXPECT_NE(std::string(e.what()).find("3 undecodable images"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("on_bad_image"), std::string::npos) << e.what();
  }
  auto skipped = std::dynamic_pointer_cast<const ImageFolderDataset>(
      load_image_folder(root, shape, {ImageCheck::kAuto, /*skip_bad=*/true}));
  ASSERT_EQ(skipped->size(), 3u);
  EXPECT_EQ(skipped->skipped(), 3u);
  EXPECT_EQ(skipped->path(0), dir.file("a/good1.png"));
  EXPECT_EQ(skipped->label(0), 0);
  EXPECT_EQ(skipped->label(2), 1);
  std::vector<uint8_t> img(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < skipped->size(); ++i) EXPECT_NO_THROW(skipped->read_image(i, img.data()));
  // Headers only: the file cut after its header passes the check (and fails when read).
  auto headers = std::dynamic_pointer_cast<const ImageFolderDataset>(
      load_image_folder(root, shape, {ImageCheck::kHeader, /*skip_bad=*/true}));
  EXPECT_EQ(headers->skipped(), 2u);
  EXPECT_EQ(headers->size(), 4u);
}

// A JPEG whose Huffman table claims more than 256 codes (found by fuzzing: Debian's stb_image writes past its
// table on it) is refused with a clear error before stb sees it, when read and when checked at open.
TEST(ImageFolder, JpegWithAnOversizedHuffmanTableIsRefused) {
  TempDir dir;
  std::string jpeg = "\xFF\xD8";                       // start of image
  jpeg += std::string("\xFF\xC4\x00\x13\x00", 5);      // DHT, length 19, class 0 table 0
  jpeg += std::string(16, '\x20');                      // 16 x 32 = 512 codes
  jpeg += std::string(64, '\x01');
  testing::write_bytes(dir.file("a/bad.jpg"), jpeg);
  std::vector<uint8_t> img(48);
  try {
    decode_image(dir.file("a/bad.jpg"), ImageShape{3, 4, 4}, img.data());
    FAIL() << "no error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), dir.file("a/bad.jpg"));
    EXPECT_NE(std::string(e.what()).find("more than 256 codes"), std::string::npos) << e.what();
  }
  // The file ends inside the table's 16 counts (fuzzing, round 3): stb reads the missing counts as zeros and
  // still builds the table, so the counts present are summed.
  std::string cut = "\xFF\xD8";
  cut += std::string("\xFF\xC4\x01\xA2\x00", 5);  // DHT, length 418 (more than the file holds)
  cut += std::string(12, '\x30');                    // 12 of the 16 counts: 12 x 48 = 576 codes
  testing::write_bytes(dir.file("a/cut.jpg"), cut);
  EXPECT_NE(jpeg_defect(reinterpret_cast<const uint8_t*>(cut.data()), cut.size()).find("more than 256"),
            std::string::npos);
  EXPECT_THROW(decode_image(dir.file("a/cut.jpg"), ImageShape{3, 4, 4}, img.data()), util::Error);
  write_png(dir.file("a/good.png"), 4, 4, 3, 0);
  auto d = std::dynamic_pointer_cast<const ImageFolderDataset>(
      load_image_folder(dir.path().string(), ImageShape{3, 4, 4}, {ImageCheck::kHeader, /*skip_bad=*/true}));
  EXPECT_EQ(d->skipped(), 2u);
}

// A scan that decodes with a Huffman table no DHT segment defined (found by fuzzing: stb reads the table's
// uninitialised memory) is a defect; the same scan with defined tables is not, nor is a progressive DC
// refinement scan, which uses no table.
TEST(ImageFolder, JpegScanWithAnUndefinedHuffmanTableIsRefused) {
  auto jpeg = [](char sof, char selectors, char ss, char ahal) {
    std::string j = "\xFF\xD8";
    j += std::string("\xFF", 1) + sof + std::string("\x00\x0B\x08\x00\x01\x00\x01\x01\x01\x11\x00", 11);
    for (char table : {'\x00', '\x10'})  // DC 0 and AC 0: one code of length 1
      j += std::string("\xFF\xC4\x00\x14", 4) + table + std::string("\x01", 1) + std::string(15, '\0') +
           std::string("\x00", 1);
    j += std::string("\xFF\xDA\x00\x08\x01\x01", 6) + selectors + ss + std::string("\x3F", 1) + ahal;
    return j + std::string("\x00\xFF\xD9", 3);
  };
  auto defect = [](const std::string& j) {
    return jpeg_defect(reinterpret_cast<const uint8_t*>(j.data()), j.size());
  };
  EXPECT_EQ(defect(jpeg('\xC0', '\x00', '\x00', '\x00')), "");
  EXPECT_NE(defect(jpeg('\xC0', '\x03', '\x00', '\x00')).find("not defined"), std::string::npos);  // AC 3
  // stb skips fill bytes before the start-of-image marker, so the check does too (fuzzing, round 5).
  EXPECT_NE(defect("\xFF\xFF\xFF" + jpeg('\xC0', '\x03', '\x00', '\x00')).find("not defined"), std::string::npos);
  EXPECT_NE(defect(jpeg('\xC0', '\x10', '\x00', '\x00')).find("not defined"), std::string::npos);  // DC 1
  EXPECT_EQ(defect(jpeg('\xC2', '\x10', '\x00', '\x10')), "");  // progressive DC refinement: no table
  EXPECT_NE(defect(jpeg('\xC2', '\x10', '\x00', '\x00')).find("not defined"), std::string::npos);
  EXPECT_EQ(defect(jpeg('\xC2', '\x10', '\x01', '\x00')), "");  // progressive AC scan: AC 0 only
  // A real colour JPEG (stb_image_write's baseline encoder) passes and decodes.
  TempDir dir;
  std::vector<uint8_t> rgb(8 * 8 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  ASSERT_NE(stbi_write_jpg(dir.file("real.jpg").c_str(), 8, 8, 3, rgb.data(), 90), 0);
  EXPECT_EQ(defect(util::read_file(dir.file("real.jpg"))), "");
  std::vector<uint8_t> img(8 * 8 * 3);
  EXPECT_NO_THROW(decode_image(dir.file("real.jpg"), ImageShape{3, 8, 8}, img.data()));
}

// A PNG whose first IDAT chunk is empty (found by fuzzing: Debian's stb_image then calls memcpy with a null
// buffer, undefined behaviour) decodes to the same pixels as the file without it: oqa drops empty IDAT chunks.
TEST(ImageFolder, PngWithAnEmptyDataChunkDecodesAsWithout) {
  TempDir dir;
  write_png(dir.file("a/plain.png"), 5, 6, 3, 9);
  const std::string plain = util::read_file(dir.file("a/plain.png"));
  const size_t idat = plain.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  std::string padded = plain;
  padded.insert(idat - 4, std::string("\0\0\0\0IDAT\x35\xaf\x06\x1e", 12));  // length 0, type, CRC-32
  testing::write_bytes(dir.file("a/padded.png"), padded);
  std::string copy = padded;
  EXPECT_EQ(drop_empty_idat_chunks(copy), 1);
  EXPECT_EQ(copy, plain);
  EXPECT_EQ(drop_empty_idat_chunks(copy), 0);
  std::string not_png = "GIF89a";
  EXPECT_EQ(drop_empty_idat_chunks(not_png), 0);
  std::vector<uint8_t> a(90), b(90);
  decode_image(dir.file("a/plain.png"), ImageShape{3, 5, 6}, a.data());
  decode_image(dir.file("a/padded.png"), ImageShape{3, 5, 6}, b.data());
  EXPECT_EQ(a, b);
}

TEST(ImageFolder, BadRootsAndShapes) {
  TempDir dir;
  EXPECT_THROW(load_image_folder(dir.file("missing"), ImageShape{3, 8, 8}), util::Error);
  EXPECT_THROW(load_image_folder(dir.path().string(), ImageShape{3, 8, 8}), util::Error);  // no classes
  std::filesystem::create_directories(dir.file("a"));
  EXPECT_THROW(load_image_folder(dir.path().string(), ImageShape{3, 8, 8}), util::Error);  // no images
  write_png(dir.file("a/x.png"), 4, 4, 3, 0);
  EXPECT_THROW(load_image_folder(dir.path().string(), ImageShape{2, 8, 8}), util::Error);
  EXPECT_THROW(load_image_folder(dir.path().string(), ImageShape{3, 0, 8}), util::Error);
  EXPECT_NO_THROW(load_image_folder(dir.path().string(), ImageShape{1, 8, 8}));
  EXPECT_TRUE(is_image_file_name("a.JPEG"));
  EXPECT_FALSE(is_image_file_name("a.gif"));
  EXPECT_FALSE(is_image_file_name(".png"));
}

}  // namespace
}  // namespace oqa::data
