// ImageFolder: root/<class>/<image>.{jpg,jpeg,png,bmp}, classes sorted by folder name, images
// decoded with stb_image and resized (bilinear) to one fixed shape.
#pragma once

#include <string>
#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

// How the files are checked when the folder is opened, before any training: kDecode decodes every image
// (finds truncated files too), kHeader reads only each header, kAuto decodes folders of up to 50,000 images and
// reads headers above that.
enum class ImageCheck { kAuto, kDecode, kHeader, kNone };

struct ImageFolderOptions {
  ImageCheck check = ImageCheck::kAuto;
  bool skip_bad = false;  // drop the files the check finds undecodable (logged with a count) instead of failing
};

// Decoding is lazy: open lists and checks the files, and read_image decodes one (loader workers run decodes
// in parallel, and a large folder never sits decoded in memory). The check at open logs every undecodable
// file (path and reason) and then fails with one error, or skips them; a file the check could not catch
// (kHeader) is an input error naming it, raised by read_image (so by Loader::next()).
class ImageFolderDataset final : public Dataset {
 public:
  // shape.channels must be 1 (grey) or 3 (RGB); height and width > 0.
  ImageFolderDataset(std::string root, ImageShape shape, ImageFolderOptions options = {});

  size_t size() const override { return files_.size(); }
  ImageShape shape() const override { return shape_; }
  int64_t num_classes() const override { return static_cast<int64_t>(classes_.size()); }
  int64_t label(size_t i) const override;
  void read_image(size_t i, uint8_t* dst) const override;
  std::string name() const override { return "image-folder:" + root_; }

  const std::vector<std::string>& classes() const { return classes_; }
  std::vector<std::string> class_names() const override { return classes_; }
  const std::string& path(size_t i) const;
  size_t skipped() const { return skipped_; }  // undecodable files dropped (skip_bad)

 private:
  std::string root_;
  ImageShape shape_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<int64_t> labels_;
  size_t skipped_ = 0;

  void check_files(const ImageFolderOptions& options);
};

DatasetPtr load_image_folder(const std::string& root, ImageShape shape, ImageFolderOptions options = {});

// Decodes one image file (jpg, png, bmp, ...) to CHW uint8 of `shape` (channels 1 or 3; resized bilinearly).
// An undecodable file is an input error naming it.
void decode_image(const std::string& file, const ImageShape& shape, uint8_t* dst);

// True for the extensions the reader accepts (.jpg .jpeg .png .bmp, any case).
bool is_image_file_name(const std::string& file_name);

}  // namespace oqa::data
