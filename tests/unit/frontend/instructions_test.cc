// Instruction checking (mason/frontend/dockerfile/instructions.h): argument
// counts, flags, HEALTHCHECK, SHELL, ONBUILD, RUN --mount/--network/
// --security/--device, Go durations, and error collection. Every
// expectation, message texts included, is the reference builder's
// (BuildKit's Dockerfile frontend); comments name the source:
//   parse.go     frontend/dockerfile/instructions/parse.go
//   bflag.go     frontend/dockerfile/instructions/bflag.go
//   runmount.go  frontend/dockerfile/instructions/commands_runmount.go
//   rundevice.go frontend/dockerfile/instructions/commands_rundevice.go
//   parse_test   frontend/dockerfile/instructions/parse_test.go
//   line_parsers frontend/dockerfile/parser/line_parsers.go
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mason/frontend/dockerfile/frontend.h"
#include "mason/frontend/dockerfile/instructions.h"
#include "mason/frontend/dockerfile/parser.h"

namespace mason::frontend::dockerfile {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The formatted error of a Dockerfile that must fail to load; empty when
// it loaded.
std::string load_error(std::string_view text) {
  auto result = load_dockerfile("Dockerfile", text);
  if (result) return {};
  return result.error().to_string();
}

std::optional<LoadedDockerfile> loaded(std::string_view text) {
  auto result = load_dockerfile("Dockerfile", text);
  if (!result) {
    ADD_FAILURE() << "unexpected error:\n" << result.error().to_string();
    return std::nullopt;
  }
  return std::move(*result);
}

// The only instruction after `FROM scratch`, typed.
template <class T>
std::optional<T> single(std::string_view instruction) {
  auto df = loaded("FROM scratch\n" + std::string(instruction) + "\n");
  if (!df) return std::nullopt;
  const auto& stages = df->dockerfile.stages;
  if (stages.size() != 1 || stages[0].commands.size() != 1) {
    ADD_FAILURE() << "expected one instruction: " << instruction;
    return std::nullopt;
  }
  const T* p = std::get_if<T>(&stages[0].commands[0].kind);
  if (!p) {
    ADD_FAILURE() << "wrong instruction type: " << instruction;
    return std::nullopt;
  }
  return *p;
}

// The error of a single instruction after `FROM scratch`.
std::string instr_error(std::string_view instruction) {
  return load_error("FROM scratch\n" + std::string(instruction) + "\n");
}

// The error lines reported by to_instructions for `text` (which must parse).
std::vector<int> error_lines(std::string_view text) {
  const auto parsed = parse(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.errors.empty() ? "" : parsed.errors.front().message);
  const auto checked = to_instructions(parsed.ast);
  std::vector<int> lines;
  for (const auto& e : checked.errors) lines.push_back(e.line);
  return lines;
}

util::Result<std::string> identity(std::string_view word) { return std::string(word); }

util::Result<Mount> mount(std::string_view value) { return parse_mount(value, identity); }

std::string mount_error(std::string_view value) {
  auto m = mount(value);
  if (m) return {};
  return m.error().to_string();
}

constexpr std::int64_t k_ms = 1'000'000;
constexpr std::int64_t k_s = 1'000 * k_ms;

// ------------------------------------------------------- argument counts

// parse_test TestCommandsExactlyOneArgument.
TEST(InstrArgs, ExactlyOneArgument) {
  for (const char* name : {"MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"}) {
    EXPECT_THAT(instr_error(name), HasSubstr(std::string(name) + " requires exactly one argument"))
        << name;
  }
}

// line_parsers parseString: the rest of the line is one argument.
TEST(InstrArgs, StringInstructionsTakeTheWholeRestAsOneArgument) {
  auto wd = single<WorkdirInstr>("WORKDIR /a b");
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->path, "/a b");
  auto user = single<UserInstr>("USER app user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->user, "app user");
}

// parse_test TestCommandsAtLeastOneArgument (+ ARG, parse.go parseArg).
TEST(InstrArgs, AtLeastOneArgument) {
  for (const char* name : {"ENV", "LABEL", "ONBUILD", "HEALTHCHECK", "EXPOSE", "VOLUME", "ARG"}) {
    EXPECT_THAT(instr_error(name), HasSubstr(std::string(name) + " requires at least one argument"))
        << name;
  }
}

// parse_test TestCommandsNoDestinationArgument.
TEST(InstrArgs, CopyAndAddNeedADestination) {
  for (const char* name : {"ADD", "COPY"}) {
    EXPECT_THAT(instr_error(std::string(name) + " arg1"),
                HasSubstr(std::string(name) +
                          " requires at least two arguments, but only one was provided. "
                          "Destination could not be determined"))
        << name;
  }
}

// parse.go parseBuildStageName.
TEST(InstrArgs, FromTakesOneOrThreeArguments) {
  for (const char* text :
       {"FROM\n", "FROM a b\n", "FROM a AS\n", "FROM a AS b c\n", "FROM a FOO b\n"}) {
    EXPECT_THAT(load_error(text), HasSubstr("FROM requires either one or three arguments")) << text;
  }
}

// parse.go validStageName `^[a-z][a-z0-9-_.]*$` after lowercasing.
TEST(InstrArgs, StageNamesAreValidatedAndLowercased) {
  EXPECT_THAT(load_error("FROM a AS 1x\n"),
              HasSubstr("invalid name for build stage: \"1x\", name can't start with a number or "
                        "contain symbols"));
  EXPECT_THAT(load_error("FROM a AS b@c\n"), HasSubstr("invalid name for build stage: \"b@c\""));
  auto df = loaded("FROM a as My-Stage_1.x\n");
  ASSERT_TRUE(df);
  EXPECT_EQ(df->dockerfile.stages[0].from.name, "my-stage_1.x");
  EXPECT_EQ(df->dockerfile.stages[0].from.base, "a");
}

// line_parsers parseNameVal and parse.go parseKvps.
TEST(InstrArgs, EnvForms) {
  EXPECT_THAT(instr_error("ENV A"), HasSubstr("ENV must have two arguments"));
  EXPECT_THAT(instr_error("ENV A=1 B"),
              HasSubstr("Syntax error - can't find = in \"B\". Must be of the form: name=value"));
  EXPECT_THAT(instr_error("ENV =x"), HasSubstr("ENV names can not be blank"));
  EXPECT_THAT(instr_error("LABEL =x"), HasSubstr("LABEL names can not be blank"));
  auto legacy = single<EnvInstr>("ENV A b c");
  ASSERT_TRUE(legacy);
  ASSERT_EQ(legacy->vars.size(), 1u);
  EXPECT_EQ(legacy->vars[0].key, "A");
  EXPECT_EQ(legacy->vars[0].value, "b c");
  EXPECT_TRUE(legacy->vars[0].legacy);
  auto modern = single<EnvInstr>("ENV A=1 B=\"x y\"");
  ASSERT_TRUE(modern);
  ASSERT_EQ(modern->vars.size(), 2u);
  EXPECT_FALSE(modern->vars[0].legacy);
  EXPECT_EQ(modern->vars[1].key, "B");
}

// parse.go parseArg: a name, or name=value split at the first `=`.
TEST(InstrArgs, ArgForms) {
  auto arg = single<ArgInstr>("ARG a b=c=d e=");
  ASSERT_TRUE(arg);
  ASSERT_EQ(arg->args.size(), 3u);
  EXPECT_EQ(arg->args[0].key, "a");
  EXPECT_FALSE(arg->args[0].value.has_value());
  EXPECT_EQ(arg->args[1].key, "b");
  EXPECT_EQ(arg->args[1].value, std::optional<std::string>("c=d"));
  EXPECT_EQ(arg->args[2].key, "e");
  EXPECT_EQ(arg->args[2].value, std::optional<std::string>(""));
  EXPECT_THAT(instr_error("ARG =x"), HasSubstr("ARG names can not be blank"));
}

// parse_test TestErrorCases; parse.go ParseInstruction: suggest.WrapError
// against the instruction names.
TEST(InstrArgs, UnknownInstruction) {
  EXPECT_THAT(load_error("FROM a\nFOO bar\n"), HasSubstr("unknown instruction: FOO"));
  EXPECT_THAT(load_error("FROM a\nfoo bar\n"), HasSubstr("unknown instruction: foo"));
  EXPECT_THAT(load_error("FROM a\nRUNN true\n"),
              HasSubstr("unknown instruction: RUNN (did you mean RUN?)"));
}

// parse.go Parse/CurrentStage: "no build stage in current context"; only
// ARG may come before the first FROM.
TEST(InstrArgs, OnlyArgMayPrecedeTheFirstFrom) {
  for (const char* text : {"RUN true\nFROM a\n", "ENV A=1\nFROM a\n", "LABEL a=b\nFROM a\n"}) {
    const std::string err = load_error(text);
    EXPECT_THAT(err, HasSubstr("no build stage in current context")) << text;
    EXPECT_THAT(err, HasSubstr("Dockerfile:1")) << text;
  }
  auto df = loaded("ARG A=1\nARG B\nFROM a\nARG C\n");
  ASSERT_TRUE(df);
  EXPECT_EQ(df->dockerfile.meta_args.size(), 2u);
  ASSERT_EQ(df->dockerfile.stages.size(), 1u);
  EXPECT_EQ(df->dockerfile.stages[0].commands.size(), 1u);
}

// parse.go parseShell, errors_unix.go errNotJSON.
TEST(InstrArgs, ShellNeedsJson) {
  EXPECT_THAT(instr_error("SHELL /bin/bash -c"),
              HasSubstr("SHELL requires the arguments to be in JSON form"));
  EXPECT_THAT(instr_error("SHELL []"), HasSubstr("SHELL requires at least one argument"));
  auto shell = single<ShellInstr>("SHELL [\"/bin/bash\", \"-eu\", \"-c\"]");
  ASSERT_TRUE(shell);
  EXPECT_THAT(shell->shell, ElementsAre("/bin/bash", "-eu", "-c"));
}

// parse.go parseOnBuild; parse_test TestErrorCases.
TEST(InstrArgs, OnbuildRestrictions) {
  EXPECT_THAT(instr_error("ONBUILD ONBUILD RUN touch foobar"),
              HasSubstr("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"));
  EXPECT_THAT(instr_error("ONBUILD FROM scratch"),
              HasSubstr("FROM isn't allowed as an ONBUILD trigger"));
  EXPECT_THAT(instr_error("ONBUILD MAINTAINER me"),
              HasSubstr("MAINTAINER isn't allowed as an ONBUILD trigger"));
  auto ob = single<OnbuildInstr>("ONBUILD RUN echo $HOME");
  ASSERT_TRUE(ob);
  EXPECT_EQ(ob->expression, "RUN echo $HOME");
}

// parse.go parseSourcesAndDest: errBadHeredoc(command, "a destination").
TEST(InstrArgs, HeredocAsDestinationIsRejected) {
  EXPECT_THAT(load_error("FROM a\nCOPY src <<EOF\nhello\nEOF\n"),
              HasSubstr("COPY cannot accept a heredoc as a destination"));
  EXPECT_THAT(load_error("FROM a\nADD src <<EOF\nhello\nEOF\n"),
              HasSubstr("ADD cannot accept a heredoc as a destination"));
  auto copy = single<CopyInstr>("COPY <<EOF /dest\nhello\nEOF");
  ASSERT_TRUE(copy);
  ASSERT_EQ(copy->files.contents.size(), 1u);
  EXPECT_EQ(copy->files.contents[0].path, "EOF");
  EXPECT_EQ(copy->files.contents[0].data, "hello\n");
  EXPECT_EQ(copy->files.dest, "/dest");
}

// parse.go parseExpose: slices.Sort(portsTab).
TEST(InstrArgs, ExposePortsAreSorted) {
  auto expose = single<ExposeInstr>("EXPOSE 8080 80/udp 443");
  ASSERT_TRUE(expose);
  EXPECT_THAT(expose->ports, ElementsAre("443", "80/udp", "8080"));
}

// parse.go parseVolume.
TEST(InstrArgs, VolumeForms) {
  auto json = single<VolumeInstr>("VOLUME [\"/a\", \"/b c\"]");
  ASSERT_TRUE(json);
  EXPECT_THAT(json->volumes, ElementsAre("/a", "/b c"));
  auto words = single<VolumeInstr>("VOLUME /a /b");
  ASSERT_TRUE(words);
  EXPECT_THAT(words->volumes, ElementsAre("/a", "/b"));
  EXPECT_THAT(instr_error("VOLUME [\"\"]"),
              HasSubstr("VOLUME specified can not be an empty string"));
}

// parse.go parseShellDependentCommand: PrependShell unless JSON.
TEST(InstrArgs, ExecAndShellForms) {
  auto exec = single<CmdInstr>("CMD [\"a\", \"b c\"]");
  ASSERT_TRUE(exec);
  EXPECT_FALSE(exec->cmd.prepend_shell);
  EXPECT_THAT(exec->cmd.args, ElementsAre("a", "b c"));
  auto shell = single<RunInstr>("RUN a  b");
  ASSERT_TRUE(shell);
  EXPECT_TRUE(shell->cmd.prepend_shell);
  EXPECT_THAT(shell->cmd.args, ElementsAre("a  b"));
  auto maint = single<MaintainerInstr>("MAINTAINER Jane Doe <jane@example.com>");
  ASSERT_TRUE(maint);
  EXPECT_EQ(maint->maintainer, "Jane Doe <jane@example.com>");
}

// ------------------------------------------------------------- HEALTHCHECK

// parse.go parseHealthcheck, parse_test TestHealthCheckCmd.
TEST(InstrHealthcheck, TestForms) {
  auto none = single<HealthcheckInstr>("HEALTHCHECK NONE");
  ASSERT_TRUE(none);
  EXPECT_THAT(none->test, ElementsAre("NONE"));
  auto shell = single<HealthcheckInstr>("HEALTHCHECK CMD curl -f http://localhost/ || exit 1");
  ASSERT_TRUE(shell);
  EXPECT_THAT(shell->test, ElementsAre("CMD-SHELL", "curl -f http://localhost/ || exit 1"));
  auto exec = single<HealthcheckInstr>("HEALTHCHECK cmd [\"curl\", \"-f\"]");
  ASSERT_TRUE(exec);
  EXPECT_THAT(exec->test, ElementsAre("CMD", "curl", "-f"));
  EXPECT_EQ(exec->retries, 0);
  EXPECT_EQ(exec->interval_ns, 0);
}

TEST(InstrHealthcheck, TestFormErrors) {
  EXPECT_THAT(instr_error("HEALTHCHECK NONE x"), HasSubstr("HEALTHCHECK NONE takes no arguments"));
  EXPECT_THAT(instr_error("HEALTHCHECK CMD"), HasSubstr("Missing command after HEALTHCHECK CMD"));
  EXPECT_THAT(instr_error("HEALTHCHECK FOO x"),
              HasSubstr("Unknown type \"FOO\" in HEALTHCHECK (try CMD)"));
}

TEST(InstrHealthcheck, Options) {
  auto hc = single<HealthcheckInstr>("HEALTHCHECK --interval=30s --timeout=1m30s "
                                     "--start-period=1.5h --start-interval=300ms --retries=3 "
                                     "CMD true");
  ASSERT_TRUE(hc);
  EXPECT_EQ(hc->interval_ns, 30 * k_s);
  EXPECT_EQ(hc->timeout_ns, 90 * k_s);
  EXPECT_EQ(hc->start_period_ns, 5400 * k_s);
  EXPECT_EQ(hc->start_interval_ns, 300 * k_ms);
  EXPECT_EQ(hc->retries, 3);
  auto zero = single<HealthcheckInstr>("HEALTHCHECK --interval=0 --timeout=0s CMD true");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->interval_ns, 0);
  EXPECT_EQ(zero->timeout_ns, 0);
}

// parse.go parseOptInterval (minimum 1ms unless 0), --retries checks;
// parse_test TestParseOptInterval.
TEST(InstrHealthcheck, OptionErrors) {
  EXPECT_THAT(instr_error("HEALTHCHECK --interval=50ns CMD true"),
              HasSubstr("Interval \"interval\" cannot be less than 1ms"));
  EXPECT_THAT(instr_error("HEALTHCHECK --timeout=-1s CMD true"),
              HasSubstr("Interval \"timeout\" cannot be less than 1ms"));
  EXPECT_NE(instr_error("HEALTHCHECK --interval=abc CMD true"), "");
  EXPECT_NE(instr_error("HEALTHCHECK --start-period=10 CMD true"), ""); // missing unit
  EXPECT_THAT(instr_error("HEALTHCHECK --retries=-1 CMD true"),
              HasSubstr("--retries cannot be negative (-1)"));
  EXPECT_NE(instr_error("HEALTHCHECK --retries=three CMD true"), "");
  EXPECT_NE(instr_error("HEALTHCHECK --foo=1 CMD true"), "");
  EXPECT_EQ(instr_error("HEALTHCHECK --interval=1ms CMD true"), "");
}

// ------------------------------------------------------------------ flags

// bflag.go BFlags.Parse: unknown flags are rejected on every instruction.
TEST(InstrFlags, UnknownFlagsAreRejected) {
  for (const char* text : {"COPY --boo a b", "MAINTAINER --boo joe@example.com", "WORKDIR --x=1 /a",
                           "HEALTHCHECK --foo=1 CMD true", "RUN --boo true", "FROM --boo b"}) {
    EXPECT_NE(instr_error(text), "") << text;
  }
}

// bflag.go BFlags.Parse: `errors.Errorf("unknown flag: %s", flagName)`
// wrapped by suggest.WrapError(err, arg, allFlags, true), which appends
// " (did you mean <flag name without dashes>?)" (util/suggest/error.go);
// parse_test TestErrorCases expects "unknown flag: --boo".
// House style (docs/errors.md): the reference's "unknown flag: --boo"
// becomes "unknown flag --boo for COPY", with the suggestion as a flag.
TEST(InstrFlags, UnknownFlagMessage) {
  EXPECT_THAT(instr_error("COPY --boo a b"), HasSubstr("unknown flag --boo for COPY"));
  EXPECT_THAT(instr_error("COPY --chownn=1 a b"),
              HasSubstr("unknown flag --chownn for COPY (did you mean --chown?)"));
  EXPECT_THAT(instr_error("MAINTAINER --boo joe@example.com"),
              HasSubstr("unknown flag --boo for MAINTAINER"));
  EXPECT_THAT(instr_error("WORKDIR --x=1 /a"), HasSubstr("unknown flag --x for WORKDIR"));
  EXPECT_THAT(instr_error("HEALTHCHECK --foo=1 CMD true"),
              HasSubstr("unknown flag --foo for HEALTHCHECK"));
}

// bflag.go BFlags.Parse: "duplicate flag specified: %s" (not for strings
// flags, which repeat).
TEST(InstrFlags, DuplicateFlags) {
  EXPECT_THAT(instr_error("COPY --chown=a --chown=b x y"),
              HasSubstr("duplicate flag specified: --chown"));
  EXPECT_THAT(instr_error("RUN --network=host --network=none true"),
              HasSubstr("duplicate flag specified: --network"));
  EXPECT_EQ(instr_error("RUN --mount=type=tmpfs,target=/a --mount=type=tmpfs,target=/b true"), "");
}

// bflag.go BFlags.Parse: bool flags take true/false (any case) or no
// value; string flags need `=value`.
TEST(InstrFlags, BoolAndStringValues) {
  EXPECT_NE(instr_error("COPY --link=maybe a b"), "");
  EXPECT_THAT(instr_error("COPY --link= a b"), HasSubstr("missing a value on flag: --link"));
  EXPECT_THAT(instr_error("COPY --from a b c"), HasSubstr("missing a value on flag: --from"));
  EXPECT_THAT(instr_error("COPY --exclude a b c"), HasSubstr("missing a value on flag: --exclude"));
  EXPECT_THAT(instr_error("FROM --platform alpine"),
              HasSubstr("missing a value on flag: --platform"));
}

// bflag.go: "expecting boolean value for flag %s, not: %s".
TEST(InstrFlags, BadBoolValueMessage) {
  EXPECT_THAT(instr_error("COPY --link=maybe a b"),
              HasSubstr("expecting boolean value for flag --link for COPY, not: maybe"));
}

// bflag.go: bare bool flag is true, values are case-insensitive; strings
// flags repeat.
TEST(InstrFlags, CopyFlagsParse) {
  auto copy = single<CopyInstr>(
      "COPY --link --parents=FALSE --exclude=*.md --exclude=tmp --chmod=644 --from=build a b /d/");
  ASSERT_TRUE(copy);
  EXPECT_TRUE(copy->link);
  EXPECT_FALSE(copy->parents);
  EXPECT_THAT(copy->excludes, ElementsAre("*.md", "tmp"));
  EXPECT_EQ(copy->chmod, "644");
  EXPECT_EQ(copy->from, "build");
  EXPECT_THAT(copy->files.sources, ElementsAre("a", "b"));
  EXPECT_EQ(copy->files.dest, "/d/");
}

// parse.go parseAdd: keep-git-dir and unpack are tri-state (unset/true/false).
TEST(InstrFlags, AddFlagsParse) {
  auto plain = single<AddInstr>("ADD https://example.com/a.tgz /a");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->keep_git_dir.has_value());
  EXPECT_FALSE(plain->unpack.has_value());
  EXPECT_FALSE(plain->link);
  auto flagged = single<AddInstr>("ADD --keep-git-dir=false --unpack --link "
                                  "--checksum=sha256:abc --chown=1:2 src /a");
  ASSERT_TRUE(flagged);
  EXPECT_EQ(flagged->keep_git_dir, std::optional<bool>(false));
  EXPECT_EQ(flagged->unpack, std::optional<bool>(true));
  EXPECT_TRUE(flagged->link);
  EXPECT_EQ(flagged->checksum, "sha256:abc");
  EXPECT_EQ(flagged->chown, "1:2");
}

// commands_runnetwork.go / commands_runsecurity.go.
TEST(InstrFlags, RunNetworkAndSecurity) {
  auto def = single<RunInstr>("RUN true");
  ASSERT_TRUE(def);
  EXPECT_EQ(def->network, "default");
  EXPECT_EQ(def->security, "sandbox");
  auto run = single<RunInstr>("RUN --network=none --security=insecure true");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->network, "none");
  EXPECT_EQ(run->security, "insecure");
  EXPECT_EQ(instr_error("RUN --network=host true"), "");
  EXPECT_THAT(instr_error("RUN --network=bridge true"),
              HasSubstr("invalid network mode \"bridge\""));
  EXPECT_THAT(instr_error("RUN --security=privileged true"),
              HasSubstr("security \"privileged\" is not valid"));
}

// -------------------------------------------------- error collection/lines

// Every faulty instruction is reported, each at its first line.
TEST(InstrErrors, AllErrorsAreCollectedWithTheirLines) {
  const std::string_view text = "FROM a\n"
                                "WORKDIR\n"                // 2
                                "RUN --network=bogus \\\n" // 3
                                "  true\n"
                                "COPY onlyone\n" // 5
                                "RUN ok\n"
                                "HEALTHCHECK --retries=-1 CMD x\n" // 7
                                "FROM b AS 9bad\n";                // 8
  EXPECT_THAT(error_lines(text), ElementsAre(2, 3, 5, 7, 8));
  const std::string err = load_error(text);
  for (const char* where :
       {"Dockerfile:2:", "Dockerfile:3:", "Dockerfile:5:", "Dockerfile:7:", "Dockerfile:8:"}) {
    EXPECT_THAT(err, HasSubstr(where));
  }
  EXPECT_THAT(err, Not(HasSubstr("Dockerfile:6:")));
}

TEST(InstrErrors, ParserAndInstructionErrorsAreReportedTogether) {
  const std::string err = load_error("FROM a\nFOO bar\nUSER\nENV A\n");
  EXPECT_THAT(err, HasSubstr("Dockerfile:2:"));
  EXPECT_THAT(err, HasSubstr("Dockerfile:3:"));
  EXPECT_THAT(err, HasSubstr("Dockerfile:4:"));
}

TEST(InstrErrors, InstructionLinesAreRecorded) {
  auto df = loaded("FROM a\n\nRUN a \\\n  b\nCOPY <<EOF /x\nhi\nEOF\nUSER me\n");
  ASSERT_TRUE(df);
  const auto& cmds = df->dockerfile.stages.at(0).commands;
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0].start_line, 3);
  EXPECT_EQ(cmds[0].end_line, 4);
  EXPECT_EQ(cmds[1].start_line, 5);
  EXPECT_EQ(cmds[1].end_line, 7);
  EXPECT_EQ(cmds[2].start_line, 8);
  EXPECT_EQ(cmds[2].keyword, "USER");
}

// -------------------------------------------------------------- RUN --mount

// runmount.go parseMount: defaults per type.
TEST(InstrMount, DefaultsPerType) {
  auto bind = mount("target=/src");
  ASSERT_TRUE(bind) << bind.error().to_string();
  EXPECT_EQ(bind->type, MountType::bind);
  EXPECT_TRUE(bind->read_only);
  EXPECT_EQ(bind->target, "/src");
  auto cache = mount("type=cache,target=/c");
  ASSERT_TRUE(cache);
  EXPECT_FALSE(cache->read_only);
  EXPECT_EQ(cache->sharing, CacheSharing::none);
  auto tmpfs = mount("type=tmpfs,dst=/t");
  ASSERT_TRUE(tmpfs);
  EXPECT_FALSE(tmpfs->read_only);
  EXPECT_EQ(tmpfs->target, "/t");
  auto secret = mount("type=secret,id=tok");
  ASSERT_TRUE(secret);
  EXPECT_TRUE(secret->read_only);
  EXPECT_FALSE(secret->required);
  auto ssh = mount("type=ssh");
  ASSERT_TRUE(ssh);
  EXPECT_EQ(ssh->type, MountType::ssh);
}

// Keys are case-insensitive, as is the type value; aliases src/dst/
// destination/ro/rw/readwrite.
TEST(InstrMount, KeysAliasesAndReadWrite) {
  auto m = mount("TYPE=Bind,src=/a,destination=/b,from=builder,rw");
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->type, MountType::bind);
  EXPECT_EQ(m->source, "/a");
  EXPECT_EQ(m->target, "/b");
  EXPECT_EQ(m->from, "builder");
  EXPECT_FALSE(m->read_only);
  auto ro = mount("type=cache,target=/c,readonly=true");
  ASSERT_TRUE(ro);
  EXPECT_TRUE(ro->read_only);
  auto rw = mount("type=bind,target=/c,readwrite=false");
  ASSERT_TRUE(rw);
  EXPECT_TRUE(rw->read_only);
  EXPECT_THAT(mount_error("target=/c,readonly=maybe"),
              HasSubstr("invalid value for readonly: maybe"));
}

TEST(InstrMount, TypeAndSharingValues) {
  EXPECT_THAT(mount_error("type=volume,target=/v"), HasSubstr("unsupported mount type \"volume\""));
  auto shared = mount("type=cache,target=/c,sharing=PRIVATE");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->sharing, CacheSharing::private_);
  EXPECT_THAT(mount_error("type=cache,target=/c,sharing=exclusive"),
              HasSubstr("unsupported sharing value \"exclusive\""));
  EXPECT_THAT(mount_error("type=bind,target=/c,sharing=shared"),
              HasSubstr("invalid cache sharing set for bind mount"));
}

// mode/uid/gid only for cache, secret and ssh; mode is octal.
TEST(InstrMount, FileInfoOnlyForCacheSecretSsh) {
  auto cache = mount("type=cache,target=/c,mode=0750,uid=1000,gid=1001");
  ASSERT_TRUE(cache) << cache.error().to_string();
  EXPECT_EQ(cache->mode, std::optional<std::uint32_t>(0750));
  EXPECT_EQ(cache->uid, std::optional<std::uint32_t>(1000));
  EXPECT_EQ(cache->gid, std::optional<std::uint32_t>(1001));
  EXPECT_TRUE(mount("type=secret,id=a,mode=0400"));
  EXPECT_TRUE(mount("type=ssh,uid=5"));
  EXPECT_THAT(mount_error("type=bind,target=/b,mode=0755"),
              HasSubstr("mode not allowed for \"bind\" type mounts"));
  EXPECT_THAT(mount_error("type=tmpfs,target=/t,uid=1"),
              HasSubstr("uid not allowed for \"tmpfs\" type mounts"));
  EXPECT_THAT(mount_error("target=/b,gid=1"),
              HasSubstr("gid not allowed for \"bind\" type mounts"));
  EXPECT_THAT(mount_error("type=cache,target=/c,mode=0789"),
              HasSubstr("invalid value 0789 for mode"));
  EXPECT_THAT(mount_error("type=cache,target=/c,uid=-1"), HasSubstr("invalid value -1 for uid"));
}

// Secret mount requirements.
TEST(InstrMount, SecretRequirements) {
  EXPECT_THAT(mount_error("type=secret"),
              HasSubstr("invalid secret mount. one of source, target required"));
  EXPECT_THAT(mount_error("type=secret,id=a,from=img"),
              HasSubstr("secret mount should not have a from"));
  EXPECT_THAT(mount_error("type=secret,id=a,sharing=shared"),
              HasSubstr("secret mount should not define sharing"));
  EXPECT_THAT(mount_error("type=secret,id=a,src=/f"), HasSubstr("both source and id can't be set"));
  auto env = mount("type=secret,id=tok,env=TOKEN,required");
  ASSERT_TRUE(env) << env.error().to_string();
  EXPECT_EQ(env->cache_id, "tok");
  EXPECT_EQ(env->env, std::optional<std::string>("TOKEN"));
  EXPECT_TRUE(env->required);
  auto target_only = mount("type=secret,target=/run/secrets/x,required=false");
  ASSERT_TRUE(target_only);
  EXPECT_FALSE(target_only->required);
}

// `required` only for secret/ssh, `size` only for tmpfs (go-units
// RAMInBytes: binary multiples, optional b/ib suffix).
TEST(InstrMount, RequiredAndSizeAreTypeSpecific) {
  EXPECT_THAT(mount_error("type=bind,target=/b,required"),
              HasSubstr("unexpected key 'required' for mount type 'bind'"));
  EXPECT_THAT(mount_error("type=cache,target=/c,required=true"),
              HasSubstr("unexpected key 'required' for mount type 'cache'"));
  EXPECT_THAT(mount_error("type=cache,target=/c,size=1m"),
              HasSubstr("unexpected key 'size' for mount type 'cache'"));
  const std::pair<const char*, std::int64_t> sizes[] = {
      {"64m", 64LL << 20}, {"1.5k", 1536}, {"512", 512}, {"1GiB", 1LL << 30}, {"2mb", 2LL << 20}};
  for (const auto& [text, bytes] : sizes) {
    auto m = mount(std::string("type=tmpfs,target=/t,size=") + text);
    ASSERT_TRUE(m) << text << ": " << m.error().to_string();
    EXPECT_EQ(m->size_limit, bytes) << text;
  }
  EXPECT_THAT(mount_error("type=tmpfs,target=/t,size=lots"),
              HasSubstr("invalid value for size: lots"));
  EXPECT_THAT(mount_error("type=tmpfs,target=/t,size=10x"),
              HasSubstr("invalid value for size: 10x"));
}

TEST(InstrMount, UnknownKeysAndBareFields) {
  EXPECT_NE(mount_error("type=bind,target=/b,foo=bar"), "");
  EXPECT_THAT(mount_error("type=bind,target=/b,nosuid"),
              HasSubstr("invalid field 'nosuid' must be a key=value pair"));
}

// runmount.go parseMount: suggest.WrapError(errors.Errorf("unexpected key
// '%s' in '%s'", key, field), key, allKeys, true).
TEST(InstrMount, UnknownKeyMessage) {
  EXPECT_THAT(mount_error("type=bind,target=/b,foo=bar"),
              HasSubstr("unexpected key 'foo' in 'foo=bar'"));
  EXPECT_THAT(mount_error("type=bind,target=/b,tragett=/x"),
              HasSubstr("unexpected key 'tragett' in 'tragett=/x' (did you mean target?)"));
}

// The expander is applied to every value before it is interpreted.
TEST(InstrMount, ValuesAreExpanded) {
  const WordExpander expand = [](std::string_view word) -> util::Result<std::string> {
    std::string out(word);
    if (out == "$T") return std::string("cache");
    if (out == "$DIR") return std::string("/root/.cache");
    return out;
  };
  auto m = parse_mount("type=$T,target=$DIR", expand);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->type, MountType::cache);
  EXPECT_EQ(m->target, "/root/.cache");
}

// End to end: an invalid mount is reported for its RUN line, whether the
// frontend finds it while loading or while expanding the stage (BuildKit
// finds it when dispatching).
TEST(InstrMount, InvalidMountIsReportedAtItsLine) {
  auto result = load_and_lower("Dockerfile", "FROM alpine\nRUN true\nRUN --mount=type=bogus true\n",
                               LowerOptions{});
  std::string messages;
  int line = 0;
  if (!result) {
    messages = result.error().to_string();
    if (messages.find("Dockerfile:3:") != std::string::npos) line = 3;
  } else {
    const auto r = expand_stage(result->loaded.dockerfile, result->graph, 0, {}, {});
    for (const auto& e : r.errors) {
      messages += e.message;
      line = e.line;
    }
  }
  EXPECT_THAT(messages, HasSubstr("unsupported mount type \"bogus\""));
  EXPECT_EQ(line, 3);
}

// ------------------------------------------------------------- RUN --device

// rundevice.go ParseDevice.
TEST(InstrDevice, Forms) {
  auto plain = parse_device("vendor.com/gpu=all");
  ASSERT_TRUE(plain) << plain.error().to_string();
  EXPECT_EQ(plain->name, "vendor.com/gpu=all");
  EXPECT_FALSE(plain->required);
  auto named = parse_device("name=vendor.com/gpu,required");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->name, "vendor.com/gpu");
  EXPECT_TRUE(named->required);
  auto not_required = parse_device("dev,required=false");
  ASSERT_TRUE(not_required);
  EXPECT_FALSE(not_required->required);
}

TEST(InstrDevice, Errors) {
  auto bare = parse_device("a,b");
  ASSERT_FALSE(bare);
  EXPECT_THAT(bare.error().to_string(), HasSubstr("invalid field 'b' must be a key=value pair"));
  auto twice = parse_device("a,name=b");
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error().to_string(), HasSubstr("device name already set to a"));
  auto bad_bool = parse_device("a,required=maybe");
  ASSERT_FALSE(bad_bool);
  EXPECT_THAT(bad_bool.error().to_string(), HasSubstr("invalid value for required: maybe"));
  auto unknown = parse_device("a,foo=bar");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().to_string(), HasSubstr("unexpected key 'foo' in 'foo=bar'"));
}

// ---------------------------------------------------------------- durations

// Go time.ParseDuration.
TEST(InstrDuration, ValidForms) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"0", 0},
      {"0s", 0},
      {"1m30s", 90 * k_s},
      {"1.5h", 5400 * k_s},
      {"300ms", 300 * k_ms},
      {"2h45m", (2 * 3600 + 45 * 60) * k_s},
      {"1ns", 1},
      {"1us", 1000},
      {"1\u00b5s", 1000}, // micro sign
      {"1\u03bcs", 1000}, // Greek mu
      {".5s", 500 * k_ms},
      {"1.s", k_s},
      {"+3s", 3 * k_s},
      {"-1.5s", -1500 * k_ms},
      {"1h1m1s1ms1us1ns", 3661 * k_s + k_ms + 1000 + 1},
      {"9223372036854775807ns", INT64_MAX},
  };
  for (const auto& [text, ns] : cases) {
    auto d = parse_go_duration(text);
    ASSERT_TRUE(d) << text << ": " << d.error().to_string();
    EXPECT_EQ(*d, ns) << text;
  }
}

TEST(InstrDuration, InvalidForms) {
  for (const char* text : {"", "1", "s", "1d", "1x", "--1s", "1.2.3s", ".s", "1 s", "1s ",
                           "3000000h", "9223372036854775808ns"}) {
    EXPECT_FALSE(parse_go_duration(text)) << "'" << text << "'";
  }
}

// Mount targets and ids as the reference resolves them (dockerfile2llb
// convert_runmount.go dispatchRunMounts, convert_secrets.go, convert_ssh.go;
// client/llb/exec.go numbers default ssh sockets).
MountPlacement placed(std::string_view value, std::string_view workdir, std::size_t ssh = 0) {
  auto m = mount(value);
  EXPECT_TRUE(m) << m.error().to_string();
  if (!m) return {};
  auto p = place_mount(*m, workdir, ssh);
  EXPECT_TRUE(p) << value << ": " << p.error().to_string();
  return p ? *p : MountPlacement{};
}

std::string place_error(std::string_view value, std::string_view workdir) {
  auto m = mount(value);
  if (!m) return m.error().to_string();
  auto p = place_mount(*m, workdir, 0);
  return p ? std::string() : p.error().to_string();
}

TEST(MountPlacement, RelativeTargetsJoinTheWorkdir) {
  EXPECT_EQ(placed("target=.", "/src").target, "/src");
  EXPECT_EQ(placed("type=bind,source=package.json,target=package.json", "/app").target,
            "/app/package.json");
  EXPECT_EQ(placed("type=bind,target=./sub/../lib/", "/app").target, "/app/lib");
  EXPECT_EQ(placed("type=tmpfs,target=tmp", "/w/").target, "/w/tmp");
  EXPECT_EQ(placed("type=bind,target=../../up", "/a").target, "/up");
  EXPECT_EQ(placed("type=bind,target=/abs/./x/", "/app").target, "/abs/x");
  EXPECT_EQ(placed("type=bind,target=x", "").target, "/x"); // no WORKDIR: "/"
  // no target: the workdir itself (the reference joins "")
  EXPECT_EQ(placed("type=bind", "/src").target, "/src");
  EXPECT_EQ(placed("type=cache", "/go/src").target, "/go/src");
}

TEST(MountPlacement, TheRootIsNoTarget) {
  EXPECT_EQ(place_error("target=.", "/"), "invalid mount target \"/\"");
  EXPECT_EQ(place_error("type=bind", ""), "invalid mount target \"/\"");
  EXPECT_EQ(place_error("type=cache,target=/", "/app"), "invalid mount target \"/\"");
  EXPECT_EQ(place_error("type=tmpfs,target=..", "/app"), "invalid mount target \"/\"");
}

TEST(MountPlacement, CacheIdIsTheTargetAsWritten) {
  EXPECT_EQ(placed("type=cache,target=node_modules", "/app").id, "node_modules");
  EXPECT_EQ(placed("type=cache,target=node_modules", "/app").target, "/app/node_modules");
  EXPECT_EQ(placed("type=cache,target=/root/.cache/go-build/", "/").id, "/root/.cache/go-build");
  EXPECT_EQ(placed("type=cache,id=gomod,target=/go/pkg/mod", "/").id, "gomod");
  EXPECT_EQ(placed("type=cache", "/w").id, ".");
  EXPECT_EQ(placed("type=bind,target=x", "/").id, "");
}

TEST(MountPlacement, Secrets) {
  auto p = placed("type=secret,id=npmrc", "/app");
  EXPECT_EQ(p.id, "npmrc");
  EXPECT_EQ(p.target, "/run/secrets/npmrc");
  p = placed("type=secret,source=aws", "/app"); // source names the secret
  EXPECT_EQ(p.id, "aws");
  EXPECT_EQ(p.target, "/run/secrets/aws");
  p = placed("type=secret,target=/root/.npmrc", "/app"); // id from the target
  EXPECT_EQ(p.id, ".npmrc");
  EXPECT_EQ(p.target, "/root/.npmrc");
  p = placed("type=secret,id=tok,target=tok.txt", "/app"); // relative: the workdir's
  EXPECT_EQ(p.target, "/app/tok.txt");
  p = placed("type=secret,id=tok,env=TOKEN", "/app"); // env alone: no file
  EXPECT_EQ(p.id, "tok");
  EXPECT_FALSE(p.target);
  p = placed("type=secret,id=tok,env=TOKEN,target=/t", "/app");
  EXPECT_EQ(p.target, "/t");
  p = placed("type=secret,id=a/b", "/app");
  EXPECT_EQ(p.target, "/run/secrets/b");
}

TEST(MountPlacement, Ssh) {
  auto p = placed("type=ssh", "/app", 0);
  EXPECT_EQ(p.id, "default");
  EXPECT_EQ(p.target, "/run/buildkit/ssh_agent.0");
  p = placed("type=ssh,id=github", "/app", 2);
  EXPECT_EQ(p.id, "github");
  EXPECT_EQ(p.target, "/run/buildkit/ssh_agent.2");
  EXPECT_EQ(placed("type=ssh,target=agent.sock", "/app").target, "/app/agent.sock");
  EXPECT_EQ(place_error("type=ssh,source=x", "/"), "ssh does not support source");
}

} // namespace
} // namespace mason::frontend::dockerfile
