// The HTTP seam of the registry client: one request in, one response out.
// The client speaks to registries only through Transport, so unit tests
// can script a registry with a fake; curl_transport() is the real one.
//
// Bodies stream both ways: an upload body is a string or a range of a file
// (read with pread, so a retried request can send it again); a download
// body goes to Request::sink when the status is 2xx (error bodies are
// always collected into Response::body, at most 1 MiB, for the registry's
// error JSON).
//
// Errors from send(): only failures to get a response at all (connect,
// TLS, timeouts, a connection dropped mid-body, or the sink's own error,
// returned as is). A response of any HTTP status is a success of send().
// Codes: unavailable (network: worth retrying), unauthorized (the peer's
// certificate is not trusted: retrying does not help).
//
// Thread-safety: send() may be called from several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mason/util/error.h"

namespace mason::registry {

enum class Method { get, head, put, post, patch };
std::string_view to_string(Method method);

enum class Redirects { refuse, follow };

// Receives the body of a 2xx response chunk by chunk; an error aborts the
// transfer and becomes send()'s error.
using BodySink = std::function<util::Status(long status, std::string_view chunk)>;

struct TlsOptions {
  bool skip_verify = false; // insecure registries
};

struct Request {
  Method method = Method::get;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers; // "Accept", "..."
  // Upload body: `body`, or when body_fd >= 0 the bytes
  // [body_offset, body_offset + body_size) of that file (not owned).
  std::string body;
  int body_fd = -1;
  std::int64_t body_offset = 0;
  std::int64_t body_size = 0;
  Redirects redirects = Redirects::refuse;
  TlsOptions tls;
  BodySink sink; // empty: a 2xx body is collected into Response::body too
};

struct Response {
  long status = 0;
  // Names lower-cased; a repeated header keeps every value in order.
  std::multimap<std::string, std::string> headers;
  std::string body;
  std::string url; // where the response came from, after redirects

  // The first value of `name` (lower case), or "".
  std::string header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
};

class Transport {
public:
  virtual ~Transport() = default;
  virtual util::Result<Response> send(const Request& request) = 0;
};

struct CurlOptions {
  std::vector<std::string> ca_files; // added to the system trust store
  // Hosts that bypass a proxy ($no_proxy, read by the CLI); loopback always
  // does. libcurl itself takes the proxies from http_proxy/https_proxy.
  std::string no_proxy;
  std::chrono::seconds connect_timeout{30};
  // A transfer slower than low_speed_bytes per second for low_speed_time
  // is aborted (unavailable).
  long low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{60};
};

// libcurl with the system CAs plus options.ca_files (read now: errors name
// the file). Connections are reused per thread.
util::Result<std::unique_ptr<Transport>> curl_transport(const CurlOptions& options);

} // namespace mason::registry
