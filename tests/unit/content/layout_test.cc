// StoreLayout names every path under a store root (content/layout.h).
#include <gtest/gtest.h>

#include "mason/content/layout.h"

namespace mason::content {
namespace {

TEST(StoreLayout, EveryPathIsUnderTheRoot) {
  const StoreLayout l("/var/lib/mason");
  EXPECT_EQ(l.snapshots(false), "/var/lib/mason/snapshots");
  EXPECT_EQ(l.snapshots(true), "/var/lib/mason/snapshots-copy");
  EXPECT_EQ(l.cache_mounts(), "/var/lib/mason/cache-mounts");
  EXPECT_EQ(l.build_tmp(), "/var/lib/mason/build-tmp");
  EXPECT_EQ(l.runtime_state(), "/var/lib/mason/run");
  EXPECT_EQ(l.cache_lock(), "/var/lib/mason/cache/lock");
  EXPECT_EQ(l.layers_lock(), "/var/lib/mason/cache/layers.lock");
  EXPECT_EQ(l.http_cache(), "/var/lib/mason/cache/http");
  EXPECT_EQ(l.context_stats(), "/var/lib/mason/cache/context");
  EXPECT_EQ(l.tree_sizes(), "/var/lib/mason/cache/tree-sizes");
  for (const auto& p : {l.cache_lock(), l.layers_lock(), l.http_cache(), l.tree_sizes()})
    EXPECT_TRUE(p.starts_with(l.cache_dir() + "/")) << p;
}

} // namespace
} // namespace mason::content
