// Whole-file reads that undo gzip compression when present (raw files pass through unchanged).
#pragma once

#include <string>

namespace oqa::data {

// Reads `path` completely; a gzip file is decompressed. A missing file, a read error, a corrupt or
// truncated gzip stream is an input error naming the file.
std::string read_maybe_gzip(const std::string& path);

}  // namespace oqa::data
