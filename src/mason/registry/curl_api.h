// libcurl, opened on first use (sys/dynlib.h says why). Callers check
// curl::api() once (a transport or a download cannot start without it);
// the wrappers below then call through the loaded table.
//
// Thread-safety: api() may be called from several threads (it loads once).
#pragma once

#define CURL_DISABLE_TYPECHECK // setopt goes through a function pointer
#include <curl/curl.h>

#include "mason/util/error.h"

namespace mason::registry::curl {

struct Api {
  CURLcode (*global_init)(long flags) = nullptr;
  CURL* (*easy_init)() = nullptr;
  void (*easy_cleanup)(CURL* handle) = nullptr;
  void (*easy_reset)(CURL* handle) = nullptr;
  CURLcode (*easy_perform)(CURL* handle) = nullptr;
  const char* (*easy_strerror)(CURLcode code) = nullptr;
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...) = nullptr;
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...) = nullptr;
  curl_slist* (*slist_append)(curl_slist* list, const char* text) = nullptr;
  void (*slist_free_all)(curl_slist* list) = nullptr;
};

// The table, loading libcurl.so.4 and calling curl_global_init the first
// time; unavailable when libcurl cannot be loaded.
util::Result<const Api*> api();

// The loaded table (api() must have succeeded before).
const Api& loaded();

template <class T>
CURLcode setopt(CURL* handle, CURLoption option, T value) {
  return loaded().easy_setopt(handle, option, value);
}
template <class T>
CURLcode getinfo(CURL* handle, CURLINFO info, T* out) {
  return loaded().easy_getinfo(handle, info, out);
}

} // namespace mason::registry::curl
