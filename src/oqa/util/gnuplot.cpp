// run_gnuplot: atomic script, one gnuplot process, whole PNGs only.
#include "oqa/util/gnuplot.h"

#include <cstdlib>
#include <filesystem>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::util {

std::string gp_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void run_gnuplot(const std::string& script_path, const std::string& script, const std::vector<std::string>& pngs,
                 const std::string& gnuplot) {
  if (!file_writes_enabled()) return;
  atomic_write(script_path, script);
  const std::string log = (std::filesystem::path(script_path).parent_path() / "gnuplot.log").string();
  const std::string cmd = gnuplot + " " + gp_quoted(script_path) + " 2>" + gp_quoted(log);
  if (std::system(cmd.c_str()) != 0)
    throw input_error("gnuplot failed (install it with scripts/install-deps.sh; its messages are in " + log + ")")
        .file(script_path);
  for (const auto& png : pngs) std::filesystem::rename(png + ".part", png);
}

}  // namespace oqa::util
