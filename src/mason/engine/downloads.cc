#include "mason/engine/downloads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mason/ops/copy_tree.h"
#include "mason/sys/file.h"
#include "mason/util/sha256.h"
#include "mason/util/unique_fd.h"

namespace mason::engine {

namespace {

std::optional<ops::FetchResult> read_meta(const std::string& path, const std::string& url) {
  auto text = sys::read_file(path);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || j.value("url", "") != url || !j.contains("etag") ||
      !j["etag"].is_string() || j["etag"].get<std::string>().empty() || !j.contains("sha256") ||
      !j["sha256"].is_string() || j["sha256"].get<std::string>().size() != 64 ||
      !j.contains("size") || !j["size"].is_number_unsigned())
    return std::nullopt;
  ops::FetchResult out;
  out.etag = j["etag"].get<std::string>();
  out.sha256_hex = j["sha256"].get<std::string>();
  out.size = j["size"].get<std::uint64_t>();
  if (j.contains("last_modified") && j["last_modified"].is_number_integer())
    out.last_modified = j["last_modified"].get<std::int64_t>();
  return out;
}

// Written whole to a temporary name, then renamed: a reader sees the old
// file or the new one. Best effort (a lost file costs a download).
void write_meta(const std::string& path, const std::string& url, const ops::FetchResult& r) {
  nlohmann::json j = {{"url", url}, {"etag", r.etag}, {"sha256", r.sha256_hex}, {"size", r.size}};
  if (r.last_modified) j["last_modified"] = *r.last_modified;
  const std::string text = j.dump();
  (void)sys::write_file_atomic(path, text, 0600, sys::Durability::best_effort);
}

} // namespace

Downloads::Downloads(std::string dir, std::string meta_dir, ops::HttpFetcher* upstream)
    : m_dir(std::move(dir)), m_meta_dir(std::move(meta_dir)), m_upstream(upstream) {}

std::string Downloads::meta_path(const std::string& url) const {
  return m_meta_dir + "/" + util::Sha256::hex_of(url).substr(0, 32) + ".json";
}

Downloads::Entry& Downloads::entry_of(const std::string& url) {
  const std::lock_guard guard(m_mutex);
  auto& slot = m_entries[url];
  if (!slot) slot = std::make_unique<Entry>();
  return *slot;
}

// A new file in m_dir with the body of `url` (conditional on `etag` when
// not empty: on 304 no file is kept and the path is empty).
util::Result<std::string> Downloads::download(const std::string& url, const std::string& etag,
                                              ops::FetchResult& out) {
  std::string path;
  {
    const std::lock_guard guard(m_mutex);
    path = m_dir + "/" + std::to_string(m_next++);
  }
  if (::mkdir(m_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return util::errno_error("create " + m_dir, errno);
  util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return util::errno_error("create " + path, errno);
  ops::HttpFetcher& upstream = m_upstream != nullptr ? *m_upstream : ops::default_http_fetcher();
  auto got =
      etag.empty() ? upstream.fetch(url, fd.get()) : upstream.fetch_if_changed(url, fd.get(), etag);
  if (!got || got->not_modified) ::unlink(path.c_str());
  if (!got) return std::unexpected(got.error());
  out = *got;
  return got->not_modified ? std::string() : path;
}

util::Status Downloads::resolve(const std::string& url, Entry& entry) {
  if (entry.known) return {};
  std::optional<ops::FetchResult> kept;
  if (!m_meta_dir.empty()) kept = read_meta(meta_path(url), url);
  ops::FetchResult got;
  MASON_TRY_ASSIGN(auto path, download(url, kept ? kept->etag : std::string(), got));
  if (got.not_modified && kept) {
    entry.result = *kept;
  } else {
    entry.result = got;
    entry.path = path;
    if (!m_meta_dir.empty()) {
      ::mkdir(m_meta_dir.c_str(), 0700);
      if (got.etag.empty())
        ::unlink(meta_path(url).c_str());
      else
        write_meta(meta_path(url), url, got);
    }
  }
  entry.known = true;
  return {};
}

util::Result<ops::FetchResult> Downloads::prefetch(const std::string& url) {
  auto& entry = entry_of(url);
  const std::lock_guard guard(entry.mutex);
  MASON_TRY(resolve(url, entry));
  return entry.result;
}

util::Result<ops::FetchResult> Downloads::fetch(const std::string& url, int out_fd) {
  auto& entry = entry_of(url);
  const std::lock_guard guard(entry.mutex);
  MASON_TRY(resolve(url, entry));
  if (entry.path.empty()) { // revalidated (304): the bytes are needed after all
    ops::FetchResult got;
    MASON_TRY_ASSIGN(auto path, download(url, "", got));
    if (got.sha256_hex != entry.result.sha256_hex) {
      ::unlink(path.c_str());
      return util::make_error(
          util::ErrorCode::unavailable,
          "GET " + url + ": the content changed during the build (sha256:" + got.sha256_hex +
              ", the server had said sha256:" + entry.result.sha256_hex + " was current)");
    }
    entry.path = path;
  }
  util::UniqueFd in(::open(entry.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return util::errno_error("open " + entry.path, errno);
  auto copied = ops::copy_data(in.get(), out_fd);
  if (!copied) return std::unexpected(std::move(copied.error()).with_context("GET " + url));
  return entry.result;
}

} // namespace mason::engine
