// Run directories: the marker that says oqa made a folder, the lock one `oqa train` holds on it, and the
// removal of a run's own files that `--force` may do (nothing else in the folder is touched).
#pragma once

#include <string>
#include <vector>

#include "oqa/util/file_lock.h"

namespace oqa::pipeline {

inline constexpr const char* kRunMarker = ".oqa-run";  // {"format": "oqa-run", "version": 1, "oqa": ...}
inline constexpr const char* kRunLock = ".oqa-lock";   // flock'ed by the process training the run

// True when `dir` holds a marker written by oqa.
bool is_oqa_run(const std::string& dir);
void write_run_marker(const std::string& dir);

// Takes the run's lock, or throws an input error naming the folder and the process that holds it.
util::FileLock lock_run(const std::string& dir);

// Removes what oqa writes in a run directory (config, metrics, summary, stage folders, search and export
// outputs); returns the names of the entries it left because oqa did not write them. Refused without a
// marker.
std::vector<std::string> remove_run_files(const std::string& dir);

// What `oqa train` does before training: a new run refuses a folder that holds a run unless `force`, and
// `force` refuses a folder oqa did not mark; a resumed run must hold a config.json. Returns the held lock.
util::FileLock claim_run_dir(const std::string& dir, bool resume, bool force);

}  // namespace oqa::pipeline
