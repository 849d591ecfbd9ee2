// The libcurl transport. Each thread keeps one easy handle (reset before
// every request) so connections are reused within a thread. Response
// headers are collected per response: a status line starts a new set, so
// after redirects (or a 100 Continue) only the final response's headers
// remain. The body goes to the request's sink only for 2xx statuses; curl
// does not hand over the bodies of redirects it follows. The trust store
// is the system bundle plus the extra CA files, concatenated once into a
// PEM blob (CURLOPT_CAINFO_BLOB).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "mason/registry/curl_api.h"
#include "mason/registry/transport.h"

namespace mason::registry {

namespace {

constexpr std::size_t k_error_body_limit = std::size_t{1} << 20;
constexpr std::size_t k_body_limit = std::size_t{64} << 20;
constexpr const char* k_system_bundle = "/etc/ssl/certs/ca-certificates.crt";

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

util::Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::errno_error("read CA file " + path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The state of one transfer, shared with curl's callbacks.
struct Transfer {
  const Request* request = nullptr;
  CURL* handle = nullptr;
  Response response;
  std::int64_t sent = 0;
  std::optional<util::Error> sink_error;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();
    return line.size();
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos)
    t->response.headers.emplace(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  return line.size();
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * count);
  long status = 0;
  curl::getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  const bool ok = status >= 200 && status < 300;
  if (ok && t->request->sink) {
    auto fed = t->request->sink(status, chunk);
    if (!fed) {
      t->sink_error = fed.error();
      return 0; // aborts the transfer
    }
    return chunk.size();
  }
  const auto limit = ok ? k_body_limit : k_error_body_limit;
  if (t->response.body.size() < limit)
    t->response.body.append(chunk.substr(0, limit - t->response.body.size()));
  return chunk.size();
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto& r = *t->request;
  const auto total = r.body_fd >= 0 ? r.body_size : static_cast<std::int64_t>(r.body.size());
  const auto want =
      std::min<std::int64_t>(static_cast<std::int64_t>(size * count), total - t->sent);
  if (want <= 0) return 0;
  if (r.body_fd < 0) {
    std::copy_n(r.body.data() + t->sent, want, buffer);
    t->sent += want;
    return static_cast<std::size_t>(want);
  }
  const auto n =
      ::pread(r.body_fd, buffer, static_cast<std::size_t>(want), r.body_offset + t->sent);
  if (n <= 0) return CURL_READFUNC_ABORT;
  t->sent += n;
  return static_cast<std::size_t>(n);
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = offset;
  return CURL_SEEKFUNC_OK;
}

// One easy handle per thread, cleaned up when the thread ends.
struct ThreadHandle {
  CURL* handle = nullptr;
  ~ThreadHandle() {
    if (handle) curl::loaded().easy_cleanup(handle);
  }
};

CURL* thread_handle() {
  thread_local ThreadHandle owner;
  if (!owner.handle)
    owner.handle = curl::loaded().easy_init();
  else
    curl::loaded().easy_reset(owner.handle);
  return owner.handle;
}

// The user's list, and loopback (a registry a test or a developer starts
// on this machine is never reached through a proxy).
std::string no_proxy_list(const std::string& user) {
  const std::string loopback = "localhost,127.0.0.1,::1";
  return user.empty() ? loopback : user + "," + loopback;
}

util::Error curl_error(const Request& r, CURLcode code, const char* detail) {
  std::string message =
      std::string(to_string(r.method)) + " " + r.url + ": " + curl::loaded().easy_strerror(code);
  if (detail && *detail) message += std::string(": ") + detail;
  const bool untrusted = code == CURLE_PEER_FAILED_VERIFICATION;
  return {untrusted ? util::ErrorCode::unauthorized : util::ErrorCode::unavailable, message};
}

class CurlTransport final : public Transport {
public:
  CurlTransport(CurlOptions options, std::string ca_bundle)
      : m_options(std::move(options)), m_ca_bundle(std::move(ca_bundle)) {}
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  ~CurlTransport() override = default;

  util::Result<Response> send(const Request& request) override {
    Transfer t;
    t.request = &request;
    t.handle = thread_handle();
    if (!t.handle) return util::make_error(util::ErrorCode::internal, "curl_easy_init failed");
    curl_slist* headers = set_options(t);
    char detail[CURL_ERROR_SIZE] = {};
    curl::setopt(t.handle, CURLOPT_ERRORBUFFER, detail);
    const auto code = curl::loaded().easy_perform(t.handle);
    curl::loaded().slist_free_all(headers);
    if (t.sink_error) return std::unexpected(*t.sink_error);
    if (code != CURLE_OK) return std::unexpected(curl_error(request, code, detail));
    curl::getinfo(t.handle, CURLINFO_RESPONSE_CODE, &t.response.status);
    char* url = nullptr;
    curl::getinfo(t.handle, CURLINFO_EFFECTIVE_URL, &url);
    t.response.url = url ? url : request.url;
    return std::move(t.response);
  }

private:
  curl_slist* set_options(Transfer& t) const {
    const auto& r = *t.request;
    CURL* h = t.handle;
    curl::setopt(h, CURLOPT_URL, r.url.c_str());
    curl::setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl::setopt(h, CURLOPT_NOPROXY, m_no_proxy.c_str());
    curl::setopt(h, CURLOPT_USERAGENT, "mason");
    curl::setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(m_options.connect_timeout.count()));
    curl::setopt(h, CURLOPT_LOW_SPEED_LIMIT, m_options.low_speed_bytes);
    curl::setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_options.low_speed_time.count()));
    curl::setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl::setopt(h, CURLOPT_HEADERDATA, &t);
    curl::setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl::setopt(h, CURLOPT_WRITEDATA, &t);
    curl::setopt(h, CURLOPT_FOLLOWLOCATION, r.redirects == Redirects::follow ? 1L : 0L);
    curl::setopt(h, CURLOPT_MAXREDIRS, 10L);
    set_tls(h, r.tls);
    set_method(t);
    curl_slist* list = curl::loaded().slist_append(nullptr, "Expect:");
    for (const auto& [name, value] : r.headers)
      list = curl::loaded().slist_append(list, (name + ": " + value).c_str());
    curl::setopt(h, CURLOPT_HTTPHEADER, list);
    return list;
  }

  void set_tls(CURL* h, const TlsOptions& tls) const {
    if (tls.skip_verify) {
      curl::setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl::setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
      return;
    }
    if (m_ca_bundle.empty()) return;
    curl_blob blob{const_cast<char*>(m_ca_bundle.data()), m_ca_bundle.size(), CURL_BLOB_NOCOPY};
    curl::setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }

  static void set_method(Transfer& t) {
    const auto& r = *t.request;
    CURL* h = t.handle;
    if (r.method == Method::get) return (void)curl::setopt(h, CURLOPT_HTTPGET, 1L);
    if (r.method == Method::head) return (void)curl::setopt(h, CURLOPT_NOBODY, 1L);
    const auto size = r.body_fd >= 0 ? r.body_size : static_cast<std::int64_t>(r.body.size());
    curl::setopt(h, CURLOPT_UPLOAD, 1L);
    curl::setopt(h, CURLOPT_CUSTOMREQUEST, std::string(to_string(r.method)).c_str());
    curl::setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    curl::setopt(h, CURLOPT_READFUNCTION, on_read);
    curl::setopt(h, CURLOPT_READDATA, &t);
    curl::setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl::setopt(h, CURLOPT_SEEKDATA, &t);
  }

  CurlOptions m_options;
  std::string m_ca_bundle; // empty: curl's default trust store
  std::string m_no_proxy = no_proxy_list(m_options.no_proxy);
};

} // namespace

std::string_view to_string(Method method) {
  switch (method) {
  case Method::get: return "GET";
  case Method::head: return "HEAD";
  case Method::put: return "PUT";
  case Method::post: return "POST";
  case Method::patch: return "PATCH";
  }
  return "GET";
}

std::string Response::header(std::string_view name) const {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::vector<std::string> Response::header_values(std::string_view name) const {
  std::vector<std::string> values;
  const auto [begin, end] = headers.equal_range(std::string(name));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

util::Result<std::unique_ptr<Transport>> curl_transport(const CurlOptions& options) {
  MASON_TRY(curl::api());
  std::string bundle;
  if (!options.ca_files.empty()) {
    if (auto system = read_text_file(k_system_bundle)) bundle = *system + "\n";
    for (const auto& file : options.ca_files) {
      MASON_TRY_ASSIGN(auto text, read_text_file(file));
      bundle += text + "\n";
    }
  }
  return std::make_unique<CurlTransport>(options, std::move(bundle));
}

} // namespace mason::registry
