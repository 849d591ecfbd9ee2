// How `mason pull` and `mason push` show their blob transfers: on a
// terminal, a live view with one line per blob (bytes done of the total, a
// bar and the rate, redrawn at most ten times a second); elsewhere one
// summary line per blob when it ends (size, time, rate, or "already
// exists").
#pragma once

#include <cstdio>
#include <string>

#include "mason/registry/client.h"

namespace mason::cli {

enum class TransferDirection { pull, push };

// A progress callback for registry::RegistryOptions::progress writing to
// `out`; `live` picks the terminal view. Safe to call from several threads.
registry::TransferProgress transfer_view(std::FILE* out, TransferDirection direction, bool live);

// Whether `out` is a terminal that understands cursor movement.
bool is_live_terminal(std::FILE* out);

} // namespace mason::cli
