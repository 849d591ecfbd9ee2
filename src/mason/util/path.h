// Lexical paths with Go's path package semantics (slash-separated, no file
// system access), shared by the frontend's mount targets and the copy
// destinations: what BuildKit computes with path.Clean and path.Join must
// come out the same here.
#pragma once

#include <string>
#include <string_view>

namespace mason::util {

// Go's path.Clean: repeated slashes, "." and ".." (never above "/" for a
// rooted path) removed; "" and an all-dot relative path become ".";
// "a/../.." stays "..". "/a/b/" -> "/a/b", "a//b/./c/.." -> "a/b".
std::string path_clean(std::string_view path);

// path.Clean of "/" + path: always rooted ("" -> "/", "../x" -> "/x").
std::string path_clean_rooted(std::string_view path);

// Go's path.Join of non-empty elements, cleaned ("" when both are empty).
std::string path_join(std::string_view dir, std::string_view name);

// Go's path.Base: the last element ("/" for the root, "." for "").
std::string path_base(std::string_view path);

} // namespace mason::util
