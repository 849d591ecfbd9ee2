#include <gtest/gtest.h>

#include "mason/build/build.h"
#include "mason/build/engine.h"

using namespace mason;
using build::OutputType;

TEST(OutputFlag, Types) {
  auto o = build::parse_output_flag("type=oci,dest=/tmp/x.tar,name=a:1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, OutputType::oci);
  EXPECT_EQ(o->dest, "/tmp/x.tar");
  EXPECT_EQ(o->names, std::vector<std::string>{"a:1"});
  auto bare = build::parse_output_flag("out/dir");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->type, OutputType::local);
  EXPECT_EQ(bare->dest, "out/dir");
  auto image = build::parse_output_flag("type=image,name=x");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->type, OutputType::image);
}

TEST(OutputFlag, Registry) {
  auto o = build::parse_output_flag("type=registry,name=localhost:5000/a:1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, OutputType::registry);
  EXPECT_EQ(o->names, std::vector<std::string>{"localhost:5000/a:1"});
  auto push = build::parse_output_flag("type=image,name=x,push=true");
  ASSERT_TRUE(push);
  EXPECT_TRUE(push->push);
  EXPECT_FALSE(build::parse_output_flag("type=registry")); // no name
}

TEST(OutputFlag, Errors) {
  EXPECT_FALSE(build::parse_output_flag("type=s3,name=x"));
  EXPECT_FALSE(build::parse_output_flag("type=local"));       // no dest
  EXPECT_FALSE(build::parse_output_flag("type=tar,bogus=1")); // unknown key
}

TEST(SecretFlag, Forms) {
  auto env = build::parse_secret_flag("id=tok,env=HOME");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->id, "tok");
  EXPECT_EQ(env->env, "HOME");
  auto file = build::parse_secret_flag("id=f,src=/etc/hostname");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->file, "/etc/hostname");
  auto implicit = build::parse_secret_flag("id=GITHUB_TOKEN");
  ASSERT_TRUE(implicit);
  EXPECT_EQ(implicit->env, "GITHUB_TOKEN");
  EXPECT_FALSE(build::parse_secret_flag("src=/etc/hostname"));        // no id
  EXPECT_FALSE(build::parse_secret_flag("id=x,src=/nonexistent/zz")); // missing file
  EXPECT_FALSE(build::parse_secret_flag("id=x,colour=red"));
}

TEST(StageForFrom, NamesIndexesAndImages) {
  frontend::dockerfile::StageGraph g;
  g.stages.resize(3);
  for (int i = 0; i < 3; ++i) g.stages[static_cast<std::size_t>(i)].index = i;
  g.stages[0].name = "builder";
  EXPECT_EQ(build::stage_for_from(g, "builder"), 0);
  EXPECT_EQ(build::stage_for_from(g, "Builder"), 0);
  EXPECT_EQ(build::stage_for_from(g, "1"), 1);
  EXPECT_EQ(build::stage_for_from(g, "7"), -1);
  EXPECT_EQ(build::stage_for_from(g, "nginx:alpine"), -1);
  EXPECT_EQ(build::stage_for_from(g, "99999999999999999999"), -1);
}

namespace mason::build {
namespace {

TEST(CacheFlag, LocalAndRegistryForms) {
  auto to = parse_cache_flag("type=local,dest=/tmp/c,mode=max,tag=web", true);
  ASSERT_TRUE(to) << to.error().to_string();
  EXPECT_EQ(to->type, CacheSpec::Type::local);
  EXPECT_EQ(to->dir, "/tmp/c");
  EXPECT_EQ(to->tag, "web");
  EXPECT_TRUE(to->max);
  auto reg = parse_cache_flag("type=registry,ref=reg.example/app:cache", true);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->type, CacheSpec::Type::registry);
  EXPECT_EQ(reg->ref, "reg.example/app:cache");
  EXPECT_FALSE(reg->max);
  auto bare = parse_cache_flag("reg.example/app:cache", false);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->type, CacheSpec::Type::registry);
  EXPECT_EQ(bare->ref, "reg.example/app:cache");
  auto from = parse_cache_flag("type=local,src=/tmp/c", false);
  ASSERT_TRUE(from);
  EXPECT_EQ(from->dir, "/tmp/c");
}

TEST(CacheFlag, BadValuesAreRefusedWithTheirText) {
  for (const char* bad : {"type=local", "type=local,src=/x", "type=registry", "type=inline",
                          "type=gha,url=x", "type=local,dest=/x,mode=all",
                          "type=local,dest=/x,compression=zstd", "reg.example/app:cache"}) {
    auto r = parse_cache_flag(bad, true);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().to_string().find("--cache-to"), std::string::npos) << bad;
  }
  EXPECT_FALSE(parse_cache_flag("type=local,dest=/x", false)) << "import takes src=";
  EXPECT_FALSE(parse_cache_flag("type=local,src=/x,mode=max", false)) << "mode is for export";
}

} // namespace
} // namespace mason::build

TEST(OutputFlag, CompressionLevel) {
  auto o = build::parse_output_flag("type=image,name=a:1,compression=gzip,compression-level=9");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->compression_level, std::optional<int>(9));
  EXPECT_FALSE(build::parse_output_flag("type=image,compression-level=10"));
  EXPECT_FALSE(build::parse_output_flag("type=image,compression-level=x"));
  EXPECT_FALSE(build::parse_output_flag("type=image,compression=zstd"));
}
