#include "mason/sys/dynlib.h"

#include <dlfcn.h>

namespace mason::sys {

util::Result<void*> open_library(const std::string& soname, const std::string& package) {
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return util::make_error(util::ErrorCode::unavailable,
                            "cannot load " + soname + " (install " + package +
                                "): " + (why != nullptr ? why : "dlopen failed"));
  }
  return handle;
}

util::Result<void*> symbol(void* library, const char* name) {
  void* s = ::dlsym(library, name);
  if (s == nullptr)
    return util::make_error(util::ErrorCode::internal,
                            std::string("symbol ") + name + " missing from a loaded library");
  return s;
}

} // namespace mason::sys
