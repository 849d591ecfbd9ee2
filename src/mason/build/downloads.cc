#include "mason/build/downloads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mason/ops/copy_tree.h"
#include "mason/util/unique_fd.h"

namespace mason::build {

Downloads::Downloads(std::string dir, ops::HttpFetcher* upstream)
    : m_dir(std::move(dir)), m_upstream(upstream) {}

util::Result<Downloads::Entry*> Downloads::downloaded(const std::string& url) {
  Entry* entry = nullptr;
  std::string path;
  {
    const std::lock_guard guard(m_mutex);
    auto& slot = m_entries[url];
    if (!slot) slot = std::make_unique<Entry>();
    entry = slot.get();
    path = m_dir + "/" + std::to_string(m_next++);
  }
  const std::lock_guard guard(entry->mutex);
  if (!entry->path.empty()) return entry;
  if (::mkdir(m_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return util::make_error(util::ErrorCode::internal, "create " + m_dir, errno);
  util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return util::make_error(util::ErrorCode::internal, "create " + path, errno);
  ops::HttpFetcher& upstream = m_upstream != nullptr ? *m_upstream : ops::default_http_fetcher();
  auto got = upstream.fetch(url, fd.get());
  if (!got) {
    ::unlink(path.c_str());
    return std::unexpected(got.error());
  }
  entry->result = *got;
  entry->path = path;
  return entry;
}

util::Result<ops::FetchResult> Downloads::prefetch(const std::string& url) {
  auto entry = downloaded(url);
  if (!entry) return std::unexpected(entry.error());
  return (*entry)->result;
}

util::Result<ops::FetchResult> Downloads::fetch(const std::string& url, int out_fd) {
  auto entry = downloaded(url);
  if (!entry) return std::unexpected(entry.error());
  util::UniqueFd in(::open((*entry)->path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return util::make_error(util::ErrorCode::internal, "open " + (*entry)->path, errno);
  auto copied = ops::copy_data(in.get(), out_fd);
  if (!copied) return std::unexpected(std::move(copied.error()).with_context("ADD " + url));
  return (*entry)->result;
}

} // namespace mason::build
