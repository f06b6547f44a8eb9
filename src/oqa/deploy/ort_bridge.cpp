// ONNX Runtime bridge: temp files, a node child process running tools/ort_run.js, and its JSON reply.
#include "oqa/deploy/ort_bridge.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

#ifndef OQA_SOURCE_DIR
#error "OQA_SOURCE_DIR must be defined (CMake sets it to the project source folder)"
#endif

namespace oqa::deploy {
namespace {

namespace fs = std::filesystem;

// A file made by mkstemp under $TMPDIR (or /tmp), removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/oqa-ort-" + stem + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const int fd = ::mkstemp(buf.data());
    if (fd < 0)
      throw util::input_error("cannot create a temporary file (set TMPDIR to a writable folder)")
          .file(pattern);
    ::close(fd);
    path_ = buf.data();
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CommandResult {
  int status = -1;  // exit status; 127: the shell did not find the program
  std::string out;
};

// Runs `command` through /bin/sh, capturing stdout (stderr as the command redirects it).
CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw util::internal_error("popen failed for: " + command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.status = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1,
                     end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

fs::path package_dir(const std::string& script) {
  return fs::path(script).parent_path() / ".." / "third_party" / "npm" / "node_modules" / "onnxruntime-node";
}

bool node_runs(const std::string& node) {
  return run_command(shell_quote(node) + " --version >/dev/null 2>&1").status == 0;
}

void check_options(const OrtOptions& o) {
  auto positive = [](int v, const char* field, int min) {
    if (v < min)
      throw util::usage_error("must be >= " + std::to_string(min)).field(field).value(std::to_string(v));
  };
  positive(o.batch, "batch", 1);
  positive(o.threads, "threads", 1);
  positive(o.repeat, "repeat", 1);
  positive(o.warmup, "warmup", 0);
}

}  // namespace

std::string default_ort_script() {
  const char* env = std::getenv("OQA_ORT_SCRIPT");
  if (env && *env) return env;
  return std::string(OQA_SOURCE_DIR) + "/tools/ort_run.js";
}

bool onnx_runtime_available(std::string* why, const OrtOptions& o) {
  auto no = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (!node_runs(o.node)) return no("node not found ('" + o.node + "' does not run)");
  if (!fs::exists(o.script)) return no("ONNX Runtime runner script not found: " + o.script);
  const fs::path pkg = package_dir(o.script);
  if (!fs::exists(pkg / "package.json"))
    return no("onnxruntime-node not installed: run scripts/install-deps.sh (looked in " + pkg.string() + ")");
  TempFile err("check");
  const CommandResult r = run_command(shell_quote(o.node) + " -e 'require(process.argv[1])' " +
                                      shell_quote(pkg.string()) + " 2>" + shell_quote(err.path()));
  if (r.status != 0)
    return no("onnxruntime-node cannot be loaded: " + first_line(util::read_file(err.path())));
  if (why) why->clear();
  return true;
}

OrtResult run_onnx_runtime(const std::string& model_path, const torch::Tensor& inputs, const OrtOptions& o) {
  check_options(o);
  if (!fs::exists(model_path)) throw util::input_error("ONNX model not found").file(model_path);
  if (!inputs.defined() || inputs.dim() != 4 || inputs.size(0) < 1)
    throw util::input_error("ONNX Runtime inputs must be a non-empty [N, C, H, W] tensor")
        .field("inputs")
        .value(inputs.defined() ? std::to_string(inputs.dim()) + "-d" : "undefined");
  if (!fs::exists(o.script))
    throw util::input_error("ONNX Runtime runner script not found (set OQA_ORT_SCRIPT)").file(o.script);

  const torch::Tensor x = inputs.detach().to(torch::kCPU, torch::kFloat).contiguous();
  TempFile in("in"), out("out"), err("err");
  util::atomic_write(in.path(), std::string_view(static_cast<const char*>(x.data_ptr()), x.nbytes()));

  std::ostringstream shape;
  shape << x.size(0) << ',' << x.size(1) << ',' << x.size(2) << ',' << x.size(3);
  const std::string command = shell_quote(o.node) + " " + shell_quote(o.script) + " --model " +
                              shell_quote(model_path) + " --input " + shell_quote(in.path()) + " --shape " +
                              shape.str() + " --output " + shell_quote(out.path()) + " --batch " +
                              std::to_string(o.batch) + " --threads " + std::to_string(o.threads) +
                              " --repeat " + std::to_string(o.repeat) + " --warmup " +
                              std::to_string(o.warmup) + " 2>" + shell_quote(err.path());
  const CommandResult r = run_command(command);
  if (r.status != 0) {
    if (r.status == 127 && !node_runs(o.node))
      throw util::input_error("node not found: install Node.js (scripts/install-deps.sh)")
          .field("node")
          .value(o.node);
    throw util::input_error("ONNX Runtime failed: " + first_line(util::read_file(err.path())))
        .file(model_path);
  }

  nlohmann::json reply;
  const std::string line = last_line(r.out);
  try {
    reply = nlohmann::json::parse(line);
  } catch (const std::exception&) {
    throw util::internal_error("ONNX Runtime runner printed no JSON line: '" + line + "'").file(o.script);
  }
  OrtResult result;
  std::vector<int64_t> dims;
  try {
    dims = reply.at("outputs").get<std::vector<int64_t>>();
    result.seconds = reply.at("seconds").get<double>();
    result.per_batch_ms = reply.at("per_batch_ms").get<double>();
    result.version = reply.at("ort_version").get<std::string>();
  } catch (const std::exception& e) {
    throw util::internal_error(std::string("bad ONNX Runtime runner reply: ") + e.what()).value(line);
  }
  const std::string bytes = util::read_file(out.path());
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  if (dims.empty() || dims[0] != x.size(0) || static_cast<int64_t>(bytes.size()) != count * 4)
    throw util::internal_error("ONNX Runtime output size does not match its shape")
        .file(out.path())
        .value(std::to_string(bytes.size()) + " bytes");
  result.logits = torch::empty(dims, torch::kFloat);
  std::memcpy(result.logits.data_ptr(), bytes.data(), bytes.size());
  return result;
}

}  // namespace oqa::deploy
