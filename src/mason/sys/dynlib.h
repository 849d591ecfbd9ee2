// Libraries loaded on first use (dlopen). mason's start-up time is mostly
// the dynamic loader resolving the libraries it links; libcurl and
// libarchive bring about thirty more (TLS, LDAP, Kerberos, ICU...) that
// most commands never touch, so they are opened only when needed.
//
// Thread-safety: open_library and symbol may be called from several
// threads; a handle is never closed.
#pragma once

#include <string>

#include "mason/util/error.h"

namespace mason::sys {

// dlopen(`soname`, RTLD_NOW | RTLD_LOCAL); unavailable naming the library
// and what to install when it cannot be loaded.
util::Result<void*> open_library(const std::string& soname, const std::string& package);

// dlsym; internal naming the symbol when it is missing.
util::Result<void*> symbol(void* library, const char* name);

// Fills `*out` with symbol `name` of `library`, converted to its type.
template <class F>
util::Status load_symbol(void* library, const char* name, F*& out) {
  MASON_TRY_ASSIGN(auto s, symbol(library, name));
  out = reinterpret_cast<F*>(s); // NOLINT: dlsym gives object pointers
  return {};
}

} // namespace mason::sys
