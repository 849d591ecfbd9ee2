// The libcurl fetcher: one easy handle per download, the body streamed to
// the file and into SHA-256 from the write callback. libcurl's global
// state is initialised once, on first use.
#include "mason/ops/fetch_http.h"

#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string_view>
#include <unistd.h>

#include "mason/registry/curl_api.h"
#include "mason/util/sha256.h"

namespace mason::ops {

namespace {

constexpr long k_max_redirects = 10;
constexpr long k_connect_timeout_s = 60;
constexpr long k_low_speed_time_s = 300; // abort when below 1 byte/s this long

struct Sink {
  int fd = -1;
  util::Sha256 hash;
  std::uint64_t size = 0;
  int write_errno = 0;
  std::string etag; // of the last response (redirects have their own)
};

// Header lines: keeps the ETag's value (a new response clears it).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) sink->etag.clear();
  constexpr std::string_view k_name = "etag:";
  if (line.size() > k_name.size()) {
    std::string lower(line.substr(0, k_name.size()));
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower == k_name) {
      auto value = line.substr(k_name.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' ||
                                value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      sink->etag = std::string(value);
    }
  }
  return n;
}

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  for (std::size_t off = 0; off < n;) {
    const ssize_t w = ::write(sink->fd, data + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      sink->write_errno = errno;
      return 0; // makes curl fail with CURLE_WRITE_ERROR
    }
    off += static_cast<std::size_t>(w);
  }
  sink->hash.update(data, n);
  sink->size += n;
  return n;
}

struct EasyDeleter {
  void operator()(CURL* c) const { registry::curl::loaded().easy_cleanup(c); }
};

void configure(CURL* c, const std::string& url, Sink& sink, char* error_buf) {
  registry::curl::setopt(c, CURLOPT_URL, url.c_str());
  registry::curl::setopt(c, CURLOPT_WRITEFUNCTION, &on_data);
  registry::curl::setopt(c, CURLOPT_WRITEDATA, &sink);
  registry::curl::setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  registry::curl::setopt(c, CURLOPT_HEADERDATA, &sink);
  registry::curl::setopt(c, CURLOPT_ERRORBUFFER, error_buf);
  registry::curl::setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  registry::curl::setopt(c, CURLOPT_MAXREDIRS, k_max_redirects);
  registry::curl::setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  registry::curl::setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  registry::curl::setopt(c, CURLOPT_FILETIME, 1L);
  registry::curl::setopt(c, CURLOPT_NOSIGNAL, 1L);
  registry::curl::setopt(c, CURLOPT_CONNECTTIMEOUT, k_connect_timeout_s);
  registry::curl::setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  registry::curl::setopt(c, CURLOPT_LOW_SPEED_TIME, k_low_speed_time_s);
  registry::curl::setopt(c, CURLOPT_USERAGENT, "mason");
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { registry::curl::loaded().slist_free_all(l); }
};

class CurlFetcher final : public HttpFetcher {
public:
  util::Result<FetchResult> fetch(const std::string& url, int out_fd) override {
    return get(url, out_fd, "");
  }
  util::Result<FetchResult> fetch_if_changed(const std::string& url, int out_fd,
                                             const std::string& etag) override {
    return get(url, out_fd, etag);
  }

private:
  static util::Result<FetchResult> get(const std::string& url, int out_fd,
                                       const std::string& etag) {
    if (auto loaded = registry::curl::api(); !loaded)
      return std::unexpected(std::move(loaded.error()).with_context("GET " + url));
    std::unique_ptr<CURL, EasyDeleter> c(registry::curl::loaded().easy_init());
    if (!c) return util::make_error(util::ErrorCode::internal, "GET " + url + ": curl_easy_init");
    Sink sink;
    sink.fd = out_fd;
    char error_buf[CURL_ERROR_SIZE] = {};
    configure(c.get(), url, sink, error_buf);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    if (!etag.empty()) {
      const std::string line = "If-None-Match: " + etag;
      headers.reset(registry::curl::loaded().slist_append(nullptr, line.c_str()));
      if (!headers)
        return util::make_error(util::ErrorCode::internal, "GET " + url + ": curl_slist_append");
      registry::curl::setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
    }
    const CURLcode rc = registry::curl::loaded().easy_perform(c.get());
    if (rc != CURLE_OK) {
      const std::string detail =
          error_buf[0] != '\0' ? error_buf : registry::curl::loaded().easy_strerror(rc);
      return util::make_error(util::ErrorCode::unavailable, "GET " + url + ": " + detail,
                              sink.write_errno);
    }
    long status = 0;
    registry::curl::getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status == 304 && !etag.empty()) {
      FetchResult out;
      out.not_modified = true;
      out.etag = sink.etag.empty() ? etag : sink.etag;
      return out;
    }
    if (status < 200 || status >= 400)
      return util::make_error(util::ErrorCode::unavailable,
                              "GET " + url + ": invalid response status " + std::to_string(status));
    curl_off_t filetime = -1;
    registry::curl::getinfo(c.get(), CURLINFO_FILETIME_T, &filetime);
    FetchResult out;
    out.sha256_hex = sink.hash.finish_hex();
    out.size = sink.size;
    out.etag = sink.etag;
    if (filetime >= 0) out.last_modified = static_cast<std::int64_t>(filetime);
    return out;
  }
};

} // namespace

HttpFetcher& default_http_fetcher() {
  static CurlFetcher fetcher;
  return fetcher;
}

} // namespace mason::ops
