// Each syntax-tree node is checked by the rule of its keyword: argument
// count, declared flags, JSON requirements, value formats. Instructions
// before the first FROM may only be ARGs (the global scope). The rules and
// messages follow BuildKit's frontend/dockerfile/instructions package.
#include "mason/frontend/dockerfile/instructions.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "mason/frontend/dockerfile/flags.h"
#include "mason/frontend/dockerfile/parser.h"
#include "mason/util/utf8.h"

namespace mason::frontend::dockerfile {

namespace {

using util::ErrorCode;
using util::Result;

// The instruction being parsed: its words and flags.
struct Request {
  const Node& node;
  std::string keyword; // upper case
  std::vector<std::string> args;
  InstructionFlags flags;
};

util::Error fail(std::string message) { return {ErrorCode::invalid_argument, std::move(message)}; }

Result<void> parse_flags(Request& req) {
  if (auto err = req.flags.parse(req.keyword)) return std::unexpected(fail(*err));
  return {};
}

// BuildKit's handleJSONArgs: shell form joins the words into one string.
std::vector<std::string> json_args(const std::vector<std::string>& args, bool json) {
  if (args.empty()) return {};
  if (json) return args;
  std::string joined;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i) joined += ' ';
    joined += args[i];
  }
  return {joined};
}

CommandLine command_line(const Request& req) {
  CommandLine cl;
  for (const auto& doc : req.node.heredocs) cl.files.push_back({doc.name, doc.content, doc.chomp});
  cl.args = json_args(req.args, req.node.json);
  cl.prepend_shell = !req.node.json;
  return cl;
}

Result<std::vector<KeyValue>> key_values(const Request& req) {
  if (req.args.empty())
    return std::unexpected(fail(req.keyword + " requires at least one argument"));
  if (req.args.size() % 3 != 0)
    return std::unexpected(fail("Bad input to " + req.keyword + ", too many arguments"));
  std::vector<KeyValue> out;
  for (std::size_t i = 0; i < req.args.size(); i += 3) {
    if (req.args[i].empty()) return std::unexpected(fail(req.keyword + " names can not be blank"));
    out.push_back({req.args[i], req.args[i + 1], req.args[i + 2].empty()});
  }
  return out;
}

Result<std::string> exactly_one(const Request& req) {
  if (req.args.size() != 1)
    return std::unexpected(fail(req.keyword + " requires exactly one argument"));
  return req.args[0];
}

// `<<-` bodies lose their leading tabs on every line.
std::string chomp_tabs(std::string_view s) {
  std::string out;
  bool line_start = true;
  for (char c : s) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out += c;
  }
  return out;
}

Result<SourcesAndDest> sources_and_dest(const Request& req) {
  if (req.args.size() < 2)
    return std::unexpected(fail(req.keyword + " requires at least two arguments, but only one was "
                                              "provided. Destination could not be determined"));
  SourcesAndDest out;
  out.dest = req.args.back();
  if (parse_heredoc_word(out.dest))
    return std::unexpected(fail(req.keyword + " cannot accept a heredoc as a destination"));
  for (std::size_t i = 0; i + 1 < req.args.size(); ++i) {
    const auto& src = req.args[i];
    auto doc = parse_heredoc_word(src);
    if (!doc) {
      out.sources.push_back(src);
      continue;
    }
    std::string content;
    for (const auto& h : req.node.heredocs)
      if (h.name == doc->name) content = h.content;
    if (doc->chomp) content = chomp_tabs(content);
    out.contents.push_back({doc->name, std::move(content), doc->expand});
  }
  return out;
}

Result<InstructionKind> parse_copy(Request& req) {
  if (req.args.size() < 2) return std::unexpected(sources_and_dest(req).error());
  req.flags.add_string("chown");
  req.flags.add_string("from");
  req.flags.add_string("chmod");
  req.flags.add_bool("link");
  req.flags.add_strings("exclude");
  req.flags.add_bool("parents");
  MASON_TRY(parse_flags(req));
  MASON_TRY_ASSIGN(auto files, sources_and_dest(req));
  CopyInstr c;
  c.files = std::move(files);
  c.from = req.flags.get("from").value;
  c.chown = req.flags.get("chown").value;
  c.chmod = req.flags.get("chmod").value;
  c.link = req.flags.is_true("link");
  c.parents = req.flags.is_true("parents");
  c.excludes = req.flags.get("exclude").values;
  return c;
}

Result<InstructionKind> parse_add(Request& req) {
  if (req.args.size() < 2) return std::unexpected(sources_and_dest(req).error());
  req.flags.add_string("chown");
  req.flags.add_string("chmod");
  req.flags.add_bool("link");
  req.flags.add_bool("keep-git-dir");
  req.flags.add_string("checksum");
  req.flags.add_bool("unpack");
  req.flags.add_strings("exclude");
  MASON_TRY(parse_flags(req));
  MASON_TRY_ASSIGN(auto files, sources_and_dest(req));
  AddInstr a;
  a.files = std::move(files);
  a.chown = req.flags.get("chown").value;
  a.chmod = req.flags.get("chmod").value;
  a.checksum = req.flags.get("checksum").value;
  a.link = req.flags.is_true("link");
  if (req.flags.used("keep-git-dir")) a.keep_git_dir = req.flags.is_true("keep-git-dir");
  if (req.flags.used("unpack")) a.unpack = req.flags.is_true("unpack");
  a.excludes = req.flags.get("exclude").values;
  return a;
}

Result<InstructionKind> parse_run(Request& req) {
  req.flags.add_strings("mount");
  req.flags.add_string("network", "default");
  req.flags.add_string("security", "sandbox");
  req.flags.add_strings("device");
  MASON_TRY(parse_flags(req));
  RunInstr run;
  run.cmd = command_line(req);
  run.network = req.flags.get("network").value;
  if (run.network != "default" && run.network != "none" && run.network != "host")
    return std::unexpected(fail("invalid network mode \"" + run.network + "\""));
  run.security = req.flags.get("security").value;
  if (run.security != "insecure" && run.security != "sandbox")
    return std::unexpected(fail("security \"" + run.security + "\" is not valid"));
  run.mounts = req.flags.get("mount").values;
  // The reference checks mounts only once expanded; a value without `$`
  // cannot change by expansion, so check it fully now.
  const WordExpander identity = [](std::string_view w) -> Result<std::string> {
    return std::string(w);
  };
  for (const auto& m : run.mounts) {
    MASON_TRY(parse_mount(m, m.find('$') == std::string::npos ? identity : WordExpander()));
  }
  for (const auto& d : req.flags.get("device").values) {
    MASON_TRY_ASSIGN(auto dev, parse_device(d));
    run.devices.push_back(std::move(dev));
  }
  return run;
}

Result<InstructionKind> parse_healthcheck(Request& req) {
  if (req.args.empty()) return std::unexpected(fail("HEALTHCHECK requires at least one argument"));
  HealthcheckInstr hc;
  std::string type = req.args[0];
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<std::string> rest(req.args.begin() + 1, req.args.end());
  if (type == "NONE") {
    if (!rest.empty()) return std::unexpected(fail("HEALTHCHECK NONE takes no arguments"));
    hc.test = {type};
    return hc;
  }
  for (const auto* name : {"interval", "timeout", "start-period", "start-interval", "retries"})
    req.flags.add_string(name);
  MASON_TRY(parse_flags(req));
  if (type != "CMD")
    return std::unexpected(fail("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)"));
  auto cmd = json_args(rest, req.node.json);
  if (cmd.empty()) return std::unexpected(fail("Missing command after HEALTHCHECK CMD"));
  hc.test = {req.node.json ? "CMD" : "CMD-SHELL"};
  hc.test.insert(hc.test.end(), cmd.begin(), cmd.end());
  const std::array<std::pair<const char*, std::int64_t*>, 4> durations = {
      {{"interval", &hc.interval_ns},
       {"timeout", &hc.timeout_ns},
       {"start-period", &hc.start_period_ns},
       {"start-interval", &hc.start_interval_ns}}};
  for (const auto& [name, out] : durations) {
    const auto& v = req.flags.get(name).value;
    if (v.empty()) continue;
    MASON_TRY_ASSIGN(auto d, parse_go_duration(v));
    if (d != 0 && d < 1'000'000)
      return std::unexpected(
          fail(std::string("Interval \"") + name + "\" cannot be less than 1ms"));
    *out = d;
  }
  if (const auto& r = req.flags.get("retries").value; !r.empty()) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(r.data(), r.data() + r.size(), n);
    if (ec != std::errc() || ptr != r.data() + r.size())
      return std::unexpected(fail("strconv.ParseInt: parsing \"" + r + "\": invalid syntax"));
    if (n < 0) return std::unexpected(fail("--retries cannot be negative (" + r + ")"));
    hc.retries = n;
  }
  return hc;
}

Result<InstructionKind> parse_onbuild(Request& req) {
  if (!req.node.sub) return std::unexpected(fail("ONBUILD requires at least one argument"));
  MASON_TRY(parse_flags(req));
  std::string trigger = util::go_to_lower(req.node.sub->keyword);
  for (auto& c : trigger) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (trigger == "ONBUILD")
    return std::unexpected(fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"));
  if (trigger == "MAINTAINER" || trigger == "FROM")
    return std::unexpected(fail(trigger + " isn't allowed as an ONBUILD trigger"));
  // The trigger's text: the line without `ONBUILD`, heredocs re-attached.
  auto text = util::trim_left_unicode_space(req.node.original);
  text.remove_prefix(std::min<std::size_t>(7, text.size()));
  std::string expr(util::trim_left_unicode_space(text));
  for (const auto& doc : req.node.sub->heredocs) expr += "\n" + doc.content + doc.name;
  return OnbuildInstr{expr};
}

Result<InstructionKind> parse_arg(Request& req) {
  if (req.args.empty()) return std::unexpected(fail("ARG requires at least one argument"));
  ArgInstr a;
  for (const auto& w : req.args) {
    const auto eq = w.find('=');
    if (eq == 0) return std::unexpected(fail("ARG names can not be blank"));
    if (eq == std::string::npos)
      a.args.push_back({w, std::nullopt});
    else
      a.args.push_back({w.substr(0, eq), w.substr(eq + 1)});
  }
  return a;
}

Result<InstructionKind> parse_shell_instr(Request& req) {
  MASON_TRY(parse_flags(req));
  auto args = json_args(req.args, req.node.json);
  if (args.empty()) return std::unexpected(fail("SHELL requires at least one argument"));
  if (!req.node.json)
    return std::unexpected(fail("SHELL requires the arguments to be in JSON form"));
  return ShellInstr{args};
}

Result<InstructionKind> parse_volume(Request& req) {
  if (req.args.empty()) return std::unexpected(fail("VOLUME requires at least one argument"));
  MASON_TRY(parse_flags(req));
  VolumeInstr v;
  for (const auto& a : req.args) {
    auto t = util::trim_unicode_space(a);
    if (t.empty()) return std::unexpected(fail("VOLUME specified can not be an empty string"));
    v.volumes.emplace_back(t);
  }
  return v;
}

template <class T>
Result<InstructionKind> one_string(Request& req, bool check_flags = true) {
  MASON_TRY_ASSIGN(auto v, exactly_one(req));
  if (check_flags) MASON_TRY(parse_flags(req));
  return T{v};
}

Result<InstructionKind> dispatch(Request& req) {
  const auto kw = util::go_to_lower(req.node.keyword);
  if (kw == "run") return parse_run(req);
  if (kw == "copy") return parse_copy(req);
  if (kw == "add") return parse_add(req);
  if (kw == "cmd" || kw == "entrypoint") {
    MASON_TRY(parse_flags(req));
    auto cl = command_line(req);
    if (kw == "cmd") return CmdInstr{std::move(cl)};
    return EntrypointInstr{std::move(cl)};
  }
  if (kw == "env" || kw == "label") {
    MASON_TRY(parse_flags(req));
    MASON_TRY_ASSIGN(auto kvs, key_values(req));
    if (kw == "env") return EnvInstr{std::move(kvs)};
    return LabelInstr{std::move(kvs)};
  }
  if (kw == "maintainer") return one_string<MaintainerInstr>(req);
  if (kw == "workdir") return one_string<WorkdirInstr>(req);
  if (kw == "user") return one_string<UserInstr>(req);
  if (kw == "stopsignal") return one_string<StopSignalInstr>(req, false); // reference ignores flags
  if (kw == "expose") {
    if (req.args.empty()) return std::unexpected(fail("EXPOSE requires at least one argument"));
    MASON_TRY(parse_flags(req));
    auto ports = req.args;
    std::sort(ports.begin(), ports.end());
    return ExposeInstr{std::move(ports)};
  }
  if (kw == "volume") return parse_volume(req);
  if (kw == "arg") return parse_arg(req);
  if (kw == "shell") return parse_shell_instr(req);
  if (kw == "healthcheck") return parse_healthcheck(req);
  if (kw == "onbuild") return parse_onbuild(req);
  std::vector<std::string> names = {"ADD",        "ARG",     "CMD",    "COPY",        "ENTRYPOINT",
                                    "ENV",        "EXPOSE",  "FROM",   "HEALTHCHECK", "LABEL",
                                    "MAINTAINER", "ONBUILD", "RUN",    "SHELL",       "STOPSIGNAL",
                                    "USER",       "VOLUME",  "WORKDIR"};
  return std::unexpected(
      fail("unknown instruction: " + req.node.keyword + suggestion(req.node.keyword, names)));
}

bool valid_stage_name(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

Result<FromInstr> parse_from(Request& req) {
  FromInstr from;
  if (req.args.size() == 3 && util::iequals_ascii(req.args[1], "as")) {
    from.name = util::to_lower_ascii(req.args[2]);
    if (!valid_stage_name(from.name))
      return std::unexpected(fail("invalid name for build stage: " + go_quote(req.args[2]) +
                                  ", name can't start with a number or contain symbols"));
  } else if (req.args.size() != 1) {
    return std::unexpected(fail("FROM requires either one or three arguments"));
  }
  req.flags.add_string("platform");
  MASON_TRY(parse_flags(req));
  from.base = req.args[0];
  from.platform = req.flags.get("platform").value;
  return from;
}

} // namespace

util::Result<std::variant<FromInstr, Instruction>> parse_instruction(const Node& node) {
  Request req{node, {}, node.args, InstructionFlags(node.flags)};
  req.keyword = util::go_to_lower(node.keyword);
  for (auto& c : req.keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (node.sub) { // ONBUILD: the nested keyword and its words
    req.args = {node.sub->keyword};
    req.args.insert(req.args.end(), node.sub->args.begin(), node.sub->args.end());
  }
  if (req.keyword == "FROM") {
    MASON_TRY_ASSIGN(auto from, parse_from(req));
    return from;
  }
  MASON_TRY_ASSIGN(auto kind, dispatch(req));
  return Instruction{std::move(kind), req.keyword, node.original, node.start_line, node.end_line};
}

namespace {

Diagnostic diagnostic_for(const Node& node, const util::Error& err) {
  Diagnostic d{node.start_line, Diagnostic::k_no_column, err.message()};
  // Point the caret at the offending flag when there is one.
  for (const auto& f : node.flags) {
    auto name = f.substr(0, f.find('='));
    if (err.message().find(name + " ") != std::string::npos || err.message().ends_with(name)) {
      d.caret_at = name;
      break;
    }
  }
  return d;
}

} // namespace

InstructionsResult to_instructions(const Ast& ast) {
  InstructionsResult out;
  out.dockerfile.escape = ast.escape;
  for (const auto& node : ast.children) {
    auto parsed = parse_instruction(node);
    if (!parsed) {
      out.errors.push_back(diagnostic_for(node, parsed.error()));
      continue;
    }
    if (auto* from = std::get_if<FromInstr>(&*parsed)) {
      out.dockerfile.stages.push_back({std::move(*from), node.original, node.start_line, {}});
      continue;
    }
    auto& instr = std::get<Instruction>(*parsed);
    if (!out.dockerfile.stages.empty()) {
      out.dockerfile.stages.back().commands.push_back(std::move(instr));
    } else if (std::holds_alternative<ArgInstr>(instr.kind)) {
      out.dockerfile.meta_args.push_back(std::move(instr));
    } else {
      out.errors.push_back({node.start_line, Diagnostic::k_no_column,
                            "no build stage in current context: " + instr.keyword +
                                " must come after a FROM (only ARG may come before it)"});
    }
  }
  if (out.errors.empty() && out.dockerfile.stages.empty())
    out.errors.push_back({0, Diagnostic::k_no_column, "dockerfile contains no stages to build"});
  return out;
}

std::string_view to_string(MountType type) {
  switch (type) {
  case MountType::bind: return "bind";
  case MountType::cache: return "cache";
  case MountType::tmpfs: return "tmpfs";
  case MountType::secret: return "secret";
  case MountType::ssh: return "ssh";
  }
  return "bind";
}

} // namespace mason::frontend::dockerfile
