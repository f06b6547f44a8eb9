// FileLock through open + flock(LOCK_EX | LOCK_NB); the holder's process id is written for error messages.
#include "oqa/util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "oqa/util/error.h"

namespace oqa::util {

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    unlock();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  unlock();
}

void FileLock::unlock() {
  if (fd_ < 0) return;
  ::close(fd_);  // closing the only descriptor of this open file releases its flock
  fd_ = -1;
}

bool FileLock::try_lock(const std::filesystem::path& path, std::string* holder) {
  unlock();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw input_error(std::string("cannot open lock file: ") + std::strerror(errno)).file(path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (holder) {
      char buf[32] = {};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      *holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!holder->empty() && (holder->back() == '\n' || holder->back() == ' ')) holder->pop_back();
    }
    ::close(fd);
    if (err == EWOULDBLOCK) return false;
    throw input_error(std::string("cannot lock: ") + std::strerror(err)).file(path.string());
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    throw input_error(std::string("cannot write lock file: ") + std::strerror(errno)).file(path.string());
  }
  fd_ = fd;
  return true;
}

}  // namespace oqa::util
