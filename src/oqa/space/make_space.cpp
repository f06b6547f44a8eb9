// make_space: dispatch on the config's "kind"; the space section of a config file.
#include "oqa/space/make_space.h"

#include "oqa/space/mbv3_space.h"
#include "oqa/space/resnet_space.h"

namespace oqa::space {

std::shared_ptr<Space> make_space(util::ConfigNode node) {
  const std::string kind = node.get_choice("kind", "mbv3", {"mbv3", "resnet"});
  if (kind == "resnet") return std::make_shared<ResNetSpace>(read_resnet_options(node));
  return std::make_shared<Mbv3Space>(read_mbv3_options(node));
}

std::shared_ptr<Space> space_from_config_file(const std::string& path) {
  util::Config full = util::Config::load(path);
  if (!full.resolved().contains("space"))
    throw util::input_error("the config has no \"space\" section (see docs/supernet.md)")
        .file(path)
        .field("space");
  util::Config config = util::Config::from_json(util::Json{{"space", full.resolved().at("space")}}, path);
  std::shared_ptr<Space> space = make_space(config.root().child("space"));
  config.check_unknown();
  return space;
}

}  // namespace oqa::space
