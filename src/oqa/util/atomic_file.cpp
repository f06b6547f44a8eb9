// Atomic writes through POSIX open/write/fsync/rename; whole-file reads with clear errors.
#include "oqa/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "oqa/util/error.h"

namespace oqa::util {
namespace fs = std::filesystem;

namespace {

Error io_error(const fs::path& path, const std::string& what) {
  return input_error(what + ": " + std::strerror(errno)).file(path.string());
}

// The test hook of the header: true when this write to `target` is the one OQA_DEBUG_ENOSPC names.
bool injected_enospc(const fs::path& target) {
  static std::mutex mutex;
  static std::string counted_spec;  // the count restarts when the hook's value changes
  static long count = 0;
  const char* env = std::getenv("OQA_DEBUG_ENOSPC");
  if (!env) return false;
  const std::string spec(env);
  std::lock_guard<std::mutex> lock(mutex);
  if (spec != counted_spec) {
    counted_spec = spec;
    count = 0;
  }
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string suffix = spec.substr(0, colon), name = target.string();
  if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  return ++count == std::atol(spec.c_str() + colon + 1);
}

// Writes all of `bytes`; an error names `target` (the file being replaced or appended to).
void write_all(int fd, std::string_view bytes, const fs::path& target) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  const bool fail_half_way = injected_enospc(target);
  if (fail_half_way) left /= 2;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error(target, "cannot write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fail_half_way) {
    errno = ENOSPC;
    throw io_error(target, "cannot write");
  }
}

// Writes all of `bytes` to `fd` and syncs it; `fd` is closed either way.
void write_sync_close(int fd, std::string_view bytes, const fs::path& target) {
  try {
    write_all(fd, bytes, target);
    if (::fsync(fd) != 0) throw io_error(target, "cannot fsync");
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void sync_dir(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some file systems do not allow it
  ::fsync(fd);
  ::close(fd);
}

std::atomic<bool> g_file_writes{true};

}  // namespace

void set_file_writes(bool enabled) { g_file_writes.store(enabled); }
bool file_writes_enabled() { return g_file_writes.load(); }

void atomic_write(const fs::path& path, std::string_view bytes,
                  const std::function<void()>& before_rename) {
  if (!file_writes_enabled()) return;
  static std::atomic<unsigned> counter{0};
  const fs::path dir = path.parent_path();
  if (!dir.empty()) ensure_dir(dir);
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(tmp, "cannot create temporary file");
  try {
    write_sync_close(fd, bytes, path);
  } catch (Error& e) {
    ::unlink(tmp.c_str());
    throw Error(e.kind(), e.message() + " (the previous file, if any, is kept)").file(path.string());
  }
  if (before_rename) before_rename();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = io_error(path, "cannot rename temporary file into place");
    ::unlink(tmp.c_str());
    throw err;
  }
  sync_dir(dir);
}

void append_synced(const fs::path& path, std::string_view bytes) {
  if (!file_writes_enabled()) return;
  const fs::path dir = path.parent_path();
  if (!dir.empty()) ensure_dir(dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(path, "cannot open for appending");
  write_sync_close(fd, bytes, path);
}

void atomic_write_with(const fs::path& path, const std::function<void(std::ostream&)>& writer) {
  if (!file_writes_enabled()) return;
  std::ostringstream out(std::ios::binary);
  writer(out);
  atomic_write(path, out.str());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errno = fs::exists(path) ? EACCES : ENOENT;
    throw io_error(path, "cannot open file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_dir(const fs::path& dir) {
  if (!file_writes_enabled()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw input_error("cannot create folder: " + ec.message()).file(dir.string());
}

}  // namespace oqa::util
