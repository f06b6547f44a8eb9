// IDX parsing: header checks (magic, type, dimensions, sizes) and the in-memory dataset it builds.
#include "oqa/data/idx.h"

#include <vector>

#include "oqa/data/gzip_file.h"
#include "oqa/data/memory_dataset.h"
#include "oqa/util/error.h"

namespace oqa::data {

namespace {

uint32_t read_be32(const std::string& bytes, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + at;
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xF];
  return s;
}

// A parsed IDX file: its dimensions and where the payload starts.
struct IdxFile {
  std::string bytes;
  std::vector<uint64_t> dims;
  size_t data_offset = 0;
};

IdxFile parse_idx(const std::string& path, uint32_t ndims, const char* layout) {
  IdxFile f;
  f.bytes = read_maybe_gzip(path);
  const uint32_t expected_magic = 0x0800u | ndims;
  if (f.bytes.size() < 4)
    throw util::input_error("truncated IDX file: " + std::to_string(f.bytes.size()) +
                            " bytes, too short for the 4-byte magic number")
        .file(path);
  const uint32_t magic = read_be32(f.bytes, 0);
  if ((magic >> 16) != 0)
    throw util::input_error("not an IDX file: magic number " + hex32(magic) + ", expected " + hex32(expected_magic))
        .file(path);
  const uint32_t type = (magic >> 8) & 0xFF, dims = magic & 0xFF;
  if (type != 0x08)
    throw util::input_error("unsupported IDX data type " + hex32(type) + " (magic " + hex32(magic) +
                            "), expected 0x08 (unsigned byte)")
        .file(path);
  if (dims != ndims)
    throw util::input_error("wrong IDX dimensions: magic " + hex32(magic) + " has " + std::to_string(dims) +
                            " dimensions, expected " + std::to_string(ndims) + " (" + layout + ")")
        .file(path);
  f.data_offset = 4 + 4 * size_t(ndims);
  if (f.bytes.size() < f.data_offset)
    throw util::input_error("truncated IDX header: " + std::to_string(f.bytes.size()) + " bytes, expected " +
                            std::to_string(f.data_offset))
        .file(path);
  const uint64_t payload = f.bytes.size() - f.data_offset;
  uint64_t expected = 1;
  bool overflow = false;
  std::string dims_text;
  for (uint32_t d = 0; d < ndims; ++d) {
    const uint64_t v = read_be32(f.bytes, 4 + 4 * size_t(d));
    f.dims.push_back(v);
    dims_text += (d ? " x " : "") + std::to_string(v);
    if (d > 0 && v == 0)
      throw util::input_error("IDX dimension " + std::to_string(d) + " is 0 (" + layout + ")").file(path);
    overflow = overflow || __builtin_mul_overflow(expected, v, &expected);
  }
  if (overflow || expected > payload)
    throw util::input_error("truncated IDX file: header says " + dims_text + " (" + layout + ") = " +
                            (overflow ? std::string("over 2^64") : std::to_string(expected)) +
                            " data bytes, found " + std::to_string(payload))
        .file(path);
  if (expected < payload)
    throw util::input_error("IDX size mismatch: header says " + dims_text + " (" + layout + ") = " +
                            std::to_string(expected) + " data bytes, found " + std::to_string(payload) +
                            " (extra data after the last record)")
        .file(path);
  return f;
}

}  // namespace

DatasetPtr load_idx(const std::string& images_path, const std::string& labels_path, std::string name,
                    int64_t num_classes) {
  OQA_ASSERT(num_classes > 0 && num_classes <= 256, "IDX num_classes must be in 1..256");
  IdxFile images = parse_idx(images_path, 3, "count x rows x cols");
  IdxFile labels = parse_idx(labels_path, 1, "count");
  const uint64_t n = images.dims[0];
  if (labels.dims[0] != n)
    throw util::input_error("label count " + std::to_string(labels.dims[0]) + " does not match the " +
                            std::to_string(n) + " images in " + images_path)
        .file(labels_path);

  std::vector<int64_t> label_values(n);
  const auto* lp = reinterpret_cast<const unsigned char*>(labels.bytes.data()) + labels.data_offset;
  for (uint64_t i = 0; i < n; ++i) {
    label_values[i] = lp[i];
    if (label_values[i] >= num_classes)
      throw util::input_error("label " + std::to_string(label_values[i]) + " of sample " + std::to_string(i) +
                              " is out of range: expected 0.." + std::to_string(num_classes - 1))
          .file(labels_path);
  }
  labels.bytes = std::string();

  ImageShape shape{1, static_cast<int64_t>(images.dims[1]), static_cast<int64_t>(images.dims[2])};
  // Keep only the payload; the raw file bytes are released right after.
  std::vector<uint8_t> pixels(images.bytes.begin() + static_cast<std::ptrdiff_t>(images.data_offset),
                              images.bytes.end());
  images.bytes = std::string();
  return std::make_shared<MemoryDataset>(std::move(name), shape, num_classes, std::move(pixels),
                                         std::move(label_values));
}

}  // namespace oqa::data
