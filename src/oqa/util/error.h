// Error: the one exception type of oqa, carrying a kind (exit code) and context (file, field, value).
#pragma once

#include <stdexcept>
#include <string>

namespace oqa::util {

// Process exit codes, one per kind of failure (documented in docs/cli.md).
enum class ErrorKind : int {
  kUsage = 2,     // bad command line
  kInput = 3,     // bad data or config: a file, field or value the user can fix
  kNumeric = 4,   // training diverged (NaN/Inf loss); the last good checkpoint is kept
  kDistributed = 5,  // a data-parallel rank died, hung past the timeout or could not join
  kInternal = 70  // a bug or an unexpected failure inside oqa
};

// An error a user can read in one line: "<file>: <field> = <value>: <message>".
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message);

  // Builders for context; each returns *this so a throw can chain them.
  Error& file(std::string path);
  Error& field(std::string name);
  Error& value(std::string v);

  ErrorKind kind() const noexcept { return kind_; }
  int exit_code() const noexcept { return static_cast<int>(kind_); }
  const std::string& message() const noexcept { return message_; }
  const std::string& file_name() const noexcept { return file_; }
  const std::string& field_name() const noexcept { return field_; }
  const std::string& field_value() const noexcept { return value_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  void rebuild();
  ErrorKind kind_;
  std::string message_, file_, field_, value_, text_;
};

Error usage_error(std::string message);
Error input_error(std::string message);
Error internal_error(std::string message);

}  // namespace oqa::util

// Throws an internal error with the location when an invariant does not hold.
#define OQA_ASSERT(cond, msg)                                                                     \
  do {                                                                                            \
    if (!(cond))                                                                                  \
      throw ::oqa::util::internal_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                        ": " + (msg));                                            \
  } while (0)
