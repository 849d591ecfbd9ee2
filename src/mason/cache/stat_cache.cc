#include "mason/cache/stat_cache.h"

#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "mason/sys/file.h"

namespace mason::cache {

namespace {

constexpr std::string_view k_magic = "mason-stat-cache-v1";

std::int64_t ns_of(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ns_of(ts);
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

StatCache::StatCache(StatCache&& other) noexcept
    : m_file(std::move(other.m_file)), m_started_ns(other.m_started_ns), m_racy_ns(other.m_racy_ns),
      m_entries(std::move(other.m_entries)), m_changed(other.m_changed) {}

StatCache& StatCache::operator=(StatCache&& other) noexcept {
  if (this != &other) {
    m_file = std::move(other.m_file);
    m_started_ns = other.m_started_ns;
    m_racy_ns = other.m_racy_ns;
    m_entries = std::move(other.m_entries);
    m_changed = other.m_changed;
  }
  return *this;
}

StatCache::Stamp StatCache::stamp_of(const struct stat& st) {
  return Stamp{st.st_ino, st.st_size, ns_of(st.st_mtim), ns_of(st.st_ctim)};
}

StatCache StatCache::load(std::string file, std::chrono::nanoseconds racy_window) {
  StatCache cache;
  cache.m_file = std::move(file);
  cache.m_started_ns = now_ns();
  cache.m_racy_ns = racy_window.count();
  std::ifstream in(cache.m_file, std::ios::binary);
  std::string magic;
  if (!in || !std::getline(in, magic) || magic != k_magic) return cache;
  for (;;) {
    Entry e;
    std::string hex;
    std::size_t length = 0;
    char colon = 0;
    if (!(in >> e.stamp.ino >> e.stamp.size >> e.stamp.mtime_ns >> e.stamp.ctime_ns >> hex >>
          length >> colon) ||
        colon != ':' || !is_hex64(hex) || length > 65536)
      break;
    std::string path(length, '\0');
    if (!in.read(path.data(), static_cast<std::streamsize>(length)) || in.get() != '\n') break;
    e.hex = std::move(hex);
    cache.m_entries.insert_or_assign(std::move(path), std::move(e));
  }
  return cache;
}

std::optional<std::string> StatCache::lookup(const std::string& path, const struct stat& st) const {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(path);
  if (it == m_entries.end() || !(it->second.stamp == stamp_of(st))) return std::nullopt;
  it->second.used = true;
  return it->second.hex;
}

void StatCache::store(const std::string& path, const struct stat& st, const std::string& hex) {
  std::lock_guard lock(m_mutex);
  Entry e{stamp_of(st), hex, true};
  const std::int64_t racy_after = m_started_ns - m_racy_ns;
  if (m_started_ns != 0 && (e.stamp.mtime_ns >= racy_after || e.stamp.ctime_ns >= racy_after)) {
    m_entries.erase(path); // hashed, but not trusted next time
    m_changed = true;
    return;
  }
  m_entries.insert_or_assign(path, std::move(e));
  m_changed = true;
}

void StatCache::drop_unused() {
  std::lock_guard lock(m_mutex);
  const auto before = m_entries.size();
  std::erase_if(m_entries, [](const auto& kv) { return !kv.second.used; });
  if (m_entries.size() != before) m_changed = true;
}

std::size_t StatCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

util::Status StatCache::save() const {
  std::lock_guard lock(m_mutex);
  if (m_file.empty() || !m_changed) return {};
  std::string text(k_magic);
  text += '\n';
  for (const auto& [path, e] : m_entries)
    text += fmt::format("{} {} {} {} {} {}:{}\n", e.stamp.ino, e.stamp.size, e.stamp.mtime_ns,
                        e.stamp.ctime_ns, e.hex, path.size(), path);
  // A cache: losing it in a crash costs one rehash, not worth an fsync.
  if (auto ok = sys::write_file_atomic(m_file, text, 0644, sys::Durability::best_effort); !ok)
    return std::unexpected(std::move(ok.error()).with_context("write stat cache"));
  return {};
}

} // namespace mason::cache
