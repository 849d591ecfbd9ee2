// ARG/ENV scoping, word expansion per instruction and the stage graph
// (lowering: mason/frontend/dockerfile/stages.h). Every expectation is the
// reference builder's (BuildKit's Dockerfile frontend) behaviour; the
// comment on a test names the part of BuildKit it comes from:
//   convert.go   frontend/dockerfile/dockerfile2llb/convert.go
//   platform.go  frontend/dockerfile/dockerfile2llb/platform.go
//   commands.go  frontend/dockerfile/instructions/commands.go
//   reference.md frontend/dockerfile/docs/reference.md
//   args_test    frontend/dockerfile/dockerfile_args_test.go
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/frontend/dockerfile/frontend.h"
#include "mason/frontend/dockerfile/stages.h"

namespace mason::frontend::dockerfile {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

using BuildArgs = std::vector<std::pair<std::string, std::string>>;

LowerOptions options_with(BuildArgs build_args, std::string target = {}) {
  LowerOptions options;
  options.build_args = std::move(build_args);
  options.target = std::move(target);
  return options;
}

std::optional<Frontend> lowered(std::string_view text, const LowerOptions& options = {}) {
  auto result = load_and_lower("Dockerfile", text, options);
  if (!result) {
    ADD_FAILURE() << "unexpected error:\n" << result.error().to_string();
    return std::nullopt;
  }
  return std::move(*result);
}

// The whole error text of a Dockerfile that must fail to load or lower;
// empty when it did not fail.
std::string lower_error(std::string_view text, const LowerOptions& options = {}) {
  auto result = load_and_lower("Dockerfile", text, options);
  if (result) return {};
  return result.error().to_string();
}

EnvList env_of(std::initializer_list<std::pair<std::string_view, std::string_view>> vars) {
  EnvList env;
  for (const auto& [name, value] : vars) env.set(name, value);
  return env;
}

// Expands every stage in order the way the build driver does: a stage
// built FROM another stage starts with that stage's final scope and
// config; one built from an image starts with `image_env`; scratch with
// nothing.
std::vector<ExpandStageResult> expand_all(const Frontend& fe, const EnvList& image_env = {}) {
  std::vector<ExpandStageResult> out;
  for (std::size_t i = 0; i < fe.graph.stages.size(); ++i) {
    const StageNode& node = fe.graph.stages[i];
    EnvList inherited;
    EnvList inherited_config;
    if (node.base_kind == BaseKind::stage && node.base_stage >= 0 &&
        static_cast<std::size_t>(node.base_stage) < out.size()) {
      const auto& parent = out[static_cast<std::size_t>(node.base_stage)].stage;
      inherited = parent.env;
      inherited_config = parent.config_env;
    } else if (node.base_kind == BaseKind::image) {
      inherited = image_env;
      inherited_config = image_env;
    }
    out.push_back(expand_stage(fe.loaded.dockerfile, fe.graph, static_cast<int>(i), inherited,
                               inherited_config));
  }
  return out;
}

// Expands all stages and fails the test on any expansion error.
std::vector<ExpandStageResult> expand_ok(const Frontend& fe, const EnvList& image_env = {}) {
  auto stages = expand_all(fe, image_env);
  for (std::size_t i = 0; i < stages.size(); ++i) {
    for (const auto& e : stages[i].errors) {
      ADD_FAILURE() << "stage " << i << " line " << e.line << ": " << e.message;
    }
  }
  return stages;
}

std::string all_messages(const std::vector<ExpandStageResult>& stages) {
  std::string out;
  for (const auto& s : stages) {
    for (const auto& e : s.errors)
      out += "line " + std::to_string(e.line) + ": " + e.message + "\n";
  }
  return out;
}

constexpr std::string_view k_unset = "<unset>";

std::string get(const EnvList& env, std::string_view name) {
  const auto v = env.get(name);
  return v ? std::string(*v) : std::string(k_unset);
}

// The n-th (0-based) instruction of type T in an expanded stage.
template <class T>
const T* nth(const ExpandStageResult& stage, std::size_t n = 0) {
  for (const auto& instr : stage.stage.commands) {
    if (const T* p = std::get_if<T>(&instr.kind)) {
      if (n == 0) return p;
      --n;
    }
  }
  return nullptr;
}

std::string label_value(const LabelInstr& label, std::string_view key) {
  for (const auto& kv : label.labels) {
    if (kv.key == key) return kv.value;
  }
  return std::string(k_unset);
}

// ---------------------------------------------------------------- ARG scope

// reference.md "Understand how ARG and FROM interact"; convert.go
// buildDispatchStates expands BaseName with the global args.
TEST(ArgScope, GlobalArgExpandsInFromBase) {
  auto fe = lowered("ARG TAG=3.19\nFROM alpine:${TAG}\n");
  ASSERT_TRUE(fe);
  ASSERT_EQ(fe->graph.stages.size(), 1u);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:3.19");
  EXPECT_EQ(fe->graph.stages[0].base_kind, BaseKind::image);
}

// convert.go buildDispatchStates: st.Platform is processed with globalArgs.
TEST(ArgScope, GlobalArgExpandsInFromPlatform) {
  auto fe = lowered("ARG PLAT=linux/arm64\nFROM --platform=$PLAT alpine\n");
  ASSERT_TRUE(fe);
  ASSERT_TRUE(fe->graph.stages[0].platform.has_value());
  EXPECT_EQ(*fe->graph.stages[0].platform, "linux/arm64");
}

// reference.md: "An ARG declared before a FROM is outside of a build stage,
// so it can't be used in any instruction after a FROM."
TEST(ArgScope, GlobalArgIsNotVisibleInsideStageWithoutRedeclaration) {
  auto fe = lowered("ARG V=1\nFROM alpine\nENV X=${V-unset}\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "unset");
  EXPECT_EQ(get(stages[0].stage.env, "V"), k_unset);
}

// convert.go dispatchArg: no default and no build-arg -> the global value.
TEST(ArgScope, RedeclaredGlobalArgTakesTheGlobalValue) {
  auto fe = lowered("ARG V=1\nFROM alpine\nARG V\nENV X=$V\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "1");
  EXPECT_EQ(get(stages[0].stage.env, "V"), "1");
}

// convert.go buildMetaArgs / dispatchArg: a build-arg wins over defaults,
// both in the global scope and in the stage.
TEST(ArgScope, BuildArgOverridesGlobalDefaultInFromAndStage) {
  auto fe = lowered("ARG V=1\nFROM alpine:$V\nARG V\nENV X=$V\n", options_with({{"V", "2"}}));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:2");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "2");
}

// convert.go dispatchArg: a stage default (hasDefault) beats the global
// value; a build-arg (hasValue) beats the stage default.
TEST(ArgScope, StageDefaultBeatsGlobalValueAndBuildArgBeatsBoth) {
  const std::string_view text = "ARG V=1\nFROM alpine\nARG V=2\nENV X=$V\n";
  {
    auto fe = lowered(text);
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.env, "X"), "2");
  }
  {
    auto fe = lowered(text, options_with({{"V", "3"}}));
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.env, "X"), "3");
  }
}

// convert.go dispatchArg: the default is processed with getEnv(d.state),
// the stage's scope (ENV and earlier ARGs), not the global args.
TEST(ArgScope, StageArgDefaultIsExpandedInTheStageScope) {
  auto fe = lowered("ARG G=global\nFROM alpine\nENV A=x\nARG B=$A-y C=${G-none}\nENV D=$B\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "B"), "x-y");
  EXPECT_EQ(get(stages[0].stage.env, "C"), "none");
  EXPECT_EQ(get(stages[0].stage.env, "D"), "x-y");
}

// convert.go dispatchArg: arg.Value stays nil, nothing is added to the
// state; args_test testEmptyStringArgInEnv: `ARG FOO` is absent from the
// environment, `ARG BAR=` is present and empty.
TEST(ArgScope, ArgWithoutValueIsUnsetAndEmptyDefaultIsSet) {
  auto fe = lowered("FROM alpine\nARG FOO\nARG BAR=\nENV X=${FOO-unset} Y=${BAR-unset}\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "FOO"), k_unset);
  EXPECT_EQ(get(stages[0].stage.env, "BAR"), "");
  EXPECT_EQ(get(stages[0].stage.env, "X"), "unset");
  EXPECT_EQ(get(stages[0].stage.env, "Y"), "");
}

// A build-arg only reaches a stage through an ARG instruction.
TEST(ArgScope, BuildArgForUndeclaredNameIsInvisible) {
  auto fe = lowered("FROM alpine\nENV X=${V-unset}\n", options_with({{"V", "1"}}));
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "unset");
}

// reference.md ARG "Scope": the example with `USER ${username:-some_user}`.
TEST(ArgScope, ArgComesIntoEffectFromItsLine) {
  auto fe = lowered("FROM busybox\nUSER ${username:-some_user}\nARG username\nUSER $username\n",
                    options_with({{"username", "what_user"}}));
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* first = nth<UserInstr>(stages[0], 0);
  const auto* second = nth<UserInstr>(stages[0], 1);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->user, "some_user");
  EXPECT_EQ(second->user, "what_user");
}

// reference.md "Using ARG variables": ENV always overrides an ARG of the
// same name, even one given with --build-arg.
TEST(ArgScope, EnvAfterArgOfSameNameWins) {
  auto fe =
      lowered("FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=v1.0.0\nLABEL v=$CONT_IMG_VER\n",
              options_with({{"CONT_IMG_VER", "v2.0.1"}}));
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* label = nth<LabelInstr>(stages[0]);
  ASSERT_TRUE(label);
  EXPECT_EQ(label_value(*label, "v"), "v1.0.0");
  EXPECT_EQ(get(stages[0].stage.env, "CONT_IMG_VER"), "v1.0.0");
  EXPECT_EQ(get(stages[0].stage.config_env, "CONT_IMG_VER"), "v1.0.0");
}

// convert.go dispatchArg: the ARG value goes into the state with AddEnv,
// replacing an earlier ENV of the same name for later instructions; the
// image config keeps the ENV value.
TEST(ArgScope, ArgAfterEnvOfSameNameReplacesItInScopeOnly) {
  auto fe = lowered("FROM alpine\nENV V=env\nARG V=arg\nLABEL l=$V\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* label = nth<LabelInstr>(stages[0]);
  ASSERT_TRUE(label);
  EXPECT_EQ(label_value(*label, "l"), "arg");
  EXPECT_EQ(get(stages[0].stage.config_env, "V"), "env");
}

// platform.go defaultArgs + buildMetaArgs: the FROM scope holds only the
// platform args and declared global ARGs; a build-arg alone adds nothing.
TEST(ArgScope, BuildArgWithoutGlobalArgIsNotInFromScope) {
  auto fe = lowered("FROM img-${TAG:-none}\n", options_with({{"TAG", "x"}}));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "img-none");
  EXPECT_THAT(fe->graph.unused_build_args, ElementsAre("TAG"));
}

// convert.go buildMetaArgs: a repeated global `ARG A` without a value
// leaves the earlier value in place.
TEST(ArgScope, RepeatedGlobalArgWithoutValueKeepsEarlierValue) {
  auto fe = lowered("ARG A=1\nARG A\nFROM img:$A\nARG A\nENV X=$A\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "img:1");
  EXPECT_EQ(get(expand_ok(*fe)[0].stage.env, "X"), "1");
}

// stages.h: build_args "last wins" (BuildKit keeps them in a map).
TEST(ArgScope, RepeatedBuildArgLastWins) {
  auto fe = lowered("ARG V\nFROM img:$V\n", options_with({{"V", "1"}, {"V", "2"}}));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "img:2");
}

// reference.md "Using ARG variables": ENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}.
TEST(ArgScope, EnvCanTakeItsDefaultFromAnArg) {
  const std::string_view text =
      "FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\n";
  {
    auto fe = lowered(text);
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.config_env, "CONT_IMG_VER"), "v1.0.0");
  }
  {
    auto fe = lowered(text, options_with({{"CONT_IMG_VER", "v2.0.1"}}));
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.config_env, "CONT_IMG_VER"), "v2.0.1");
  }
}

// reference.md ARG: "Unlike ENV, an ARG variable is not embedded in the
// image"; convert.go dispatchArg adds to d.state only, dispatchEnv also to
// d.image.Config.Env.
TEST(ArgScope, ArgValuesAreInScopeButNotInConfigEnv) {
  auto fe = lowered("FROM alpine\nARG A=1\nENV E=2\nWORKDIR /$A\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "A"), "1");
  EXPECT_EQ(get(stages[0].stage.env, "E"), "2");
  EXPECT_EQ(get(stages[0].stage.config_env, "E"), "2");
  EXPECT_EQ(get(stages[0].stage.config_env, "A"), k_unset);
  const auto* wd = nth<WorkdirInstr>(stages[0]);
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->path, "/1");
}

// reference.md ARG "Scope": "An ARG variable declared within a build stage
// is automatically inherited by other stages based on that stage.
// Unrelated build stages do not have access to the variable."
TEST(ArgScope, ChildStageInheritsParentScopeButSiblingDoesNot) {
  auto fe = lowered("FROM alpine AS base\nARG V=1\nENV E=2\n"
                    "FROM base AS child\nENV X=$V-$E\n"
                    "FROM alpine AS other\nENV Y=${V-unset}\n");
  ASSERT_TRUE(fe);
  ASSERT_EQ(fe->graph.stages.size(), 3u);
  ASSERT_EQ(fe->graph.stages[1].base_kind, BaseKind::stage);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[1].stage.env, "X"), "1-2");
  EXPECT_EQ(get(stages[1].stage.config_env, "E"), "2");
  EXPECT_EQ(get(stages[1].stage.config_env, "V"), k_unset);
  EXPECT_EQ(get(stages[2].stage.env, "Y"), "unset");
}

// args_test testMultiArgs: several ARGs per line, quoted values, global
// ARGs referring to earlier ones.
TEST(ArgScope, MultipleAndQuotedMetaArgs) {
  auto fe = lowered("ARG a1=\"foo bar\" a2=box\nARG a3=\"$a2-foo\"\n"
                    "FROM busy$a2 AS build\nARG a3 a4=\"123 456\" a1\nENV OUT=\"$a1:$a3:$a4\"\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "busybox");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "OUT"), "foo bar:box-foo:123 456");
}

// convert.go buildMetaArgs: global ARGs are resolved in order, so a later
// default sees the build-arg value of an earlier one.
TEST(ArgScope, GlobalArgDefaultsSeeEarlierBuildArgOverrides) {
  auto fe = lowered("ARG A=1\nARG B=$A-x\nFROM img:$B\n", options_with({{"A", "9"}}));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "img:9-x");
}

// args_test testGlobalArgErrors: `ARG FOO=${FOO:?"custom error"}` fails
// without a build-arg, and the default is not evaluated when one is given.
TEST(ArgScope, GlobalArgDefaultErrorsOnlyWhenUsed) {
  const std::string_view text = "ARG FOO=${FOO:?\"custom error\"}\nFROM busybox\n";
  EXPECT_THAT(lower_error(text), HasSubstr("custom error"));
  EXPECT_EQ(lower_error(text, options_with({{"FOO", "bar"}})), "");
}

// args_test testArgDefaultExpansion: a stage ARG default with ${X:?msg}
// fails when X is unset, works when X is given, and is not expanded at all
// when the ARG itself is given as a build-arg.
TEST(ArgScope, StageArgDefaultErrorsOnlyWhenUsed) {
  const std::string_view text = "FROM busybox\nARG FOO\nARG BAR=${FOO:?\"foo missing\"}\n";
  {
    auto fe = lowered(text);
    ASSERT_TRUE(fe);
    auto stages = expand_all(*fe);
    ASSERT_EQ(stages[0].errors.size(), 1u) << all_messages(stages);
    EXPECT_THAT(stages[0].errors[0].message, HasSubstr("foo missing"));
    EXPECT_EQ(stages[0].errors[0].line, 3);
  }
  for (const auto& arg : {std::pair<std::string, std::string>{"FOO", "123"}, {"BAR", "123"}}) {
    auto fe = lowered(text, options_with({arg}));
    ASSERT_TRUE(fe);
    auto stages = expand_all(*fe);
    EXPECT_TRUE(stages[0].ok()) << arg.first << ": " << all_messages(stages);
    EXPECT_EQ(get(stages[0].stage.env, "BAR"), "123") << arg.first;
  }
}

// reference.md "Environment replacement": the same value is used for a
// variable throughout one instruction (abc/def/ghi example).
TEST(ArgScope, EnvUsesValuesFromBeforeTheInstruction) {
  auto fe = lowered("FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "def"), "hello");
  EXPECT_EQ(get(stages[0].stage.env, "ghi"), "bye");
  EXPECT_EQ(get(stages[0].stage.env, "abc"), "bye");
}

// convert.go dispatchStages: the base image's Env is added to the state
// before the stage's instructions run.
TEST(ArgScope, BaseImageEnvIsInScope) {
  auto fe = lowered("FROM alpine\nENV PATH=$PATH:/opt/bin\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe, env_of({{"PATH", "/usr/bin:/bin"}}));
  EXPECT_EQ(get(stages[0].stage.config_env, "PATH"), "/usr/bin:/bin:/opt/bin");
}

// convert.go buildDispatchStates: "base name (%s) should not be blank".
TEST(ArgScope, BlankBaseNameAfterExpansionIsAnError) {
  EXPECT_THAT(lower_error("ARG B\nFROM $B\n"), HasSubstr("base name ($B) should not be blank"));
}

// ----------------------------------------------------------- platform ARGs

// platform.go defaultArgs; reference.md "Automatic platform ARGs in the
// global scope".
TEST(ArgPlatform, PlatformArgsAreInTheGlobalScope) {
  auto fe = lowered("FROM alpine:$TARGETOS-$TARGETARCH\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:linux-amd64");
  const EnvList& g = fe->graph.global_args;
  EXPECT_EQ(get(g, "TARGETPLATFORM"), "linux/amd64");
  EXPECT_EQ(get(g, "TARGETOS"), "linux");
  EXPECT_EQ(get(g, "TARGETARCH"), "amd64");
  EXPECT_EQ(get(g, "TARGETVARIANT"), "");
  EXPECT_EQ(get(g, "BUILDPLATFORM"), "linux/amd64");
  EXPECT_EQ(get(g, "BUILDOS"), "linux");
  EXPECT_EQ(get(g, "BUILDARCH"), "amd64");
  EXPECT_EQ(get(g, "BUILDVARIANT"), "");
}

// reference.md: "These arguments are defined in the global scope so are not
// automatically available inside build stages ... redefine it without value."
TEST(ArgPlatform, PlatformArgsInsideStageOnlyAfterArg) {
  auto fe = lowered("FROM alpine\nENV X=${TARGETARCH-unset}\nARG TARGETARCH\nENV Y=$TARGETARCH\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "unset");
  EXPECT_EQ(get(stages[0].stage.env, "Y"), "amd64");
}

// convert.go buildMetaArgs expands global defaults with the platform args;
// dispatchArg expands a stage default with the stage scope, where an
// undeclared TARGETARCH is unset.
TEST(ArgPlatform, PlatformArgsInArgDefaults) {
  auto fe = lowered("ARG IMG=alpine:$TARGETARCH\nFROM $IMG\nARG X=[$TARGETARCH]\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:amd64");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "X"), "[]");
}

// containerd platforms.Parse normalizes arm64 variant v8 to "" before
// platform.go defaultArgs formats it (vendor/github.com/containerd/
// platforms/database.go normalizeArch).
TEST(ArgPlatform, TargetPlatformArm64V8IsNormalized) {
  LowerOptions options;
  options.target_platform = "linux/arm64/v8";
  auto fe = lowered("FROM alpine\n", options);
  ASSERT_TRUE(fe);
  const EnvList& g = fe->graph.global_args;
  EXPECT_EQ(get(g, "TARGETPLATFORM"), "linux/arm64");
  EXPECT_EQ(get(g, "TARGETOS"), "linux");
  EXPECT_EQ(get(g, "TARGETARCH"), "arm64");
  EXPECT_EQ(get(g, "TARGETVARIANT"), "");
}

TEST(ArgPlatform, TargetPlatformWithVariant) {
  LowerOptions options;
  options.target_platform = "linux/arm/v7";
  auto fe = lowered("FROM alpine\nARG TARGETPLATFORM TARGETVARIANT\n", options);
  ASSERT_TRUE(fe);
  const EnvList& g = fe->graph.global_args;
  EXPECT_EQ(get(g, "TARGETPLATFORM"), "linux/arm/v7");
  EXPECT_EQ(get(g, "TARGETARCH"), "arm");
  EXPECT_EQ(get(g, "TARGETVARIANT"), "v7");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "TARGETPLATFORM"), "linux/arm/v7");
  EXPECT_EQ(get(stages[0].stage.env, "TARGETVARIANT"), "v7");
}

// The usual cross-compilation pattern: FROM --platform=$BUILDPLATFORM.
TEST(ArgPlatform, BuildPlatformArgsFollowTheBuildPlatform) {
  LowerOptions options;
  options.build_platform = "linux/arm64";
  options.target_platform = "linux/amd64";
  auto fe = lowered("FROM --platform=$BUILDPLATFORM golang AS build\nARG BUILDARCH TARGETARCH\n",
                    options);
  ASSERT_TRUE(fe);
  ASSERT_TRUE(fe->graph.stages[0].platform.has_value());
  EXPECT_EQ(*fe->graph.stages[0].platform, "linux/arm64");
  EXPECT_EQ(get(fe->graph.global_args, "BUILDOS"), "linux");
  EXPECT_EQ(get(fe->graph.global_args, "BUILDARCH"), "arm64");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "BUILDARCH"), "arm64");
  EXPECT_EQ(get(stages[0].stage.env, "TARGETARCH"), "amd64");
}

// platform.go defaultArgs: `if ov, ok := overrides[kv[0]]; ok { v = ov }`.
TEST(ArgPlatform, BuildArgOverridesPlatformArg) {
  auto fe = lowered("FROM alpine:$TARGETARCH\nARG TARGETARCH\nENV A=$TARGETARCH\n",
                    options_with({{"TARGETARCH", "riscv64"}}));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:riscv64");
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "A"), "riscv64");
}

// convert.go buildMetaArgs: a global ARG with a default replaces the
// predefined value (AddOrReplace).
TEST(ArgPlatform, GlobalArgDefaultShadowsPlatformArg) {
  auto fe = lowered("ARG TARGETARCH=custom\nFROM alpine:$TARGETARCH\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base, "alpine:custom");
}

// args_test testTargetStageNameArg; platform.go defaultArgs: the target's
// name, "default" when the target (the last stage) has no name.
TEST(ArgPlatform, TargetStageArg) {
  const std::string text = "FROM alpine AS base\nENV FIRST=${TARGETSTAGE-unset}\nARG TARGETSTAGE\n"
                           "FROM scratch AS foo\nFROM scratch\n";
  {
    auto fe = lowered(text, options_with({}, "foo"));
    ASSERT_TRUE(fe);
    auto stages = expand_ok(*fe);
    EXPECT_EQ(get(stages[0].stage.env, "FIRST"), "unset");
    EXPECT_EQ(get(stages[0].stage.env, "TARGETSTAGE"), "foo");
  }
  {
    auto fe = lowered(text);
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.env, "TARGETSTAGE"), "default");
  }
  {
    auto fe = lowered(text + "FROM scratch AS final\n");
    ASSERT_TRUE(fe);
    EXPECT_EQ(get(expand_ok(*fe)[0].stage.env, "TARGETSTAGE"), "final");
  }
}

// ------------------------------------------------- build args: used/unused

// reference.md "Predefined ARGs": the *_PROXY args need no ARG; convert.go
// proxyEnvFromBuildArgs. Undeclared others are unused.
TEST(ArgBuildArgs, ProxyArgsAreNotUnusedAndGoToProxyEnv) {
  auto fe = lowered("FROM alpine\nRUN true\n", options_with({{"HTTP_PROXY", "http://p:3128"},
                                                             {"https_proxy", "http://s:3128"},
                                                             {"NO_PROXY", "localhost"},
                                                             {"ftp_proxy", "ftp://f"},
                                                             {"ALL_PROXY", "socks5://a"},
                                                             {"FOO", "1"}}));
  ASSERT_TRUE(fe);
  EXPECT_THAT(fe->graph.unused_build_args, ElementsAre("FOO"));
  EXPECT_THAT(
      fe->graph.proxy_env,
      UnorderedElementsAre(std::pair<std::string, std::string>{"HTTP_PROXY", "http://p:3128"},
                           std::pair<std::string, std::string>{"https_proxy", "http://s:3128"},
                           std::pair<std::string, std::string>{"NO_PROXY", "localhost"},
                           std::pair<std::string, std::string>{"ftp_proxy", "ftp://f"},
                           std::pair<std::string, std::string>{"ALL_PROXY", "socks5://a"}));
}

TEST(ArgBuildArgs, ArgsDeclaredGloballyOrInAStageAreUsed) {
  auto fe =
      lowered("ARG G\nFROM alpine\nARG S\n", options_with({{"G", "1"}, {"S", "2"}, {"X", "3"}}));
  ASSERT_TRUE(fe);
  EXPECT_THAT(fe->graph.unused_build_args, ElementsAre("X"));
  EXPECT_EQ(fe->graph.build_args.at("S"), "2");
}

// Proxy build args are passed to RUN by the runtime (llb.ProxyEnv), not put
// into the ARG/ENV scope unless declared with ARG.
TEST(ArgBuildArgs, ProxyArgIsInScopeOnlyWhenDeclared) {
  auto fe = lowered("FROM alpine\nENV A=${HTTP_PROXY-unset}\nARG HTTP_PROXY\nENV B=$HTTP_PROXY\n",
                    options_with({{"HTTP_PROXY", "http://p"}}));
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "A"), "unset");
  EXPECT_EQ(get(stages[0].stage.env, "B"), "http://p");
}

// ------------------------------------------- word expansion per instruction

// commands.go EnvCommand.Expand / LabelCommand.Expand: keys and values.
TEST(StageExpand, EnvAndLabelKeysAndValuesExpand) {
  auto fe =
      lowered("FROM alpine\nARG K=name V=value\nENV $K=$V\nLABEL $K.label=\"$V x\" \"a b\"=c\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "name"), "value");
  EXPECT_EQ(get(stages[0].stage.config_env, "name"), "value");
  const auto* label = nth<LabelInstr>(stages[0]);
  ASSERT_TRUE(label);
  ASSERT_EQ(label->labels.size(), 2u);
  EXPECT_EQ(label->labels[0].key, "name.label");
  EXPECT_EQ(label->labels[0].value, "value x");
  EXPECT_EQ(label->labels[1].key, "a b");
  EXPECT_EQ(label->labels[1].value, "c");
}

// commands.go CopyCommand.Expand: chown, chmod, sources and dest; --from is
// never expanded (convert.go toCommand); --exclude is not part of Expand.
TEST(StageExpand, CopyExpandsSourcesDestChownChmod) {
  auto fe = lowered("FROM alpine AS src\n"
                    "FROM alpine\nARG U=app M=0755 S=a D=/dst X=skip\n"
                    "COPY --from=src --chown=$U:$U --chmod=$M --exclude=$X $S/b ${S}c $D/\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* copy = nth<CopyInstr>(stages[1]);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->chown, "app:app");
  EXPECT_EQ(copy->chmod, "0755");
  EXPECT_EQ(copy->from, "src");
  EXPECT_THAT(copy->files.sources, ElementsAre("a/b", "ac"));
  EXPECT_EQ(copy->files.dest, "/dst/");
  EXPECT_THAT(copy->excludes, ElementsAre("$X"));
}

// commands.go AddCommand.Expand: chown, chmod, checksum, sources, dest.
TEST(StageExpand, AddExpandsChecksumChownChmod) {
  auto fe = lowered("FROM alpine\nARG SUM=sha256:0123 URL=https://example.com/f.tgz U=1000\n"
                    "ADD --checksum=$SUM --chown=$U --chmod=644 $URL /opt/$U/\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* add = nth<AddInstr>(stages[0]);
  ASSERT_TRUE(add);
  EXPECT_EQ(add->checksum, "sha256:0123");
  EXPECT_EQ(add->chown, "1000");
  EXPECT_EQ(add->chmod, "644");
  EXPECT_THAT(add->files.sources, ElementsAre("https://example.com/f.tgz"));
  EXPECT_EQ(add->files.dest, "/opt/1000/");
}

// commands.go WorkdirCommand/UserCommand/VolumeCommand/StopSignalCommand
// .Expand.
TEST(StageExpand, WorkdirUserVolumeStopsignalExpand) {
  auto fe = lowered("FROM alpine\nARG D=/srv U=nobody SIG=SIGTERM\n"
                    "WORKDIR $D/app\nUSER ${U}:${U}\nVOLUME $D/data /other\n"
                    "VOLUME [\"$D/json\", \"/b\"]\nSTOPSIGNAL $SIG\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* wd = nth<WorkdirInstr>(stages[0]);
  const auto* user = nth<UserInstr>(stages[0]);
  const auto* vol1 = nth<VolumeInstr>(stages[0], 0);
  const auto* vol2 = nth<VolumeInstr>(stages[0], 1);
  const auto* sig = nth<StopSignalInstr>(stages[0]);
  ASSERT_TRUE(wd && user && vol1 && vol2 && sig);
  EXPECT_EQ(wd->path, "/srv/app");
  EXPECT_EQ(user->user, "nobody:nobody");
  EXPECT_THAT(vol1->volumes, ElementsAre("/srv/data", "/other"));
  EXPECT_THAT(vol2->volumes, ElementsAre("/srv/json", "/b"));
  EXPECT_EQ(sig->signal, "SIGTERM");
}

// convert_expose.go dispatchExpose: shlex.ProcessWords, one value may
// become several ports.
TEST(StageExpand, ExposeExpandsAndSplitsIntoWords) {
  auto fe = lowered("FROM alpine\nARG PORTS=\"80 443/udp\" ONE=8080\nEXPOSE $PORTS $ONE\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* expose = nth<ExposeInstr>(stages[0]);
  ASSERT_TRUE(expose);
  EXPECT_THAT(expose->ports, UnorderedElementsAre("80", "443/udp", "8080"));
}

// reference.md "Environment replacement": RUN, CMD and ENTRYPOINT leave
// variables to the shell; commands.go has no Expand for Cmd, Entrypoint,
// Shell, HealthCheck, Maintainer, Onbuild, and RunCommand.Expand only
// touches mounts.
TEST(StageExpand, CommandTextIsNeverExpanded) {
  auto fe = lowered("FROM alpine\nARG V=1\n"
                    "RUN echo $V\nRUN [\"echo\", \"$V\"]\nCMD echo $V\nENTRYPOINT [\"/$V\"]\n"
                    "SHELL [\"/bin/$V\", \"-c\"]\nHEALTHCHECK CMD check $V\n"
                    "MAINTAINER $V\nONBUILD RUN echo $V\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* run1 = nth<RunInstr>(stages[0], 0);
  const auto* run2 = nth<RunInstr>(stages[0], 1);
  const auto* cmd = nth<CmdInstr>(stages[0]);
  const auto* ep = nth<EntrypointInstr>(stages[0]);
  const auto* shell = nth<ShellInstr>(stages[0]);
  const auto* hc = nth<HealthcheckInstr>(stages[0]);
  const auto* mt = nth<MaintainerInstr>(stages[0]);
  const auto* ob = nth<OnbuildInstr>(stages[0]);
  ASSERT_TRUE(run1 && run2 && cmd && ep && shell && hc && mt && ob);
  EXPECT_THAT(run1->cmd.args, ElementsAre("echo $V"));
  EXPECT_THAT(run2->cmd.args, ElementsAre("echo", "$V"));
  EXPECT_THAT(cmd->cmd.args, ElementsAre("echo $V"));
  EXPECT_THAT(ep->cmd.args, ElementsAre("/$V"));
  EXPECT_THAT(shell->shell, ElementsAre("/bin/$V", "-c"));
  EXPECT_THAT(hc->test, ElementsAre("CMD-SHELL", "check $V"));
  EXPECT_EQ(mt->maintainer, "$V");
  EXPECT_THAT(ob->expression, HasSubstr("echo $V"));
}

// commands_runmount.go parseMount: with an expander, each value is
// expanded first.
TEST(StageExpand, RunMountValuesExpand) {
  auto fe = lowered("FROM alpine\nARG T=/root/.cache ID=gocache S=locked\n"
                    "RUN --mount=type=cache,id=$ID,target=$T,sharing=$S go build\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* run = nth<RunInstr>(stages[0]);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->resolved_mounts.size(), 1u);
  const Mount& m = run->resolved_mounts[0];
  EXPECT_EQ(m.type, MountType::cache);
  EXPECT_EQ(m.cache_id, "gocache");
  EXPECT_EQ(m.target, "/root/.cache");
  EXPECT_EQ(m.sharing, CacheSharing::locked);
  EXPECT_FALSE(m.read_only);
  EXPECT_THAT(run->cmd.args, ElementsAre("go build"));
}

// convert.go: shell.NewLex(dockerfile.EscapeToken) is used for every word.
TEST(StageExpand, EscapeDirectiveCharacterIsUsedForExpansion) {
  auto fe = lowered("# escape=`\nFROM alpine\nENV A=x\nWORKDIR C:\\dir\\$A\nUSER `$A-$A\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* wd = nth<WorkdirInstr>(stages[0]);
  const auto* user = nth<UserInstr>(stages[0]);
  ASSERT_TRUE(wd && user);
  EXPECT_EQ(wd->path, "C:\\dir\\x");
  EXPECT_EQ(user->user, "$A-x");
}

// commands.go SourcesAndDest.ExpandRaw: heredoc contents are expanded
// unless the delimiter was quoted, with quotes kept (SkipProcessQuotes).
TEST(StageExpand, HeredocCopySourceExpandsUnlessDelimiterQuoted) {
  auto fe = lowered("FROM alpine\nARG V=1\n"
                    "COPY <<EOF /a\nv=$V \"$V\"\nEOF\n"
                    "COPY <<'EOF' /b\nv=$V\nEOF\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  const auto* a = nth<CopyInstr>(stages[0], 0);
  const auto* b = nth<CopyInstr>(stages[0], 1);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->files.contents.size(), 1u);
  ASSERT_EQ(b->files.contents.size(), 1u);
  EXPECT_EQ(a->files.contents[0].data, "v=1 \"1\"\n");
  EXPECT_EQ(b->files.contents[0].data, "v=$V\n");
  EXPECT_TRUE(a->files.sources.empty());
  EXPECT_EQ(a->files.dest, "/a");
}

// dockerfile_heredoc_test.go testHeredocVarSubstitution and
// testCopyHeredocSpecialSymbols: heredoc bodies are expanded with quotes
// left alone (single quotes do not stop expansion) and backslash escapes
// processed; a quoted delimiter keeps everything raw. commands.go
// ExpandRaw uses shell.NewLex('\\'), whatever the escape directive says.
TEST(StageExpand, HeredocBodyQuotesAndEscapes) {
  auto fe = lowered("FROM busybox\nARG name=world\n"
                    "COPY <<EOF /q1\nHello '${name}'!\nEOF\n"
                    "COPY <<EOF /s2\n\\\\\nEOF\n"
                    "COPY <<EOF /s3\n\\$\nEOF\n"
                    "COPY <<\"EOF\" /r3\n\\$\nEOF\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  std::vector<std::string> data;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto* copy = nth<CopyInstr>(stages[0], i);
    ASSERT_TRUE(copy && copy->files.contents.size() == 1u) << i;
    data.push_back(copy->files.contents[0].data);
  }
  EXPECT_THAT(data, ElementsAre("Hello 'world'!\n", "\\\n", "$\n", "\\$\n"));

  auto esc = lowered("# escape=`\nFROM busybox\nARG name=world\n"
                     "COPY <<EOF /e\n\\$name `$name\nEOF\n");
  ASSERT_TRUE(esc);
  auto esc_stages = expand_ok(*esc);
  const auto* copy = nth<CopyInstr>(esc_stages[0]);
  ASSERT_TRUE(copy && copy->files.contents.size() == 1u);
  EXPECT_EQ(copy->files.contents[0].data, "$name `world\n");
}

// Standard word processing: single quotes keep `$` literal.
TEST(StageExpand, QuotesControlExpansionInEnv) {
  auto fe = lowered("FROM alpine\nARG V=1\nENV A='$V' B=\"$V\" C=\\$V\n");
  ASSERT_TRUE(fe);
  auto stages = expand_ok(*fe);
  EXPECT_EQ(get(stages[0].stage.env, "A"), "$V");
  EXPECT_EQ(get(stages[0].stage.env, "B"), "1");
  EXPECT_EQ(get(stages[0].stage.env, "C"), "$V");
}

// convert.go dispatchStages: a failing word expansion is an error located
// at the instruction (parser.WithLocation(err, cmd.Location())).
TEST(StageExpand, ExpansionErrorIsLocatedAtItsInstruction) {
  auto fe = lowered("FROM alpine\nRUN true\nWORKDIR ${DIR:?no dir given}\n");
  ASSERT_TRUE(fe);
  auto stages = expand_all(*fe);
  ASSERT_EQ(stages[0].errors.size(), 1u) << all_messages(stages);
  EXPECT_EQ(stages[0].errors[0].line, 3);
  EXPECT_THAT(stages[0].errors[0].message, HasSubstr("no dir given"));
}

// ------------------------------------------------------------- stage graph

// instructions/parse.go parseBuildStageName lowercases; convert.go
// findStateByName lowercases the COPY --from value.
TEST(StageGraph, NamesAreLowercasedAndCopyFromMatchesCaseInsensitively) {
  auto fe = lowered("FROM alpine AS Builder\nRUN true\nFROM scratch\nCOPY --from=BUILDER /a /a\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].name, "builder");
  EXPECT_THAT(fe->graph.stages[1].depends_on, ElementsAre(0));
  EXPECT_TRUE(fe->graph.stages[1].images.empty());
  EXPECT_TRUE(fe->graph.stages[0].needed);
}

// convert.go addState: FROM <name of an earlier stage> builds on it.
TEST(StageGraph, FromEarlierStageIsAStageBase) {
  auto fe = lowered("FROM alpine AS base\nFROM base AS mid\nFROM mid\n");
  ASSERT_TRUE(fe);
  const auto& s = fe->graph.stages;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].base_kind, BaseKind::stage);
  EXPECT_EQ(s[1].base_stage, 0);
  EXPECT_THAT(s[1].depends_on, ElementsAre(0));
  EXPECT_EQ(s[2].base_kind, BaseKind::stage);
  EXPECT_EQ(s[2].base_stage, 1);
  EXPECT_TRUE(s[0].needed && s[1].needed && s[2].needed);
  EXPECT_EQ(fe->graph.target, 2);
}

// convert.go addState looks the base up among the stages added so far, so
// a later stage's name (or an unknown one) is an image reference.
TEST(StageGraph, FromLaterOrUnknownNameIsAnImage) {
  auto fe = lowered("FROM later AS first\nFROM unknown AS second\nFROM alpine AS later\n"
                    "COPY --from=first / /\nCOPY --from=second / /\n");
  ASSERT_TRUE(fe);
  const auto& s = fe->graph.stages;
  EXPECT_EQ(s[0].base_kind, BaseKind::image);
  EXPECT_EQ(s[0].base, "later");
  EXPECT_EQ(s[0].base_stage, -1);
  EXPECT_EQ(s[1].base_kind, BaseKind::image);
  EXPECT_TRUE(s[0].depends_on.empty());
  EXPECT_THAT(s[2].depends_on, ElementsAre(0, 1));
}

// convert.go addState: `dss.statesByName[ds.stage.BaseName]` is an exact
// lookup of the expanded base name in a map keyed by lower-case stage
// names, so `FROM Base` does not match stage `base` (unlike COPY --from,
// which lowercases through findStateByName).
// Deliberate difference (docs/parser.md): stage names are case-insensitive
// in FROM too. The reference matches FROM exactly and then fails on the
// upper-case image reference; mason builds on the stage.
TEST(StageGraph, FromMatchesStageNamesCaseInsensitively) {
  auto fe = lowered("FROM alpine AS base\nFROM Base\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[1].base_kind, BaseKind::stage);
  EXPECT_EQ(fe->graph.stages[1].base, "base");
  EXPECT_TRUE(fe->graph.stages[0].needed);
}

// A global ARG may name the stage to build on (FROM is expanded first).
TEST(StageGraph, FromStageNameThroughGlobalArg) {
  auto fe = lowered("ARG VARIANT=prod\nFROM alpine AS prod\nFROM alpine AS dev\nFROM ${VARIANT}\n");
  ASSERT_TRUE(fe);
  const auto& s = fe->graph.stages;
  EXPECT_EQ(s[2].base_kind, BaseKind::stage);
  EXPECT_EQ(s[2].base_stage, 0);
  EXPECT_TRUE(s[0].needed);
  EXPECT_FALSE(s[1].needed);
}

// convert.go toCommand: a number is a stage index; anything not a stage
// name is an image.
TEST(StageGraph, CopyFromIndexAndImage) {
  auto fe = lowered("FROM alpine\nRUN true\nFROM scratch\nCOPY --from=0 /a /a\n"
                    "COPY --from=nginx:latest /etc/nginx /etc/nginx\n");
  ASSERT_TRUE(fe);
  const auto& s = fe->graph.stages;
  EXPECT_THAT(s[1].depends_on, ElementsAre(0));
  EXPECT_THAT(s[1].images, ElementsAre("nginx:latest"));
  EXPECT_TRUE(s[0].needed);
}

// convert_runmount.go detectRunMount: from= names a stage or an image.
TEST(StageGraph, RunMountFromStageAndImage) {
  auto fe =
      lowered("FROM alpine AS tools\nFROM alpine AS unused\nFROM alpine\n"
              "RUN --mount=from=tools,target=/t --mount=type=cache,from=busybox,target=/c true\n");
  ASSERT_TRUE(fe);
  const auto& s = fe->graph.stages;
  EXPECT_THAT(s[2].depends_on, ElementsAre(0));
  EXPECT_THAT(s[2].images, ElementsAre("busybox"));
  EXPECT_TRUE(s[0].needed);
  EXPECT_FALSE(s[1].needed);
}

// convert.go dispatch (CopyCommand): "cannot copy from stage %q, it needs
// to be defined before current stage %q" -- raised only when the copying
// stage is dispatched, i.e. needed.
TEST(StageGraph, CopyFromLaterStageIsAnErrorOnlyWhenNeeded) {
  const std::string_view text = "FROM alpine AS early\nCOPY --from=late /a /a\n"
                                "FROM alpine AS late\nRUN true\n"
                                "FROM alpine AS other\n";
  EXPECT_THAT(
      lower_error(text, options_with({}, "early")),
      HasSubstr("cannot copy from stage \"late\", it needs to be defined before current stage "
                "\"early\""));
  EXPECT_EQ(lower_error(text, options_with({}, "other")), "");
}

// convert_runmount.go dispatchRunMounts: "cannot mount from stage %q to
// %q, stage needs to be defined before current command"; mount from= is
// matched case-insensitively (findStateByName).
TEST(StageGraph, RunMountFromLaterStageIsAnErrorWhenNeeded) {
  const std::string_view text = "FROM alpine AS a\nRUN --mount=from=B,target=/x true\n"
                                "FROM alpine AS b\nFROM alpine AS c\n";
  EXPECT_THAT(lower_error(text, options_with({}, "a")), HasSubstr("cannot mount from stage"));
  auto fe = lowered(text, options_with({}, "c"));
  ASSERT_TRUE(fe);
  EXPECT_THAT(fe->graph.stages[0].depends_on, ElementsAre(1));
  EXPECT_TRUE(fe->graph.stages[0].images.empty());
}

// convert.go toCommand: "variable expansion is not supported for --from".
TEST(StageGraph, CopyFromWithVariableIsAnError) {
  const std::string err =
      lower_error("FROM alpine AS a\nFROM scratch\nARG S=a\nCOPY --from=$S /x /x\n");
  EXPECT_THAT(err, HasSubstr("variable expansion is not supported for --from"));
  EXPECT_THAT(err, HasSubstr("Dockerfile:4"));
}

// commands_runmount.go parseMount without expander: "'from' doesn't
// support variable expansion, define alias stage instead".
TEST(StageGraph, RunMountFromWithVariableIsAnError) {
  EXPECT_THAT(lower_error("FROM alpine\nARG S=a\nRUN --mount=from=$S,target=/x true\n"),
              HasSubstr("'from' doesn't support variable expansion"));
}

// convert.go findStateByIndex: "invalid stage index %d".
TEST(StageGraph, InvalidStageIndexIsAnError) {
  EXPECT_THAT(lower_error("FROM alpine\nFROM scratch\nCOPY --from=5 /a /a\n"),
              HasSubstr("invalid stage index 5"));
  EXPECT_THAT(lower_error("FROM alpine\nFROM scratch\nCOPY --from=-1 /a /a\n"),
              HasSubstr("invalid stage index -1"));
}

// Brief: duplicate stage names are rejected. NOTE: BuildKit itself only
// warns (linter rule DuplicateStageName, dockerfile2llb/validations.go
// validateStageNames) and the later stage wins name lookups.
TEST(StageGraph, DuplicateStageNamesAreAnError) {
  EXPECT_THAT(lower_error("FROM alpine AS b\nRUN true\nFROM alpine AS B\n"),
              HasSubstr("Dockerfile:3"));
}

// convert.go resolveTarget: `target stage %q could not be found`, wrapped
// by suggest.WrapError with " (did you mean X?)" when close.
TEST(StageGraph, UnknownTargetIsAnErrorWithSuggestion) {
  const std::string_view text = "FROM alpine AS build\nFROM alpine AS release\n";
  const std::string close = lower_error(text, options_with({}, "buid"));
  EXPECT_THAT(close, HasSubstr("target stage \"buid\" could not be found"));
  EXPECT_THAT(close, HasSubstr("did you mean build?"));
  const std::string far = lower_error(text, options_with({}, "zzzzzz"));
  EXPECT_THAT(far, HasSubstr("target stage \"zzzzzz\" could not be found"));
  EXPECT_THAT(far, Not(HasSubstr("did you mean")));
}

// convert.go resolveTarget uses findStateByName (lower-cased).
TEST(StageGraph, TargetIsMatchedCaseInsensitively) {
  auto fe = lowered("FROM alpine AS build\nFROM alpine AS release\n", options_with({}, "BUILD"));
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.target, 0);
  EXPECT_TRUE(fe->graph.stages[0].needed);
  EXPECT_FALSE(fe->graph.stages[1].needed);
}

// convert.go resolveReachableStages/allReachableStages: the target and all
// it reaches through FROM, COPY --from and RUN --mount=from; by default the
// last stage (lastTarget).
TEST(StageGraph, NeededSetIsTheTargetClosure) {
  const std::string_view text = "FROM alpine AS a\n"
                                "FROM a AS b\n"
                                "FROM alpine AS c\n"
                                "FROM alpine AS d\nCOPY --from=b / /\n"
                                "FROM alpine AS e\nRUN --mount=from=c,target=/c true\n"
                                "FROM scratch AS f\nCOPY --from=d / /\n";
  auto check = [&](std::string target, int expected_target, std::vector<bool> expected) {
    auto fe = lowered(text, options_with({}, std::move(target)));
    ASSERT_TRUE(fe);
    EXPECT_EQ(fe->graph.target, expected_target);
    std::vector<bool> needed;
    for (const auto& s : fe->graph.stages) needed.push_back(s.needed);
    EXPECT_EQ(needed, expected) << "target " << expected_target;
  };
  check("", 5, {true, true, false, true, false, true});
  check("e", 4, {false, false, true, false, true, false});
  check("b", 1, {true, true, false, false, false, false});
}

// convert.go emptyImageName: FROM scratch has no base image.
TEST(StageGraph, ScratchIsItsOwnKind) {
  auto fe = lowered("FROM scratch\nCOPY a /a\n");
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->graph.stages[0].base_kind, BaseKind::scratch);
  EXPECT_EQ(fe->graph.stages[0].base, "scratch");
  EXPECT_TRUE(fe->graph.stages[0].depends_on.empty());
}

// validations.go validateCircularDependency runs over all stages before
// reachability: "circular dependency detected on stage: %s".
TEST(StageGraph, CyclesAreAnError) {
  EXPECT_THAT(lower_error("FROM alpine AS x\nCOPY --from=x /a /a\n"),
              HasSubstr("circular dependency detected on stage: x"));
  EXPECT_THAT(lower_error("FROM alpine\nCOPY --from=0 /a /a\n"),
              HasSubstr("circular dependency detected"));
  const std::string_view mutual = "FROM alpine AS x\nCOPY --from=y /a /a\n"
                                  "FROM alpine AS y\nCOPY --from=x /b /b\n"
                                  "FROM alpine AS z\n";
  EXPECT_THAT(lower_error(mutual), HasSubstr("circular dependency detected"));
  EXPECT_THAT(lower_error(mutual, options_with({}, "z")),
              HasSubstr("circular dependency detected"));
}

TEST(StageGraph, StagesJsonNamesEveryStage) {
  auto fe = lowered("FROM alpine AS Build\nFROM scratch\nCOPY --from=build /a /a\n");
  ASSERT_TRUE(fe);
  const std::string json = stages_json(fe->graph);
  EXPECT_THAT(json, HasSubstr("\"build\""));
  EXPECT_THAT(json, HasSubstr("\"alpine\""));
  EXPECT_THAT(json, HasSubstr("\"scratch\""));
}

} // namespace
} // namespace mason::frontend::dockerfile
