// ImageFolder: root/<class>/<image>.{jpg,jpeg,png,bmp}, classes sorted by folder name, images
// decoded with stb_image and resized (bilinear) to one fixed shape.
#pragma once

#include <string>
#include <vector>

#include "oqa/data/dataset.h"

namespace oqa::data {

// Decoding is lazy: load only lists the files, and read_image decodes one (loader workers run
// decodes in parallel, and a large folder never sits decoded in memory). An undecodable file is
// an input error naming it, raised by read_image (so by Loader::next()).
class ImageFolderDataset final : public Dataset {
 public:
  // shape.channels must be 1 (grey) or 3 (RGB); height and width > 0.
  ImageFolderDataset(std::string root, ImageShape shape);

  size_t size() const override { return files_.size(); }
  ImageShape shape() const override { return shape_; }
  int64_t num_classes() const override { return static_cast<int64_t>(classes_.size()); }
  int64_t label(size_t i) const override;
  void read_image(size_t i, uint8_t* dst) const override;
  std::string name() const override { return "image-folder:" + root_; }

  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& path(size_t i) const;

 private:
  std::string root_;
  ImageShape shape_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<int64_t> labels_;
};

DatasetPtr load_image_folder(const std::string& root, ImageShape shape);

// Decodes one image file (jpg, png, bmp, ...) to CHW uint8 of `shape` (channels 1 or 3; resized bilinearly).
// An undecodable file is an input error naming it.
void decode_image(const std::string& file, const ImageShape& shape, uint8_t* dst);

// True for the extensions the reader accepts (.jpg .jpeg .png .bmp, any case).
bool is_image_file_name(const std::string& file_name);

}  // namespace oqa::data
