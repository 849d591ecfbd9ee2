#include "mason/registry/curl_api.h"

#include <mutex>

#include "mason/sys/dynlib.h"

namespace mason::registry::curl {

namespace {

struct Loaded {
  Api api;
  util::Status status;
};

Loaded load() {
  Loaded out;
  auto lib = sys::open_library("libcurl.so.4", "libcurl4");
  if (!lib) {
    out.status = std::unexpected(lib.error());
    return out;
  }
  Api& a = out.api;
  for (auto st : {sys::load_symbol(*lib, "curl_global_init", a.global_init),
                  sys::load_symbol(*lib, "curl_easy_init", a.easy_init),
                  sys::load_symbol(*lib, "curl_easy_cleanup", a.easy_cleanup),
                  sys::load_symbol(*lib, "curl_easy_reset", a.easy_reset),
                  sys::load_symbol(*lib, "curl_easy_perform", a.easy_perform),
                  sys::load_symbol(*lib, "curl_easy_strerror", a.easy_strerror),
                  sys::load_symbol(*lib, "curl_easy_setopt", a.easy_setopt),
                  sys::load_symbol(*lib, "curl_easy_getinfo", a.easy_getinfo),
                  sys::load_symbol(*lib, "curl_slist_append", a.slist_append),
                  sys::load_symbol(*lib, "curl_slist_free_all", a.slist_free_all)})
    if (!st) {
      out.status = std::unexpected(st.error());
      return out;
    }
  if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    out.status = util::make_error(util::ErrorCode::internal, "curl_global_init failed");
  return out;
}

const Loaded& state() {
  static const Loaded loaded = load(); // thread-safe initialisation
  return loaded;
}

} // namespace

util::Result<const Api*> api() {
  const auto& s = state();
  if (!s.status) return std::unexpected(s.status.error());
  return &s.api;
}

const Api& loaded() { return state().api; }

} // namespace mason::registry::curl
