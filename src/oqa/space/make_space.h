// make_space: builds a search space from a config section ("kind": "mbv3" | "resnet").
#pragma once

#include <memory>
#include <string>

#include "oqa/space/space.h"
#include "oqa/util/config.h"

namespace oqa::space {

// Reads node's keys with typed defaults (every key is recorded, so Config::check_unknown catches typos) and
// builds the space. Errors name the config file and the field.
std::shared_ptr<Space> make_space(util::ConfigNode node);

// The space of an experiment config file's "space" section. Unknown keys inside the section are errors naming
// the file and "space.<key>"; the other sections are left to their own readers.
std::shared_ptr<Space> space_from_config_file(const std::string& path);

}  // namespace oqa::space
