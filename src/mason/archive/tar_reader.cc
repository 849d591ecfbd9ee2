// Tar reading: a loop over 512-byte header blocks.
//
// next(): skip the rest of the previous entry; read a block; two zero
// blocks (or one zero block and the end of the stream) end the archive;
// verify the checksum; meta entries ("x", "g", "L", "K") are read whole
// (bounded) and their overrides kept for the following real entry; decode
// the real entry's fields (ustar prefix only with the POSIX magic) and apply
// the overrides. Data bytes are then handed out by read_data(), padding
// skipped at the next call.
#include "mason/archive/tar_reader.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "mason/archive/tar_header.h"

namespace mason::archive {

using namespace detail;

namespace {

std::unexpected<util::Error> corrupt(std::string message) {
  return util::make_error(util::ErrorCode::corruption, std::move(message));
}

std::string at(std::uint64_t offset) { return " at offset " + std::to_string(offset); }

std::string named(std::string_view name) {
  return name.empty() ? std::string() : " of entry \"" + std::string(name) + "\"";
}

// Overrides collected from meta entries for the next real entry.
struct Overrides {
  std::optional<std::string> path, linkpath;
  std::optional<std::int64_t> size, uid, gid, mtime;
  std::uint32_t mtime_nsec = 0;
  std::map<std::string, std::string> xattrs;
  bool sparse = false;
};

std::optional<std::int64_t> parse_decimal(std::string_view v) {
  if (v.empty() || v.size() > 18) return std::nullopt;
  std::int64_t out = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return out;
}

// "[-]sec[.frac]" (PAX time).
bool parse_pax_time(std::string_view v, std::int64_t& sec, std::uint32_t& nsec) {
  const bool negative = !v.empty() && v[0] == '-';
  if (negative) v.remove_prefix(1);
  const auto dot = v.find('.');
  auto whole = parse_decimal(v.substr(0, dot));
  if (!whole) return false;
  std::uint32_t frac = 0;
  if (dot != std::string_view::npos) {
    const auto digits = v.substr(dot + 1);
    if (digits.empty()) return false;
    std::uint32_t scale = 100000000;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
      frac += static_cast<std::uint32_t>(c - '0') * scale;
      scale /= 10;
    }
  }
  sec = negative ? -*whole : *whole;
  nsec = frac;
  if (negative && frac != 0) { // -1.5 s = -2 s + 0.5 s
    sec -= 1;
    nsec = 1000000000 - frac;
  }
  return true;
}

// Applies one PAX record; false if its value is malformed.
bool apply_pax(Overrides& o, std::string_view key, std::string_view value) {
  if (key == "path") {
    o.path = std::string(value);
  } else if (key == "linkpath") {
    o.linkpath = std::string(value);
  } else if (key == "size" || key == "uid" || key == "gid") {
    auto n = parse_decimal(value);
    if (!n) return false;
    (key == "size" ? o.size : key == "uid" ? o.uid : o.gid) = n;
  } else if (key == "mtime") {
    std::int64_t sec = 0;
    std::uint32_t nsec = 0;
    if (!parse_pax_time(value, sec, nsec)) return false;
    o.mtime = sec;
    o.mtime_nsec = nsec;
  } else if (key.starts_with(k_schily_xattr)) {
    const auto name = key.substr(k_schily_xattr.size());
    if (name.empty()) return false;
    o.xattrs[std::string(name)] = std::string(value);
  } else if (key.starts_with("GNU.sparse.")) {
    o.sparse = true;
  }
  return true; // atime, ctime, uname, gname, charset, comment, vendor keys: ignored
}

// Parses "<len> <key>=<value>\n" records; error text on failure.
std::optional<std::string> parse_pax(std::string_view data, Overrides* o) {
  while (!data.empty()) {
    const auto space = data.find(' ');
    if (space == std::string_view::npos) return "PAX record without length";
    auto len = parse_decimal(data.substr(0, space));
    if (!len || *len <= static_cast<std::int64_t>(space) + 1 ||
        static_cast<std::uint64_t>(*len) > data.size())
      return "invalid PAX record length";
    const auto record = data.substr(space + 1, static_cast<std::size_t>(*len) - space - 1);
    if (record.empty() || record.back() != '\n') return "PAX record not ended by a newline";
    const auto eq = record.find('=');
    if (eq == std::string_view::npos || eq == 0) return "PAX record without key";
    const auto key = record.substr(0, eq);
    const auto value = record.substr(eq + 1, record.size() - eq - 2);
    if (o != nullptr && !apply_pax(*o, key, value))
      return "invalid PAX " + std::string(key) + " value";
    data.remove_prefix(static_cast<std::size_t>(*len));
  }
  return std::nullopt;
}

EntryType type_of(char flag, std::string_view name) {
  switch (flag) {
  case '0':
  case '7': return EntryType::regular;
  case '\0': return !name.empty() && name.back() == '/' ? EntryType::directory : EntryType::regular;
  case '1': return EntryType::hardlink;
  case '2': return EntryType::symlink;
  case '3': return EntryType::char_device;
  case '4': return EntryType::block_device;
  case '5': return EntryType::directory;
  case '6': return EntryType::fifo;
  default: return EntryType::unsupported;
  }
}

bool verify_checksum(const Block& b, std::int64_t stored) {
  return stored == static_cast<std::int64_t>(unsigned_checksum(b)) || stored == signed_checksum(b);
}

// The fields of one header block whose checksum is still to be verified.
util::Result<TarEntry> decode_header(const Block& b, std::uint64_t start) {
  auto chk = parse_numeric(b, k_chksum);
  if (!chk || !verify_checksum(b, *chk)) return corrupt("bad header checksum" + at(start));
  TarEntry e;
  e.typeflag = b[k_typeflag.offset];
  const std::string_view magic(b.data() + k_magic.offset, 6);
  const bool posix = magic == std::string_view("ustar\0", 6);
  e.name = std::string(field_text(b, k_name));
  // The prefix field exists in POSIX headers only (GNU keeps times there).
  if (const auto prefix = field_text(b, k_prefix); posix && !prefix.empty())
    e.name = std::string(prefix) + "/" + e.name;
  e.linkname = std::string(field_text(b, k_linkname));
  std::int64_t values[7] = {};
  const std::pair<Field, const char*> fields[7] = {
      {k_mode, "mode"},   {k_uid, "uid"},           {k_gid, "gid"},          {k_size, "size"},
      {k_mtime, "mtime"}, {k_devmajor, "devmajor"}, {k_devminor, "devminor"}};
  const bool has_dev = posix || magic == std::string_view("ustar ", 6);
  for (std::size_t i = 0; i < (has_dev ? 7u : 5u); ++i) {
    auto v = parse_numeric(b, fields[i].first);
    if (!v)
      return corrupt(std::string("invalid ") + fields[i].second + " field" + named(e.name) +
                     at(start));
    values[i] = *v;
  }
  e.mode = static_cast<std::uint32_t>(values[0] & 07777);
  e.uid = values[1];
  e.gid = values[2];
  e.size = values[3];
  e.mtime = values[4];
  if (e.size < 0) return corrupt("negative size" + named(e.name) + at(start));
  if (values[5] < 0 || values[5] > 0xfffff || values[6] < 0 || values[6] > 0xfffffff)
    return corrupt("device number out of range" + named(e.name) + at(start));
  e.dev_major = static_cast<std::uint32_t>(values[5]);
  e.dev_minor = static_cast<std::uint32_t>(values[6]);
  return e;
}

// Records what a meta entry (PAX x/g, GNU L/K) says about the next entry.
util::Status apply_meta(const TarEntry& meta, const std::string& data, Overrides& o) {
  if (meta.typeflag == 'L' || meta.typeflag == 'K') {
    (meta.typeflag == 'L' ? o.path : o.linkpath) = data.substr(0, data.find('\0'));
    return {};
  }
  // Global headers are checked but not applied (as docker does).
  if (auto err = parse_pax(data, meta.typeflag == 'x' ? &o : nullptr))
    return corrupt(*err + " in PAX header" + at(meta.offset));
  return {};
}

// Applies the overrides and checks the result.
util::Status finish_entry(TarEntry& e, Overrides& o, std::uint64_t start) {
  const std::string shown = e.name;
  if (o.path && !o.path->empty()) e.name = *o.path;
  if (o.linkpath && !o.linkpath->empty()) e.linkname = *o.linkpath;
  if (o.size) e.size = *o.size;
  if (o.uid) e.uid = *o.uid;
  if (o.gid) e.gid = *o.gid;
  if (o.mtime) {
    e.mtime = *o.mtime;
    e.mtime_nsec = o.mtime_nsec;
  }
  e.xattrs = std::move(o.xattrs);
  e.type = type_of(e.typeflag, e.name);
  if (e.name.empty()) return corrupt("entry without a name" + at(start));
  if (e.name.find('\0') != std::string::npos || e.linkname.find('\0') != std::string::npos)
    return corrupt("NUL byte in the name" + named(shown) + at(start));
  if (!has_data(e.type)) e.size = 0;
  return {};
}

} // namespace

util::Result<std::size_t> TarReader::read_block(Block& block) {
  MASON_TRY_ASSIGN(auto n, read_full(m_in, std::as_writable_bytes(std::span(block))));
  m_offset += n;
  return n;
}

util::Status TarReader::skip(std::uint64_t bytes) {
  std::array<std::byte, std::size_t{64} << 10> buf{};
  while (bytes > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, buf.size()));
    MASON_TRY_ASSIGN(auto n, read_full(m_in, std::span(buf).first(want)));
    m_offset += n;
    if (n < want)
      return corrupt("truncated data" + named(m_current) + at(m_offset) +
                     ": unexpected end of stream");
    bytes -= n;
  }
  return {};
}

util::Result<std::string> TarReader::read_special(const TarEntry& meta, std::int64_t size) {
  if (size < 0 || size > k_max_special_size)
    return corrupt("extension header of " + std::to_string(size) + " bytes" + at(meta.offset) +
                   " exceeds the 1 MiB limit");
  std::string data(static_cast<std::size_t>(size), '\0');
  MASON_TRY_ASSIGN(auto n, read_full(m_in, std::as_writable_bytes(std::span(data))));
  m_offset += n;
  if (n < data.size()) return corrupt("truncated extension header" + at(meta.offset));
  const auto pad = (k_block - data.size() % k_block) % k_block;
  MASON_TRY(skip(pad));
  return data;
}

util::Result<std::optional<TarEntry>> TarReader::end_of_archive(std::uint64_t start,
                                                                bool have_meta) {
  if (have_meta) return corrupt("extension header not followed by an entry" + at(start));
  Block second{};
  MASON_TRY_ASSIGN(auto m, read_block(second));
  if (m != 0 && (m < k_block || !is_zero(second)))
    return corrupt("invalid end-of-archive marker" + at(start + k_block));
  m_done = true;
  return std::optional<TarEntry>();
}

util::Result<std::optional<TarEntry>> TarReader::next() {
  if (m_done) return std::optional<TarEntry>();
  MASON_TRY(skip(m_remaining + m_padding));
  m_remaining = m_padding = 0;
  m_current.clear();
  Overrides o;
  bool have_meta = false;
  const std::uint64_t first = m_offset;
  for (;;) {
    Block b{};
    const std::uint64_t start = m_offset;
    MASON_TRY_ASSIGN(auto n, read_block(b));
    if (n == 0 && start == 0) { // empty stream: empty archive
      m_done = true;
      return std::optional<TarEntry>();
    }
    if (n == 0)
      return corrupt("truncated archive" + at(start) +
                     ": end of stream before the end-of-archive marker");
    if (n < k_block) return corrupt("truncated header" + at(start));
    if (is_zero(b)) return end_of_archive(start, have_meta);
    MASON_TRY_ASSIGN(auto e, decode_header(b, start));
    e.offset = first;
    if (e.typeflag == 'x' || e.typeflag == 'g' || e.typeflag == 'L' || e.typeflag == 'K') {
      MASON_TRY_ASSIGN(auto data, read_special(e, e.size));
      MASON_TRY(apply_meta(e, data, o));
      have_meta = have_meta || e.typeflag != 'g';
      continue;
    }
    if (e.typeflag == 'S' || o.sparse)
      return util::make_error(util::ErrorCode::unsupported, "sparse file" +
                                                                named(o.path.value_or(e.name)) +
                                                                at(start) + " is not supported");
    MASON_TRY(finish_entry(e, o, start));
    m_remaining = static_cast<std::uint64_t>(e.size);
    m_padding = (k_block - m_remaining % k_block) % k_block;
    m_current = e.name;
    return std::optional<TarEntry>(std::move(e));
  }
}

util::Result<std::size_t> TarReader::read_data(MutableBytes data) {
  if (m_remaining == 0 || data.empty()) return 0;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), m_remaining));
  MASON_TRY_ASSIGN(auto n, m_in.read(data.first(want)));
  if (n == 0)
    return corrupt("truncated data" + named(m_current) + at(m_offset) + ": " +
                   std::to_string(m_remaining) + " bytes missing");
  m_offset += n;
  m_remaining -= n;
  return n;
}

util::Status TarReader::drain() {
  std::array<std::byte, std::size_t{64} << 10> buf{};
  for (;;) {
    MASON_TRY_ASSIGN(auto n, m_in.read(buf));
    if (n == 0) return {};
    m_offset += n;
  }
}

} // namespace mason::archive
