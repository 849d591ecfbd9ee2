// POSIX helpers for the content store. Every descriptor returned is opened
// O_CLOEXEC and owned by a UniqueFd; every error names what was being done
// and carries errno. Stateless and thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mason/content/unique_fd.h"
#include "mason/util/error.h"

namespace mason::content::fs {

using util::errno_error; // the one constructor of errno errors (util/error.h)

// openat(dirfd, name, flags | O_CLOEXEC, mode), retried on EINTR.
util::Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode = 0);
// mkdirat that accepts an existing directory.
util::Status ensure_dir(int dirfd, const std::string& name, mode_t mode);
util::Status write_all(int fd, const void* data, std::size_t size, std::string_view what);
// Reads up to `size` bytes; returns the count (0 at end of file).
util::Result<std::size_t> read_some(int fd, void* data, std::size_t size, std::string_view what);
util::Status sync(int fd, std::string_view what);
// Names in the directory, without "." and "..", in no particular order.
util::Result<std::vector<std::string>> list_dir(int dirfd, std::string_view what);

// `bytes` random bytes from getrandom(2), as lower-case hex.
std::string random_hex(std::size_t bytes);
bool is_hex(std::string_view text, std::size_t length);

enum class LockMode { shared, exclusive };
enum class LockWait { block, try_only };
// flock(2) on fd. Returns false only for LockWait::try_only when another
// open file description holds a conflicting lock.
util::Result<bool> lock(int fd, LockMode mode, LockWait wait, std::string_view what);

} // namespace mason::content::fs
