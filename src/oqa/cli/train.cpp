// `oqa train`: placeholder until the trainer lands.
#include "oqa/cli/commands.h"
#include "oqa/util/error.h"

namespace oqa::cli {

Runner add_train(CLI::App& app, const GlobalOptions&) {
  return [&app]() -> int { throw util::internal_error("train: not built yet"); };
}

}  // namespace oqa::cli
