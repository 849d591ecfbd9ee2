// Go's filepath.Match on '/'-separated paths: the one implementation of
// its glob syntax, used by COPY/ADD source wildcards (ops/copy_match.h)
// and by .dockerignore's syntax check (frontend/dockerignore.h).
//
// Syntax: '*' any run of non-'/' bytes, '?' one code point other than
// '/', '[...]' a class of code points ('^' negates, 'a-z' ranges; a class
// can match '/'), '\' quotes the next byte. A malformed pattern ("[",
// "[a-", a trailing '\', "[]") matches nothing. Pure functions,
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mason::util {

// filepath.Match(pattern, name): the whole of `name` must match; false for
// a malformed pattern.
bool glob_match(std::string_view pattern, std::string_view name);

// Why `pattern` is malformed (filepath.ErrBadPattern, with the reason:
// "unterminated character class", "trailing backslash", ...), or nullopt.
std::optional<std::string> glob_syntax_error(std::string_view pattern);

} // namespace mason::util
