// Unknown subcommands and options, with the nearest valid spelling (util::nearest).
#include "oqa/cli/unknown_word.h"

#include "oqa/util/config.h"

namespace oqa::cli {
namespace {

std::string suggestion(const std::string& word, const std::vector<std::string>& valid) {
  const std::string near = util::nearest(word, valid);
  return near.empty() ? "" : " (did you mean '" + near + "'?)";
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

std::string unknown(const std::string& what, const std::string& word, const std::string& where,
                    const std::vector<std::string>& valid) {
  return "unknown " + what + " '" + word + "' of '" + where + "'" + suggestion(word, valid) + "; `" + where +
         " --help` lists them";
}

// Walks the words of one (sub)command level, `where` naming it ("oqa bench"): an option it does not know, or
// a first plain word that is not one of its subcommands, is the unknown word; a subcommand's words are walked
// in turn. The top level's options (--threads, --quiet) belong before the subcommand.
std::string walk(const CLI::App& app, const CLI::App& root, const std::string& where,
                 const std::vector<std::string>& args, size_t from) {
  const auto subs = app.get_subcommands([](const CLI::App*) { return true; });
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      const std::string name = a.substr(0, a.find('='));
      const CLI::Option* o = app.get_option_no_throw(name);
      if (!o && &app != &root && root.get_option_no_throw(name))
        return "option '" + name + "' belongs before the subcommand: oqa " + name + " ... " +
               where.substr(4) + " ...";
      if (!o) return unknown("option", name, where, option_names(app));
      if (a.find('=') == std::string::npos && o->get_type_size_max() > 0) ++i;  // skip its value
      continue;
    }
    if (subs.empty()) return "";  // a positional argument: CLI11 explains what is wrong with it
    std::vector<std::string> names;
    for (const CLI::App* sub : subs) {
      if (sub->get_name() == a) return walk(*sub, root, where + " " + a, args, i + 1);
      names.push_back(sub->get_name());
    }
    return unknown("subcommand", a, where, names);
  }
  return "";
}

}  // namespace

std::string unknown_word_message(const CLI::App& app, const std::vector<std::string>& args) {
  return walk(app, app, "oqa", args, 0);
}

}  // namespace oqa::cli
