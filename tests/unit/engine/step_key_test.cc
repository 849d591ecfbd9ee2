// Step keys: each field that can change a step's result changes its key;
// what must not count (proxy args outside the scope, secrets' values,
// cache mount contents) does not; miss explanations name the change.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "mason/engine/step_key.h"

namespace mason::engine {
namespace {

using nlohmann::json;

struct Fixture {
  std::string parent = "sha256:parent";
  std::string base = "image x@sha256:1";
  image::ImageConfig config;
  df::EnvList env;
  std::vector<df::ArgDef> args;
  std::map<std::string, std::string> contents{{"", "ctx-1"}, {"builder", "stage-1"}};
  KeySources sources;

  Fixture() {
    config.config.working_dir = "/src";
    sources.source = [this](const std::string& from, const std::vector<std::string>& paths,
                            json& inputs) -> util::Result<std::string> {
      std::string k = contents.at(from);
      for (const auto& p : paths) k += "|" + p;
      if (from.empty()) inputs["files"]["main.go"] = contents.at("");
      return k;
    };
  }
  StepKey key(const df::Instruction& instr) {
    KeyScope scope{parent, base, config, env, args};
    auto k = step_key(sources, scope, instr);
    EXPECT_TRUE(k) << k.error().to_string();
    return k ? *k : StepKey{};
  }
};

df::Instruction make(df::InstructionKind kind, std::string text = "STEP") {
  return df::Instruction{std::move(kind), "X", std::move(text), 1, 1};
}

df::RunInstr run_instr() {
  df::RunInstr r;
  r.cmd.args = {"go build -o /app ."};
  r.cmd.prepend_shell = true;
  return r;
}

df::CopyInstr copy_instr() {
  df::CopyInstr c;
  c.files.sources = {"main.go"};
  c.files.dest = "/src/";
  return c;
}

// Applies each mutation to a fresh fixture and instruction; every one must
// give a key of its own.
template <typename I>
void expect_all_distinct(const std::vector<std::function<void(Fixture&, I&)>>& mutations,
                         const std::function<I()>& make_instr) {
  std::set<std::string> keys;
  {
    Fixture f;
    keys.insert(f.key(make(make_instr())).key);
  }
  for (std::size_t i = 0; i < mutations.size(); ++i) {
    Fixture f;
    I instr = make_instr();
    mutations[i](f, instr);
    EXPECT_TRUE(keys.insert(f.key(make(instr)).key).second) << "mutation " << i;
  }
}

TEST(StepKey, SameInputsSameKey) {
  Fixture a, b;
  EXPECT_EQ(a.key(make(run_instr())).key, b.key(make(run_instr())).key);
  EXPECT_EQ(a.key(make(copy_instr())).key, b.key(make(copy_instr())).key);
  EXPECT_NE(a.key(make(run_instr())).key, a.key(make(copy_instr())).key);
}

TEST(StepKey, EveryRunInputCounts) {
  expect_all_distinct<df::RunInstr>(
      {
          [](Fixture& f, df::RunInstr&) { f.parent = "sha256:other"; },
          [](Fixture&, df::RunInstr& r) { r.cmd.args = {"go build -o /app2 ."}; },
          [](Fixture&, df::RunInstr& r) { r.cmd.prepend_shell = false; },
          [](Fixture&, df::RunInstr& r) {
            r.cmd.files.push_back({"EOF", "echo hi\n", false});
          },
          [](Fixture&, df::RunInstr& r) {
            r.cmd.files.push_back({"EOF", "echo hi\n", true});
          },
          [](Fixture& f, df::RunInstr&) {
            f.config.config.shell = {"/bin/bash", "-c"};
          },
          [](Fixture& f, df::RunInstr&) { f.config.config.user = "nobody"; },
          [](Fixture& f, df::RunInstr&) { f.config.config.working_dir = "/other"; },
          [](Fixture& f, df::RunInstr&) { f.env.set("VERSION", "2"); },
          [](Fixture&, df::RunInstr& r) { r.network = "none"; },
          [](Fixture&, df::RunInstr& r) { r.network = "host"; },
          [](Fixture&, df::RunInstr& r) { r.security = "insecure"; },
          [](Fixture&, df::RunInstr& r) {
            r.devices.push_back({"/dev/fuse", false});
          },
          [](Fixture&, df::RunInstr& r) {
            df::Mount m;
            m.type = df::MountType::bind;
            m.target = "/ctx";
            r.resolved_mounts.push_back(m);
          },
          [](Fixture& f, df::RunInstr& r) {
            df::Mount m;
            m.type = df::MountType::bind;
            m.target = "/ctx";
            r.resolved_mounts.push_back(m);
            f.contents[""] = "ctx-2"; // the bound context changed
          },
          [](Fixture&, df::RunInstr& r) {
            df::Mount m;
            m.type = df::MountType::cache;
            m.target = "/root/.cache";
            r.resolved_mounts.push_back(m);
          },
          [](Fixture&, df::RunInstr& r) {
            df::Mount m;
            m.type = df::MountType::tmpfs;
            m.target = "/tmp";
            r.resolved_mounts.push_back(m);
          },
      },
      [] { return run_instr(); });
}

TEST(StepKey, EveryCopyInputCounts) {
  expect_all_distinct<df::CopyInstr>(
      {
          [](Fixture& f, df::CopyInstr&) { f.parent = "sha256:other"; },
          [](Fixture& f, df::CopyInstr&) { f.contents[""] = "ctx-2"; },
          [](Fixture&, df::CopyInstr& c) {
            c.files.sources = {"main.go", "go.mod"};
          },
          [](Fixture&, df::CopyInstr& c) { c.files.dest = "/dst/"; },
          [](Fixture& f, df::CopyInstr& c) {
            c.files.dest = "dst/";
            f.config.config.working_dir = "/elsewhere";
          },
          [](Fixture&, df::CopyInstr& c) { c.from = "builder"; },
          [](Fixture&, df::CopyInstr& c) { c.chown = "1000:1000"; },
          [](Fixture&, df::CopyInstr& c) { c.chmod = "0755"; },
          [](Fixture&, df::CopyInstr& c) { c.link = true; },
          [](Fixture&, df::CopyInstr& c) { c.parents = true; },
          [](Fixture&, df::CopyInstr& c) { c.excludes = {"*.md"}; },
          [](Fixture&, df::CopyInstr& c) {
            c.files.contents.push_back({"f", "data", true});
          },
      },
      [] { return copy_instr(); });
}

TEST(StepKey, NetworkIsTheEffectiveOne) {
  Fixture host_default, none_default;
  none_default.sources.default_network = executor::NetworkMode::none;
  df::RunInstr none = run_instr();
  none.network = "none";
  EXPECT_EQ(none_default.key(make(run_instr())).key, host_default.key(make(none)).key);
  EXPECT_NE(none_default.key(make(run_instr())).key, host_default.key(make(run_instr())).key);
}

TEST(StepKey, WhatMustNotCountDoesNot) {
  Fixture a;
  const auto before = a.key(make(copy_instr())).key;
  a.env.set("VERSION", "2"); // COPY does not see the environment
  a.config.config.user = "nobody";
  EXPECT_EQ(before, a.key(make(copy_instr())).key);

  Fixture b;
  df::RunInstr r = run_instr();
  df::Mount secret;
  secret.type = df::MountType::secret;
  secret.cache_id = "token";
  r.resolved_mounts.push_back(secret);
  const auto with_secret = b.key(make(r)).key;
  Fixture c; // the secret's value never reaches the key builder at all
  EXPECT_EQ(with_secret, c.key(make(r)).key);
}

TEST(StepKey, AddUrlIsKeyedByWhatItDownloads) {
  Fixture f;
  std::map<std::string, std::string> served{
      {"https://example.com/x.tar.gz", "sha256:1 modified 5"}};
  int fetched = 0;
  f.sources.remote = [&](const std::string& url, json& inputs) -> util::Result<std::string> {
    ++fetched;
    inputs["remote"][url] = served.at(url);
    return served.at(url);
  };
  df::AddInstr add;
  add.files.sources = {"https://example.com/x.tar.gz"};
  add.files.dest = "/x";
  const auto one = f.key(make(add, "ADD https://example.com/x.tar.gz /x"));
  EXPECT_EQ(one.key, f.key(make(add)).key); // same content: same key
  EXPECT_EQ(fetched, 2);
  served.begin()->second = "sha256:2 modified 5"; // new content
  const auto two = f.key(make(add, "ADD https://example.com/x.tar.gz /x"));
  EXPECT_NE(one.key, two.key);
  EXPECT_EQ(explain_miss(one.inputs, two.inputs),
            "remote source changed: https://example.com/x.tar.gz");
  served.begin()->second = "sha256:2 modified 6"; // same bytes, new Last-Modified (the mtime)
  EXPECT_NE(two.key, f.key(make(add)).key);
  // With --checksum nothing is downloaded for the key: the checksum is it.
  add.checksum = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(f.key(make(add)).key, f.key(make(add)).key);
  EXPECT_EQ(fetched, 4);
  // A download that fails fails the key, naming the URL.
  f.sources.remote = [](const std::string& url, json&) -> util::Result<std::string> {
    return util::make_error(util::ErrorCode::unavailable, url + ": invalid response status 404");
  };
  add.checksum.clear();
  KeyScope scope{f.parent, f.base, f.config, f.env, f.args};
  auto failed = step_key(f.sources, scope, make(add));
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().to_string().find("https://example.com/x.tar.gz"), std::string::npos);
}

TEST(StepKey, GitSourcesNeverRepeat) {
  Fixture f;
  df::AddInstr add;
  add.files.sources = {"https://github.com/moby/buildkit.git"};
  add.files.dest = "/x";
  EXPECT_NE(f.key(make(add)).key, f.key(make(add)).key);
}

TEST(StepKey, MissExplanations) {
  Fixture f;
  f.args = {{"VERSION", std::nullopt}};
  f.env.set("VERSION", "1");
  const auto one = f.key(make(run_instr(), "RUN go build")).inputs;
  EXPECT_EQ(explain_miss(json(), one), "no cache record");
  f.env.set("VERSION", "2");
  EXPECT_EQ(explain_miss(one, f.key(make(run_instr(), "RUN go build")).inputs),
            "build arg changed: VERSION");
  EXPECT_EQ(explain_miss(one, f.key(make(run_instr(), "RUN go vet")).inputs),
            "instruction changed");
  Fixture g;
  const auto copy_one = g.key(make(copy_instr(), "COPY main.go /src/")).inputs;
  g.contents[""] = "ctx-2";
  EXPECT_EQ(explain_miss(copy_one, g.key(make(copy_instr(), "COPY main.go /src/")).inputs),
            "file changed: main.go");
  g.base = "image x@sha256:2";
  EXPECT_EQ(explain_miss(copy_one, g.key(make(copy_instr(), "COPY main.go /src/")).inputs),
            "base changed: \"image x@sha256:1\" -> \"image x@sha256:2\"");
}

} // namespace
} // namespace mason::engine
