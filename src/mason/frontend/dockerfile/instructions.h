// Typed instructions: the syntax tree checked against each instruction's
// arguments and flags (the current stable Dockerfile syntax), grouped into
// stages. Nothing is expanded here; lowering (stages.h) expands words with
// the ARG/ENV scope. Error texts follow the reference builder's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mason/frontend/dockerfile/ast.h"
#include "mason/frontend/dockerfile/diagnostic.h"
#include "mason/util/error.h"

namespace mason::frontend::dockerfile {

struct KeyValue {
  std::string key;
  std::string value;
  bool legacy = false; // `ENV name value` form (no `=`)
};

// A heredoc used as a COPY/ADD source.
struct SourceContent {
  std::string path; // the heredoc name
  std::string data;
  bool expand = true;
};

struct SourcesAndDest {
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
};

// A heredoc attached to RUN/CMD/ENTRYPOINT.
struct InlineFile {
  std::string name;
  std::string data;
  bool chomp = false;
};

// Command line of RUN/CMD/ENTRYPOINT: exec form (prepend_shell false) or
// one shell string (prepend_shell true).
struct CommandLine {
  std::vector<std::string> args;
  std::vector<InlineFile> files;
  bool prepend_shell = false;
};

enum class MountType { bind, cache, tmpfs, secret, ssh };
enum class CacheSharing { none, shared, private_, locked };

struct Mount {
  MountType type = MountType::bind;
  std::string from;
  std::string source;
  std::string target;
  bool read_only = true;
  std::int64_t size_limit = 0; // tmpfs, bytes
  std::string cache_id;
  CacheSharing sharing = CacheSharing::none;
  bool required = false;
  std::optional<std::string> env; // secret: expose as environment variable
  std::optional<std::uint32_t> mode, uid, gid;
};

struct Device {
  std::string name;
  bool required = false;
};

// ---- one struct per instruction

struct FromInstr {
  std::string base;     // as written, unexpanded
  std::string name;     // lower-cased stage name, or empty
  std::string platform; // --platform, unexpanded
};
struct RunInstr {
  CommandLine cmd;
  std::vector<std::string> mounts;    // raw --mount values, parsed when expanded
  std::vector<Mount> resolved_mounts; // filled by expand_stage()
  std::string network = "default";    // default | none | host
  std::string security = "sandbox";
  std::vector<Device> devices;
};
struct CmdInstr {
  CommandLine cmd;
};
struct EntrypointInstr {
  CommandLine cmd;
};
struct ShellInstr {
  std::vector<std::string> shell;
};
struct EnvInstr {
  std::vector<KeyValue> vars;
};
struct LabelInstr {
  std::vector<KeyValue> labels;
};
struct MaintainerInstr {
  std::string maintainer;
};
struct ArgDef {
  std::string key;
  std::optional<std::string> value;
};
struct ArgInstr {
  std::vector<ArgDef> args;
};
struct CopyInstr {
  SourcesAndDest files;
  std::string from, chown, chmod;
  bool link = false;
  bool parents = false;
  std::vector<std::string> excludes;
};
struct AddInstr {
  SourcesAndDest files;
  std::string chown, chmod, checksum;
  bool link = false;
  std::optional<bool> keep_git_dir, unpack;
  std::vector<std::string> excludes;
};
struct WorkdirInstr {
  std::string path;
};
struct UserInstr {
  std::string user;
};
struct VolumeInstr {
  std::vector<std::string> volumes;
};
struct ExposeInstr {
  std::vector<std::string> ports;
}; // sorted, unexpanded
struct StopSignalInstr {
  std::string signal;
};
struct OnbuildInstr {
  std::string expression;
}; // the trigger's source text
struct HealthcheckInstr {
  std::vector<std::string> test; // {"NONE"} | {"CMD", ...} | {"CMD-SHELL", cmd}
  std::int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

using InstructionKind =
    std::variant<RunInstr, CmdInstr, EntrypointInstr, ShellInstr, EnvInstr, LabelInstr,
                 MaintainerInstr, ArgInstr, CopyInstr, AddInstr, WorkdirInstr, UserInstr,
                 VolumeInstr, ExposeInstr, StopSignalInstr, OnbuildInstr, HealthcheckInstr>;

struct Instruction {
  InstructionKind kind;
  std::string keyword;  // upper case
  std::string original; // the logical source line
  int start_line = 0;
  int end_line = 0;
};

struct Stage {
  FromInstr from;
  std::string original;
  int start_line = 0;
  std::vector<Instruction> commands;
};

struct Dockerfile {
  std::vector<Instruction> meta_args; // ARGs before the first FROM
  std::vector<Stage> stages;
  char32_t escape = U'\\';
};

struct InstructionsResult {
  Dockerfile dockerfile;
  std::vector<Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

// Checks every instruction of `ast` and groups them into stages. All
// errors are collected (one per faulty instruction).
InstructionsResult to_instructions(const Ast& ast);

// Turns one node into a typed instruction (FROM gives a Stage's FromInstr
// through `from`). Used for ONBUILD triggers too.
util::Result<std::variant<FromInstr, Instruction>> parse_instruction(const Node& node);

// Parses one --mount value. `expand` (may be empty) expands each value
// first, as the reference does at dispatch time.
using WordExpander = std::function<util::Result<std::string>(std::string_view)>;
util::Result<Mount> parse_mount(std::string_view value, const WordExpander& expand);

// Where a RUN --mount appears in the container and what it is called, as
// the reference resolves them (dockerfile2llb's dispatchRunMounts,
// dispatchSecret, dispatchSSH, and the solver's PrepareMounts, which joins
// any relative destination to the step's working directory):
//   every type          a relative target is joined to the stage's WORKDIR
//                       ("" = "/"); a result of "/" is an error
//   bind, cache, tmpfs  no target: the WORKDIR itself. A cache's id
//                       defaults to the target as written, cleaned
//                       (before the join)
//   secret              id = id=, else source=, else the target's last
//                       element; no target: /run/secrets/<id>, or no file
//                       at all when env= is given
//   ssh                 id defaults to "default"; no target:
//                       /run/buildkit/ssh_agent.<N>, N counting the step's
//                       ssh mounts from 0
// Targets come out absolute and clean. `workdir` is the stage's working
// directory at the step (from the base image or WORKDIR, expanded).
struct MountPlacement {
  std::string id;                    // cache, secret, ssh; "" for bind and tmpfs
  std::optional<std::string> target; // nullopt: a secret exposed only as env
};
util::Result<MountPlacement> place_mount(const Mount& m, std::string_view workdir,
                                         std::size_t ssh_index);
// Every mount of one RUN step, in order (ssh mounts numbered from 0);
// `workdir` "" means "/".
util::Result<std::vector<MountPlacement>> place_mounts(const std::vector<Mount>& mounts,
                                                       std::string_view workdir);

// Parses one RUN --device value (`name[,required[=bool]]`).
util::Result<Device> parse_device(std::string_view value);

// Go's time.ParseDuration, in nanoseconds.
util::Result<std::int64_t> parse_go_duration(std::string_view s);

std::string_view to_string(MountType type);

} // namespace mason::frontend::dockerfile
