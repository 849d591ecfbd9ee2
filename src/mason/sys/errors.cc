// errno classification and message quoting.
#include "mason/sys/errors.h"

#include <cerrno>

namespace mason::sys {

util::ErrorCode code_of_errno(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR: return util::ErrorCode::not_found;
  case EPERM:
  case EACCES: return util::ErrorCode::unauthorized;
  case ENOSYS:
  case EOPNOTSUPP: return util::ErrorCode::unsupported;
  case EEXIST:
  case EINVAL:
  case ELOOP:
  case EISDIR:
  case ENAMETOOLONG:
  case EXDEV:
  case EMLINK:
  case ENOTEMPTY: return util::ErrorCode::invalid_argument;
  default: return util::ErrorCode::unavailable;
  }
}

std::unexpected<util::Error> errno_error(std::string what, int err) {
  return util::make_error(code_of_errno(err), std::move(what), err);
}

std::string quote(std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

} // namespace mason::sys
