// One error model for all of mason (see docs/errors.md).
//
// Every fallible function returns Result<T>. An Error carries a code, an
// errno where one exists, a message, and a chain of context strings added
// by callers on the way up ("parse Dockerfile", "open blob sha256:..").
// No exceptions cross module boundaries; only main() turns an Error into an
// exit code.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mason::util {

enum class ErrorCode {
  not_found,
  invalid_argument,
  corruption,
  unauthorized,
  unavailable,
  unsupported,
  exec_failed,
  cancelled,
  internal,
};

std::string_view to_string(ErrorCode code);

class Error {
public:
  Error(ErrorCode code, std::string message, int sys_errno = 0);

  ErrorCode code() const { return m_code; }
  int sys_errno() const { return m_errno; }
  const std::string& message() const { return m_message; }
  const std::vector<std::string>& context() const { return m_context; }

  // Adds an outer context ("while doing X"); returns *this for chaining.
  Error& with_context(std::string what) &;
  Error&& with_context(std::string what) &&;

  // "outer: inner: message[: strerror]" as printed to users.
  std::string to_string() const;

private:
  ErrorCode m_code;
  int m_errno;
  std::string m_message;
  std::vector<std::string> m_context; // innermost first
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Shorthand for `return make_error(...)` in functions returning Result<T>.
inline std::unexpected<Error> make_error(ErrorCode code, std::string message, int sys_errno = 0) {
  return std::unexpected<Error>(Error(code, std::move(message), sys_errno));
}

// Propagation, for the common case of passing an error up unchanged (add
// context with with_context() and an explicit return instead):
//
//   MASON_TRY(store.put(x));                   // a Result or a Status
//   MASON_TRY_ASSIGN(auto fd, open_blob(d));   // fd: the value, moved out
//
// On an error, the enclosing function (or lambda) returns it; its own
// Result type may hold another value type.
#define MASON_TRY(...)                                                                             \
  do {                                                                                             \
    if (auto mason_try_result = (__VA_ARGS__); !mason_try_result)                                  \
      return std::unexpected(std::move(mason_try_result).error());                                 \
  } while (false)
#define MASON_TRY_ASSIGN(decl, ...)                                                                \
  MASON_TRY_ASSIGN_AT(MASON_TRY_CONCAT(mason_try_, __LINE__), decl, __VA_ARGS__)
#define MASON_TRY_ASSIGN_AT(tmp, decl, ...)                                                        \
  auto tmp = (__VA_ARGS__);                                                                        \
  if (!tmp) return std::unexpected(std::move(tmp).error());                                        \
  decl = std::move(*tmp)
#define MASON_TRY_CONCAT(a, b) MASON_TRY_CONCAT_INNER(a, b)
#define MASON_TRY_CONCAT_INNER(a, b) a##b

// The ErrorCode that best describes an errno value: ENOENT/ENOTDIR →
// not_found, EPERM/EACCES → unauthorized, ENOSYS/EOPNOTSUPP → unsupported,
// EEXIST/EINVAL/ELOOP/EISDIR/ENAMETOOLONG/EXDEV/EMLINK/ENOTEMPTY →
// invalid_argument, the rest (EIO, ENOSPC, EMFILE, EWOULDBLOCK, ...) →
// unavailable.
ErrorCode code_of_errno(int err);

// The one constructor of errno errors: make_error(code_of_errno(err), what,
// err). `what` says what was done to what ("mkdir \"a/b\""); the errno
// text is appended by Error::to_string.
std::unexpected<Error> errno_error(std::string what, int err);

} // namespace mason::util
