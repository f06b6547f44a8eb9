// Gzip-or-raw whole-file reader on zlib's gz* interface (which passes non-gzip files through).
#include "oqa/data/gzip_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "oqa/util/error.h"

namespace oqa::data {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const {
    if (f) gzclose(f);
  }
};

std::string gz_message(gzFile f) {
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return msg && *msg ? msg : "zlib error " + std::to_string(code);
}

}  // namespace

std::string read_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw util::input_error("file not found").file(path);
  if (std::filesystem::is_directory(path, ec)) throw util::input_error("is a folder, expected a file").file(path);

  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw util::input_error(std::string("cannot open: ") + std::strerror(errno)).file(path);
  gzbuffer(f.get(), 1 << 17);

  std::string out;
  const size_t chunk = 1 << 20;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    const int got = gzread(f.get(), out.data() + old, static_cast<unsigned>(chunk));
    if (got < 0) throw util::input_error("corrupt gzip data: " + gz_message(f.get())).file(path);
    out.resize(old + static_cast<size_t>(got));
    if (got == 0) break;
  }
  int code = Z_OK;
  gzerror(f.get(), &code);
  if (code == Z_BUF_ERROR) throw util::input_error("truncated gzip file (unexpected end of stream)").file(path);
  if (code != Z_OK) throw util::input_error("corrupt gzip data: " + gz_message(f.get())).file(path);
  const int closed = gzclose(f.release());
  if (closed == Z_BUF_ERROR) throw util::input_error("truncated gzip file (unexpected end of stream)").file(path);
  if (closed != Z_OK) throw util::input_error("cannot read gzip file (zlib error " + std::to_string(closed) + ")").file(path);
  return out;
}

}  // namespace oqa::data
