// Atomic file writes (temp file in the same folder, fsync, rename, fsync folder), synced appends and checked
// reads. Test hook: OQA_DEBUG_ENOSPC="SUFFIX:N" makes the N-th write (counted from 1) to a file whose name
// ends with SUFFIX fail half-way with "No space left on device", as a full disk would.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace oqa::util {

// Process-wide switch of every write below (and of gnuplot): off in the ranks other than 0 of a data-parallel
// run, which compute what rank 0 computes but leave its files to it. On by default.
void set_file_writes(bool enabled);
bool file_writes_enabled();

// Replaces `path` with `bytes` so that a crash at any moment leaves either the old or the new file.
// `before_rename` runs after the data is synced and before the rename (tests use it to die there).
void atomic_write(const std::filesystem::path& path, std::string_view bytes,
                  const std::function<void()>& before_rename = {});

// Same, with the content produced by a writer into a string stream.
void atomic_write_with(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& writer);

// Appends `bytes` to `path` (created when missing) and syncs it: a crash loses at most a cut last line.
void append_synced(const std::filesystem::path& path, std::string_view bytes);

// Reads a whole file; a missing or unreadable file is an input error naming it.
std::string read_file(const std::filesystem::path& path);

// Creates a folder and its parents; an error names the folder.
void ensure_dir(const std::filesystem::path& dir);

}  // namespace oqa::util
