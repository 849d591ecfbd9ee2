// Tar writing, format choice as Go's archive/tar Writer.WriteHeader:
//
// 1. Collect PAX records for every field that does not fit ustar: a name
//    longer than 100 bytes or not ASCII (path), the same for the link
//    target (linkpath), numbers outside the octal range (uid, gid, size,
//    mtime), and all xattrs.
// 2. ustar is possible when no xattr is present, every number fits, the
//    link target fits, and the name fits or splits into prefix (<=155) and
//    name (<=100) at a "/". Then write one ustar header; the collected
//    records are dropped.
// 3. Otherwise write the records as a PAX "x" entry and then the ustar
//    header with truncated strings and zeroed numbers.
#include "mason/archive/tar_writer.h"

#include <map>
#include <string>

#include "mason/archive/tar_header.h"

namespace mason::archive {

using namespace detail;

std::string_view to_string(EntryType type) {
  switch (type) {
  case EntryType::regular: return "regular file";
  case EntryType::hardlink: return "hard link";
  case EntryType::symlink: return "symlink";
  case EntryType::char_device: return "character device";
  case EntryType::block_device: return "block device";
  case EntryType::directory: return "directory";
  case EntryType::fifo: return "fifo";
  case EntryType::unsupported: return "unsupported entry";
  }
  return "unknown";
}

namespace {

bool is_ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string to_ascii(std::string_view s) {
  std::string out;
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x80) out += c;
  return out;
}

// Go's splitUSTARPath: prefix/name split at the last "/" that lets both fit.
bool split_ustar(std::string_view name, std::string_view& prefix, std::string_view& suffix) {
  std::size_t length = name.size();
  if (length <= k_name.size || !is_ascii(name)) return false;
  if (length > k_prefix.size + 1)
    length = k_prefix.size + 1;
  else if (name[length - 1] == '/')
    --length;
  const auto i = name.substr(0, length).rfind('/');
  if (i == std::string_view::npos || i == 0) return false;
  const std::size_t nlen = name.size() - i - 1;
  if (nlen > k_name.size || nlen == 0 || i > k_prefix.size) return false;
  prefix = name.substr(0, i);
  suffix = name.substr(i + 1);
  return true;
}

char typeflag_of(EntryType type) {
  switch (type) {
  case EntryType::regular: return '0';
  case EntryType::hardlink: return '1';
  case EntryType::symlink: return '2';
  case EntryType::char_device: return '3';
  case EntryType::block_device: return '4';
  case EntryType::directory: return '5';
  case EntryType::fifo: return '6';
  case EntryType::unsupported: return '\0';
  }
  return '\0';
}

// Go: path.Join(dir, "PaxHeaders.0", file), ASCII only, at most 100 bytes.
std::string pax_header_name(std::string_view name) {
  const auto slash = name.rfind('/');
  std::string dir(slash == std::string_view::npos ? "" : name.substr(0, slash));
  const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  std::string out =
      dir.empty() ? std::string(k_paxheader_dir) : dir + "/" + std::string(k_paxheader_dir);
  if (!file.empty()) out += "/" + std::string(file);
  out = to_ascii(out);
  if (out.size() > k_name.size) out.resize(k_name.size);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

util::Status invalid(std::string message) {
  return util::make_error(util::ErrorCode::invalid_argument, std::move(message));
}

} // namespace

util::Status TarWriter::emit(ConstBytes data) {
  if (auto st = m_out.write(data); !st) return st;
  m_written += data.size();
  return {};
}

util::Status TarWriter::pad_entry() {
  if (m_remaining != 0)
    return invalid("tar entry data incomplete: " + std::to_string(m_remaining) + " bytes missing");
  const auto tail = static_cast<std::size_t>(m_entry_size % static_cast<std::int64_t>(k_block));
  m_entry_size = 0;
  if (tail == 0) return {};
  static const Block zeros{};
  return emit(std::as_bytes(std::span(zeros).first(k_block - tail)));
}

namespace {

// What one entry needs: its header fields and, when ustar cannot hold
// them, the PAX records.
struct Plan {
  std::string_view link;   // link target, empty for other types
  std::int64_t size = 0;   // data bytes
  std::string_view prefix; // ustar split, when ustar
  std::string_view suffix;
  bool ustar = true;
  std::map<std::string, std::string> pax;
};

util::Status check(const TarEntry& e) {
  if (e.type == EntryType::unsupported) return invalid("cannot write an unsupported entry type");
  if (e.name.empty() || e.name.find('\0') != std::string::npos)
    return invalid("invalid tar entry name");
  if (e.linkname.find('\0') != std::string::npos) return invalid("invalid link target");
  if (e.uid < 0 || e.gid < 0 || e.size < 0)
    return invalid("negative uid, gid or size in tar entry \"" + e.name + "\"");
  if (e.dev_major >= octal_limit(k_devmajor) || e.dev_minor >= octal_limit(k_devminor))
    return invalid("device number out of range in tar entry \"" + e.name + "\"");
  for (const auto& [key, value] : e.xattrs)
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos)
      return invalid("invalid xattr name in tar entry \"" + e.name + "\"");
  return {};
}

// Steps 1 and 2 of the algorithm above.
Plan plan(const TarEntry& e) {
  Plan p;
  const bool linked = e.type == EntryType::hardlink || e.type == EntryType::symlink;
  p.link = linked ? std::string_view(e.linkname) : std::string_view();
  p.size = e.type == EntryType::regular ? e.size : 0;
  p.suffix = e.name;
  p.ustar = e.xattrs.empty();
  if (e.name.size() > k_name.size || !is_ascii(e.name)) {
    p.pax["path"] = e.name;
    if (!split_ustar(e.name, p.prefix, p.suffix)) p.ustar = false;
  }
  if (p.link.size() > k_linkname.size || !is_ascii(p.link)) {
    p.pax["linkpath"] = std::string(p.link);
    p.ustar = false;
  }
  const auto number = [&](const char* key, std::int64_t v, const Field& f) {
    if (v < 0 || v >= octal_limit(f)) {
      p.pax[key] = std::to_string(v);
      p.ustar = false;
    }
  };
  number("uid", e.uid, k_uid);
  number("gid", e.gid, k_gid);
  number("size", p.size, k_size);
  number("mtime", e.mtime, k_mtime);
  for (const auto& [key, value] : e.xattrs) p.pax[std::string(k_schily_xattr) + key] = value;
  if (!p.ustar) {
    p.prefix = {};
    p.suffix = e.name;
  }
  return p;
}

Block pax_header(std::string_view name, std::size_t records) {
  Block h{};
  put_string(h, k_name, pax_header_name(name));
  put_octal(h, k_mode, 0);
  put_octal(h, k_uid, 0);
  put_octal(h, k_gid, 0);
  put_octal(h, k_size, static_cast<std::int64_t>(records));
  put_octal(h, k_mtime, 0);
  h[k_typeflag.offset] = 'x';
  finish_header(h);
  return h;
}

Block main_header(const TarEntry& e, const Plan& p) {
  Block h{};
  h[k_typeflag.offset] = typeflag_of(e.type);
  put_string(h, k_name, p.ustar ? std::string(p.suffix) : to_ascii(p.suffix));
  put_string(h, k_linkname, p.ustar ? std::string(p.link) : to_ascii(p.link));
  put_octal(h, k_mode, e.mode & 07777);
  put_octal(h, k_uid, e.uid);
  put_octal(h, k_gid, e.gid);
  put_octal(h, k_size, p.size);
  put_octal(h, k_mtime, e.mtime);
  put_string(h, k_uname, "");
  put_string(h, k_gname, "");
  put_octal(h, k_devmajor, e.dev_major);
  put_octal(h, k_devminor, e.dev_minor);
  if (p.ustar) put_string(h, k_prefix, p.prefix);
  finish_header(h);
  return h;
}

} // namespace

util::Status TarWriter::add(const TarEntry& e) {
  if (auto st = pad_entry(); !st) return st;
  if (auto st = check(e); !st) return st;
  const Plan p = plan(e);
  if (!p.ustar) {
    std::string records;
    for (const auto& [key, value] : p.pax) records += pax_record(key, value);
    if (records.size() > static_cast<std::size_t>(k_max_special_size))
      return invalid("PAX header of tar entry \"" + e.name + "\" too large");
    const Block h = pax_header(e.name, records.size());
    if (auto st = emit(std::as_bytes(std::span(h))); !st) return st;
    m_entry_size = static_cast<std::int64_t>(records.size());
    if (auto st = emit(as_bytes(records)); !st) return st;
    if (auto st = pad_entry(); !st) return st;
  }
  const Block h = main_header(e, p);
  if (auto st = emit(std::as_bytes(std::span(h))); !st) return st;
  m_remaining = p.size;
  m_entry_size = p.size;
  return {};
}

util::Status TarWriter::write_data(ConstBytes data) {
  if (static_cast<std::uint64_t>(m_remaining) < data.size())
    return invalid("tar entry data longer than its size");
  m_remaining -= static_cast<std::int64_t>(data.size());
  return emit(data);
}

util::Status TarWriter::add_file(TarEntry entry, std::string_view data) {
  entry.type = EntryType::regular;
  entry.size = static_cast<std::int64_t>(data.size());
  if (auto st = add(entry); !st) return st;
  return write_data(as_bytes(data));
}

util::Status TarWriter::finish() {
  if (auto st = pad_entry(); !st) return st;
  static const std::array<char, 2 * k_block> zeros{};
  return emit(std::as_bytes(std::span(zeros)));
}

} // namespace mason::archive
