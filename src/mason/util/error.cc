#include "mason/util/error.h"

#include <cerrno>
#include <cstring>

namespace mason::util {

std::string_view to_string(ErrorCode code) {
  switch (code) {
  case ErrorCode::not_found: return "not found";
  case ErrorCode::invalid_argument: return "invalid argument";
  case ErrorCode::corruption: return "corruption";
  case ErrorCode::unauthorized: return "unauthorized";
  case ErrorCode::unavailable: return "unavailable";
  case ErrorCode::unsupported: return "unsupported";
  case ErrorCode::exec_failed: return "exec failed";
  case ErrorCode::cancelled: return "cancelled";
  case ErrorCode::internal: return "internal error";
  }
  return "unknown error";
}

Error::Error(ErrorCode code, std::string message, int sys_errno)
    : m_code(code), m_errno(sys_errno), m_message(std::move(message)) {}

Error& Error::with_context(std::string what) & {
  m_context.push_back(std::move(what));
  return *this;
}

Error&& Error::with_context(std::string what) && {
  m_context.push_back(std::move(what));
  return std::move(*this);
}

std::string Error::to_string() const {
  std::string out;
  for (auto it = m_context.rbegin(); it != m_context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += m_message;
  if (m_errno != 0) {
    out += ": ";
    out += std::strerror(m_errno);
  }
  return out;
}

ErrorCode code_of_errno(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR: return ErrorCode::not_found;
  case EPERM:
  case EACCES: return ErrorCode::unauthorized;
  case ENOSYS:
  case EOPNOTSUPP: return ErrorCode::unsupported;
  case EEXIST:
  case EINVAL:
  case ELOOP:
  case EISDIR:
  case ENAMETOOLONG:
  case EXDEV:
  case EMLINK:
  case ENOTEMPTY: return ErrorCode::invalid_argument;
  default: return ErrorCode::unavailable;
  }
}

std::unexpected<Error> errno_error(std::string what, int err) {
  return make_error(code_of_errno(err), std::move(what), err);
}

} // namespace mason::util
