// The flags of `mason build` whose values have docker's comma-separated
// key=value syntax, parsed into the engine's typed options (engine/build.h):
// --secret, -o/--output, --cache-to and --cache-from. Errors name the flag
// and its value. Pure, apart from checking that a secret's file exists.
#pragma once

#include <string_view>

#include "mason/engine/build.h"
#include "mason/util/error.h"

namespace mason::cli {

// --secret id=ID[,src=FILE|env=VAR] (docker's forms; type=file|env too).
util::Result<engine::SecretSource> parse_secret_flag(std::string_view value);

// -o/--output type=T,dest=D[,name=N][,push=B][,oci-mediatypes=B]
// [,compression=gzip][,compression-level=N]; a bare path means
// type=local,dest=path and "-" a tar on stdout. Booleans are read as
// BuildKit's exporters read them (Go's ParseBool; a key alone is true).
util::Result<engine::OutputSpec> parse_output_flag(std::string_view value);

// --cache-to / --cache-from: type=local,dest=DIR|src=DIR[,tag=T] or
// type=registry,ref=REF; mode=min|max (export); a bare value of
// --cache-from is a registry reference.
util::Result<engine::CacheSpec> parse_cache_flag(std::string_view value, bool exporting);

} // namespace mason::cli
