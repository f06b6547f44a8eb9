// Run directory marker, lock and --force removal.
#include "oqa/pipeline/run_dir.h"

#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"
#include "oqa/util/error.h"

namespace oqa::pipeline {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMarkerFormat = "oqa-run";

// A file oqa writes at the top of a run, or an atomic write's temporary copy of one ("config.json.tmp.12.3").
bool is_run_file(const std::string& name) {
  static const std::set<std::string> files = {"config.json", "metrics.jsonl", "summary.json"};
  if (files.count(name)) return true;
  const auto tmp = name.find(".tmp.");
  return tmp != std::string::npos && files.count(name.substr(0, tmp));
}

// A folder oqa writes: search and export outputs, plots, or a stage folder (it holds a stage's own files).
bool is_run_folder(const fs::path& p) {
  static const std::set<std::string> folders = {"search", "export", "plots"};
  if (folders.count(p.filename().string())) return true;
  return fs::exists(p / "init.json") || fs::exists(p / "result.json") || fs::is_directory(p / "checkpoints");
}

}  // namespace

bool is_oqa_run(const std::string& dir) {
  const fs::path marker = fs::path(dir) / kRunMarker;
  if (!fs::is_regular_file(marker)) return false;
  try {
    return util::read_json(marker.string()).value("format", "") == kMarkerFormat;
  } catch (const util::Error&) {
    return false;
  }
}

void write_run_marker(const std::string& dir) {
  util::write_json((fs::path(dir) / kRunMarker).string(),
                   {{"format", kMarkerFormat}, {"version", 1}, {"oqa", OQA_VERSION}});
}

util::FileLock lock_run(const std::string& dir) {
  util::FileLock lock;
  std::string holder;
  if (!lock.try_lock(fs::path(dir) / kRunLock, &holder))
    throw util::input_error("run directory is in use by another oqa process" +
                            (holder.empty() ? std::string() : " (pid " + holder + ")") +
                            "; wait for it to finish or stop it")
        .file(dir);
  return lock;
}

std::vector<std::string> remove_run_files(const std::string& dir) {
  if (!is_oqa_run(dir))
    throw util::input_error(std::string("not a folder oqa made (no ") + kRunMarker +
                            " marker): oqa removes nothing here; choose another --out or empty it yourself")
        .file(dir);
  std::vector<std::string> kept;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == kRunMarker || name == kRunLock) continue;  // rewritten / held by this process
    const bool ours = entry.is_directory() && !entry.is_symlink()
                          ? is_run_folder(entry.path())
                          : entry.is_regular_file() && is_run_file(name);
    if (!ours) {
      kept.push_back(name);
      continue;
    }
    std::error_code ec;
    fs::remove_all(entry.path(), ec);
    if (ec) throw util::input_error("cannot remove: " + ec.message()).file(entry.path().string());
  }
  return kept;
}

util::FileLock claim_run_dir(const std::string& dir, bool resume, bool force) {
  const bool holds_run = fs::exists(fs::path(dir) / "config.json");
  if (resume && !holds_run) throw util::input_error("holds no run (no config.json)").file(dir);
  if (!resume && holds_run) {
    if (!force)
      throw util::usage_error("run directory already holds a run: pass --resume " + dir +
                              " to continue it, or --force to start it over")
          .file(dir);
    if (!is_oqa_run(dir))
      throw util::input_error(
          std::string("--force: this folder holds a config.json but no ") + kRunMarker +
          " marker, so oqa did not make it (or an oqa older than run markers did): oqa removes "
          "nothing here; choose another --out, or empty the folder yourself")
          .file(dir);
  }
  util::ensure_dir(dir);
  util::FileLock lock = lock_run(dir);
  if (!resume && holds_run) {
    const auto kept = remove_run_files(dir);
    if (!kept.empty())
      spdlog::info("--force: removed the previous run in {}; kept {} entries oqa did not write (first: {})",
                   dir, kept.size(), kept.front());
  }
  if (!is_oqa_run(dir)) write_run_marker(dir);
  return lock;
}

}  // namespace oqa::pipeline
