// FileLock: an exclusive advisory lock (flock) on a file, held while the object lives; a killed holder
// releases it, so a lock file left behind never blocks anyone.
#pragma once

#include <filesystem>
#include <string>

namespace oqa::util {

class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  ~FileLock();

  // Takes the lock on `path` (created when missing) without waiting and writes this process's id into it.
  // Returns false when another open file holds it; `holder` then gets the id written by the holder.
  bool try_lock(const std::filesystem::path& path, std::string* holder = nullptr);
  bool locked() const { return fd_ >= 0; }
  void unlock();

 private:
  int fd_ = -1;
};

}  // namespace oqa::util
