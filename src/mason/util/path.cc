#include "mason/util/path.h"

#include <vector>

#include "mason/util/strings.h"

namespace mason::util {

std::string path_clean(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t leading_dotdots = 0; // ".." kept at the front of a relative path
  for (const auto part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.size() > leading_dotdots) {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
        ++leading_dotdots;
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out.append(parts[i]);
  }
  return out.empty() ? "." : out;
}

std::string path_clean_rooted(std::string_view path) { return path_clean("/" + std::string(path)); }

std::string path_join(std::string_view dir, std::string_view name) {
  if (dir.empty() && name.empty()) return "";
  if (dir.empty()) return path_clean(name);
  if (name.empty()) return path_clean(dir);
  return path_clean(std::string(dir) + "/" + std::string(name));
}

std::string path_base(std::string_view path) {
  if (path.empty()) return ".";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return "/";
  const auto slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

} // namespace mason::util
