// Error formatting: one readable line from kind, context and message.
#include "oqa/util/error.h"

namespace oqa::util {

Error::Error(ErrorKind kind, std::string message)
    : std::runtime_error(message), kind_(kind), message_(std::move(message)) {
  rebuild();
}

Error& Error::file(std::string path) {
  file_ = std::move(path);
  rebuild();
  return *this;
}

Error& Error::field(std::string name) {
  field_ = std::move(name);
  rebuild();
  return *this;
}

Error& Error::value(std::string v) {
  value_ = std::move(v);
  rebuild();
  return *this;
}

void Error::rebuild() {
  text_.clear();
  if (!file_.empty()) text_ += file_ + ": ";
  if (!field_.empty()) {
    text_ += "field '" + field_ + "'";
    if (!value_.empty()) text_ += " = " + value_;
    text_ += ": ";
  } else if (!value_.empty()) {
    text_ += "value " + value_ + ": ";
  }
  text_ += message_;
}

Error usage_error(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }
Error input_error(std::string message) { return Error(ErrorKind::kInput, std::move(message)); }
Error internal_error(std::string message) { return Error(ErrorKind::kInternal, std::move(message)); }

}  // namespace oqa::util
