// ImageFolder: folder scan and file check at load, stb_image decode + grey/RGB conversion + resize per read.
#include "oqa/data/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <memory>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "oqa/data/jpeg_check.h"
#include "oqa/data/png_chunks.h"
#include "oqa/data/resize.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace fs = std::filesystem;

namespace oqa::data {

namespace {

// The file's bytes, refused when they hold a JPEG defect the decoder would mishandle (jpeg_check.h), without
// the empty PNG data chunks it would mishandle (png_chunks.h).
std::string checked_image_bytes(const std::string& file) {
  std::string bytes = util::read_file(file);
  drop_empty_idat_chunks(bytes);
  const std::string defect = jpeg_defect(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!defect.empty()) throw util::input_error("cannot decode image: " + defect).file(file);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw util::input_error("cannot decode image: larger than 2 GB").file(file);
  return bytes;
}

}  // namespace

bool is_image_file_name(const std::string& file_name) {
  const size_t dot = file_name.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::string ext = file_name.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp";
}

ImageFolderDataset::ImageFolderDataset(std::string root, ImageShape shape, ImageFolderOptions options)
    : root_(std::move(root)), shape_(shape) {
  if (shape_.channels != 1 && shape_.channels != 3)
    throw util::input_error("image-folder channels must be 1 or 3").field("channels").value(std::to_string(shape_.channels));
  if (shape_.height <= 0 || shape_.width <= 0 || shape_.height > 8192 || shape_.width > 8192)
    throw util::input_error("image-folder image size must be in 1..8192").field("image_size").value(shape_.str());
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) throw util::input_error("image folder not found (expected root/<class>/<image>)").file(root_);

  try {
    for (const fs::directory_entry& e : fs::directory_iterator(root_)) {
      const std::string n = e.path().filename().string();
      if (!n.empty() && n[0] != '.' && e.is_directory()) classes_.push_back(n);
    }
    std::sort(classes_.begin(), classes_.end());
    for (size_t c = 0; c < classes_.size(); ++c) {
      std::vector<std::string> found;
      for (const fs::directory_entry& e : fs::directory_iterator(fs::path(root_) / classes_[c])) {
        const std::string n = e.path().filename().string();
        if (n[0] != '.' && is_image_file_name(n) && e.is_regular_file()) found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      for (std::string& f : found) {
        files_.push_back(std::move(f));
        labels_.push_back(static_cast<int64_t>(c));
      }
    }
  } catch (const fs::filesystem_error& e) {
    throw util::input_error(std::string("cannot list image folder: ") + e.code().message())
        .file(e.path1().empty() ? root_ : e.path1().string());
  }
  if (classes_.empty()) throw util::input_error("no class folders found (expected root/<class>/<image>)").file(root_);
  if (files_.empty())
    throw util::input_error("no images (.jpg .jpeg .png .bmp) found in the " + std::to_string(classes_.size()) +
                            " class folders")
        .file(root_);
  check_files(options);
}

namespace {

// Why `file` cannot be read as an image ("" when it can): its header only, or a whole decode.
std::string probe(const std::string& file, const ImageShape& shape, bool decode, std::vector<uint8_t>& scratch) {
  if (!decode) {
    int w = 0, h = 0, n = 0;
    std::string bytes;
    try {
      bytes = checked_image_bytes(file);
    } catch (const util::Error& e) {
      return e.message();
    }
    if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                              &n) &&
        w > 0 && h > 0)
      return "";
    const char* why = stbi_failure_reason();
    return std::string("cannot read the image header: ") + (why ? why : "unknown reason");
  }
  scratch.resize(static_cast<size_t>(shape.numel()));
  try {
    decode_image(file, shape, scratch.data());
  } catch (const util::Error& e) {
    return e.message();
  }
  return "";
}

}  // namespace

void ImageFolderDataset::check_files(const ImageFolderOptions& options) {
  if (options.check == ImageCheck::kNone) return;
  const bool decode =
      options.check == ImageCheck::kDecode || (options.check == ImageCheck::kAuto && files_.size() <= 50000);
  if (files_.size() >= 5000)  // a decode check of tens of thousands of files takes seconds: say what is happening
    spdlog::info("{}: checking {} images ({}; data.check_images)", root_, files_.size(),
                 decode ? "decoding each" : "headers only");
  std::vector<std::string> reasons(files_.size());
  at::parallel_for(0, static_cast<int64_t>(files_.size()), 16, [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> scratch;
    for (int64_t i = begin; i < end; ++i)
      reasons[static_cast<size_t>(i)] = probe(files_[static_cast<size_t>(i)], shape_, decode, scratch);
  });
  size_t bad = 0;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (reasons[i].empty()) continue;
    if (!options.skip_bad) spdlog::error("{}: {}", files_[i], reasons[i]);
    if (bad++ == 0 && options.skip_bad)
      spdlog::warn("{}: skipping undecodable image ({}); more are counted below", files_[i], reasons[i]);
  }
  if (bad == 0) return;
  if (!options.skip_bad)
    throw util::input_error(std::to_string(bad) + " undecodable image" + (bad == 1 ? "" : "s") +
                            " (each listed above): fix or remove them, or set data.on_bad_image = \"skip\"")
        .file(root_);
  std::vector<std::string> files;
  std::vector<int64_t> labels;
  for (size_t i = 0; i < files_.size(); ++i)
    if (reasons[i].empty()) {
      files.push_back(std::move(files_[i]));
      labels.push_back(labels_[i]);
    }
  files_ = std::move(files);
  labels_ = std::move(labels);
  skipped_ = bad;
  spdlog::warn("{}: skipped {} undecodable image{} (data.on_bad_image = \"skip\"); {} remain", root_, bad,
               bad == 1 ? "" : "s", files_.size());
  if (files_.empty()) throw util::input_error("no decodable images left after skipping the bad ones").file(root_);
}

int64_t ImageFolderDataset::label(size_t i) const {
  OQA_ASSERT(i < labels_.size(), "sample " + std::to_string(i) + " out of range in " + name());
  return labels_[i];
}

const std::string& ImageFolderDataset::path(size_t i) const {
  OQA_ASSERT(i < files_.size(), "sample " + std::to_string(i) + " out of range in " + name());
  return files_[i];
}

void decode_image(const std::string& file, const ImageShape& shape, uint8_t* dst) {
  const int want = static_cast<int>(shape.channels);
  int w = 0, h = 0, n = 0;
  const std::string bytes = checked_image_bytes(file);
  std::unique_ptr<stbi_uc, void (*)(void*)> img(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &n, want),
      stbi_image_free);
  if (!img) {
    const char* why = stbi_failure_reason();
    throw util::input_error(std::string("cannot decode image: ") + (why ? why : "unknown reason")).file(file);
  }
  if (w <= 0 || h <= 0) throw util::input_error("image has no pixels").file(file);

  // stb gives interleaved HWC; make it CHW, then resize (a copy when the size already matches).
  const size_t plane = static_cast<size_t>(w) * static_cast<size_t>(h);
  const bool same = h == shape.height && w == shape.width;
  std::vector<uint8_t> chw(same ? 0 : plane * static_cast<size_t>(want));
  uint8_t* planar = same ? dst : chw.data();
  for (int c = 0; c < want; ++c) {
    const stbi_uc* s = img.get() + c;
    uint8_t* d = planar + static_cast<size_t>(c) * plane;
    for (size_t p = 0; p < plane; ++p) d[p] = s[p * static_cast<size_t>(want)];
  }
  if (!same) resize_bilinear_u8(chw.data(), want, h, w, dst, shape.height, shape.width);
}

void ImageFolderDataset::read_image(size_t i, uint8_t* dst) const {
  decode_image(path(i), shape_, dst);
}

DatasetPtr load_image_folder(const std::string& root, ImageShape shape, ImageFolderOptions options) {
  return std::make_shared<ImageFolderDataset>(root, shape, options);
}

}  // namespace oqa::data
