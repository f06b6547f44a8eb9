// widths.png: channels of every width group, base architecture against the searched one, with gnuplot.
#include "oqa/nce/width_plot.h"

#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"
#include "oqa/util/gnuplot.h"

namespace oqa::nce {

bool plot_widths(const std::string& run_dir, const nlohmann::json& result) {
  std::ostringstream data;
  int i = 0;
  for (const auto& g : result.at("groups"))
    data << fmt::format("{} \"{}\" {} {} {}\n", i++, g.at("name").get<std::string>(),
                        g.at("base").get<int64_t>(), g.at("found").get<int64_t>(),
                        g.at("candidates").back().get<int64_t>());
  const std::string dat = run_dir + "/widths.dat", png = run_dir + "/widths.png";
  util::atomic_write(dat, data.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,480\nset output " << util::gp_quoted(png + ".part") << "\n"
     << fmt::format("set title 'channel widths: base against found ({} {} budget)'\n",
                    result.at("metric").get<std::string>(), result.at("budget").get<std::string>())
     << "set ylabel 'channels'\nset xtics rotate by -40\nset key top left\nset grid ytics\n"
     << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8\n"
     << "plot " << util::gp_quoted(dat) << " using 3:xtic(2) title 'base', '' using 4 title 'found', "
     << "'' using 5 title 'widest candidate' fill empty\n";
  try {
    util::run_gnuplot(run_dir + "/widths.gp", gp.str(), {png});
  } catch (const util::Error& err) {
    spdlog::warn("nce: no width plot: {}", err.what());
    return false;
  }
  return true;
}

}  // namespace oqa::nce
