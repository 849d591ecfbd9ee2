// The flags of `mason build` with docker's key=value syntax (cli/flags.h).
#include <gtest/gtest.h>

#include "mason/cli/flags.h"

using namespace mason;
using engine::CacheSpec;
using engine::OutputType;

TEST(OutputFlag, Types) {
  auto o = cli::parse_output_flag("type=oci,dest=/tmp/x.tar,name=a:1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, OutputType::oci);
  EXPECT_EQ(o->dest, "/tmp/x.tar");
  EXPECT_EQ(o->names, std::vector<std::string>{"a:1"});
  auto bare = cli::parse_output_flag("out/dir");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->type, OutputType::local);
  EXPECT_EQ(bare->dest, "out/dir");
  auto image = cli::parse_output_flag("type=image,name=x");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->type, OutputType::image);
}

TEST(OutputFlag, Registry) {
  auto o = cli::parse_output_flag("type=registry,name=localhost:5000/a:1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->type, OutputType::registry);
  EXPECT_EQ(o->names, std::vector<std::string>{"localhost:5000/a:1"});
  auto push = cli::parse_output_flag("type=image,name=x,push=true");
  ASSERT_TRUE(push);
  EXPECT_TRUE(push->push);
  EXPECT_FALSE(cli::parse_output_flag("type=registry")); // no name
}

TEST(OutputFlag, Errors) {
  EXPECT_FALSE(cli::parse_output_flag("type=s3,name=x"));
  EXPECT_FALSE(cli::parse_output_flag("type=local"));       // no dest
  EXPECT_FALSE(cli::parse_output_flag("type=tar,bogus=1")); // unknown key
}

TEST(SecretFlag, Forms) {
  auto env = cli::parse_secret_flag("id=tok,env=HOME");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->id, "tok");
  EXPECT_EQ(env->env, "HOME");
  auto file = cli::parse_secret_flag("id=f,src=/etc/hostname");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->file, "/etc/hostname");
  auto implicit = cli::parse_secret_flag("id=GITHUB_TOKEN");
  ASSERT_TRUE(implicit);
  EXPECT_EQ(implicit->env, "GITHUB_TOKEN");
  EXPECT_FALSE(cli::parse_secret_flag("src=/etc/hostname"));        // no id
  EXPECT_FALSE(cli::parse_secret_flag("id=x,src=/nonexistent/zz")); // missing file
  EXPECT_FALSE(cli::parse_secret_flag("id=x,colour=red"));
}

TEST(CacheFlag, LocalAndRegistryForms) {
  auto to = cli::parse_cache_flag("type=local,dest=/tmp/c,mode=max,tag=web", true);
  ASSERT_TRUE(to) << to.error().to_string();
  EXPECT_EQ(to->type, CacheSpec::Type::local);
  EXPECT_EQ(to->dir, "/tmp/c");
  EXPECT_EQ(to->tag, "web");
  EXPECT_TRUE(to->max);
  auto reg = cli::parse_cache_flag("type=registry,ref=reg.example/app:cache", true);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->type, CacheSpec::Type::registry);
  EXPECT_EQ(reg->ref, "reg.example/app:cache");
  EXPECT_FALSE(reg->max);
  auto bare = cli::parse_cache_flag("reg.example/app:cache", false);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->type, CacheSpec::Type::registry);
  EXPECT_EQ(bare->ref, "reg.example/app:cache");
  auto from = cli::parse_cache_flag("type=local,src=/tmp/c", false);
  ASSERT_TRUE(from);
  EXPECT_EQ(from->dir, "/tmp/c");
}

TEST(CacheFlag, BadValuesAreRefusedWithTheirText) {
  for (const char* bad : {"type=local", "type=local,src=/x", "type=registry", "type=inline",
                          "type=gha,url=x", "type=local,dest=/x,mode=all",
                          "type=local,dest=/x,compression=zstd", "reg.example/app:cache"}) {
    auto r = cli::parse_cache_flag(bad, true);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().to_string().find("--cache-to"), std::string::npos) << bad;
  }
  EXPECT_FALSE(cli::parse_cache_flag("type=local,dest=/x", false)) << "import takes src=";
  EXPECT_FALSE(cli::parse_cache_flag("type=local,src=/x,mode=max", false)) << "mode is for export";
}

TEST(OutputFlag, CompressionLevel) {
  auto o = cli::parse_output_flag("type=image,name=a:1,compression=gzip,compression-level=9");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->compression_level, std::optional<int>(9));
  EXPECT_FALSE(cli::parse_output_flag("type=image,compression-level=10"));
  EXPECT_FALSE(cli::parse_output_flag("type=image,compression-level=x"));
  EXPECT_FALSE(cli::parse_output_flag("type=image,compression=zstd"));
}

// Exporter booleans as BuildKit reads them: Go's ParseBool, a key alone is
// true, anything else names the key.
TEST(OutputFlag, BooleansAndMediaTypes) {
  auto o = cli::parse_output_flag("type=image,name=x,push,oci-mediatypes=T");
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_TRUE(o->push);
  EXPECT_EQ(o->oci_mediatypes, true);
  o = cli::parse_output_flag("type=oci,dest=o.tar,oci-mediatypes=0");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->oci_mediatypes, false);
  EXPECT_FALSE(cli::parse_output_flag("type=oci,dest=o.tar").value().oci_mediatypes);
  auto bad = cli::parse_output_flag("type=image,name=x,push=yes");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("non-bool value specified for push"), std::string::npos);
  auto cache = cli::parse_cache_flag("type=local,dest=d,oci-mediatypes=false", true);
  ASSERT_FALSE(cache);
  EXPECT_NE(cache.error().to_string().find("OCI media types only"), std::string::npos);
  EXPECT_TRUE(
      cli::parse_cache_flag("type=local,dest=d,oci-mediatypes=true,image-manifest=true", true));
}
