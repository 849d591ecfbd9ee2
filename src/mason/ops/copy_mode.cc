// --chmod parsing and application. Symbolic modes follow BSD setmode(3)
// with a zero umask, as the dchapes-mode package BuildKit uses: each
// clause "who op perms" becomes commands (+bits, -bits, X bits, or copy
// the u/g/o bits to other classes); runs of +/-/X commands are then
// compacted into at most one of each, which is what the reference applies.
#include "mason/ops/copy_mode.h"

#include <string>

namespace mason::ops {

namespace {

constexpr std::uint16_t k_suid = 04000;
constexpr std::uint16_t k_sgid = 02000;
constexpr std::uint16_t k_sticky = 01000;
constexpr std::uint16_t k_rwx_user = 0700;
constexpr std::uint16_t k_rwx_group = 0070;
constexpr std::uint16_t k_rwx_other = 0007;
constexpr std::uint16_t k_standard = k_suid | k_sgid | k_rwx_user | k_rwx_group | k_rwx_other;
constexpr std::uint16_t k_all = 0xFFFF; // the mask of a zero umask
constexpr std::uint8_t k_class_user = 1;
constexpr std::uint8_t k_class_group = 2;
constexpr std::uint8_t k_class_other = 4;

util::Result<ModeSpec> non_octal(std::string_view text) {
  return util::make_error(util::ErrorCode::invalid_argument,
                          "invalid chmod parameter: '" + std::string(text) +
                              "'. it should be octal string and between 0 and 07777");
}

// strconv.ParseUint(text, 8, 32).
std::optional<std::uint64_t> parse_octal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<std::uint64_t>(c - '0');
    if (v > 0xFFFFFFFFu) return std::nullopt;
  }
  return v;
}

} // namespace

// Builds the command list of a symbolic mode (see the file comment).
class ModeParser {
public:
  using Cmd = ModeSpec::Cmd;

  explicit ModeParser(std::string_view text) : m_s(text) {}

  bool parse(std::vector<Cmd>& out) {
    if (m_s.empty()) return false;
    for (;;) {
      std::uint16_t who = 0;
      if (!parse_who(who)) return false;
      for (;;) {
        if (!parse_op_and_perms(who)) return false;
        if (m_s.empty()) {
          compress();
          out = std::move(m_cmds);
          return true;
        }
        if (m_s.front() == ',') break; // next clause
      }
      m_s.remove_prefix(1);
    }
  }

private:
  bool parse_who(std::uint16_t& who) {
    for (;;) {
      if (m_s.empty()) return false;
      switch (m_s.front()) {
      case 'a': who |= k_standard; break;
      case 'u': who |= k_suid | k_rwx_user; break;
      case 'g': who |= k_sgid | k_rwx_group; break;
      case 'o': who |= k_rwx_other; break;
      default: return true;
      }
      m_s.remove_prefix(1);
    }
  }

  // One operator and the permission letters after it.
  bool parse_op_and_perms(std::uint16_t& who) {
    const char op = m_s.front();
    m_s.remove_prefix(1);
    if (op == '=') {
      m_equal_done = false;
    } else if (op != '+' && op != '-') {
      return false;
    }
    who &= static_cast<std::uint16_t>(~k_sticky);
    std::uint16_t perm = 0;
    std::uint16_t perm_x = 0;
    for (;; m_s.remove_prefix(1)) {
      const char b = m_s.empty() ? '\0' : m_s.front();
      const bool not_only_other = who == 0 || (who & ~k_rwx_other) != 0;
      switch (b) {
      case 'r': perm |= 0444; break;
      case 'w': perm |= 0222; break;
      case 'x': perm |= 0111; break;
      case 'X':
        if (op == '+') perm_x = 0111;
        break;
      case 's':
        if (not_only_other) perm |= k_suid | k_sgid;
        break;
      case 't':
        if (not_only_other) {
          who |= k_sticky;
          perm |= k_sticky;
        }
        break;
      case 'u':
      case 'g':
      case 'o': copy_class(b, op, who, perm, perm_x); break;
      default: finish_clause(op, who, perm, perm_x); return true;
      }
    }
  }

  void copy_class(char cls, char op, std::uint16_t who, std::uint16_t& perm,
                  std::uint16_t& perm_x) {
    if (perm != 0) add(op, who, perm);
    perm = 0;
    if (op == '=') m_equal_done = true;
    if (perm_x != 0) add('X', who, perm_x);
    perm_x = 0;
    add_copy(cls, who, op);
  }

  void finish_clause(char op, std::uint16_t who, std::uint16_t perm, std::uint16_t perm_x) {
    if (perm != 0 || (op == '=' && !m_equal_done)) {
      if (op == '=') m_equal_done = true;
      add(op, who, perm);
    }
    if (perm_x != 0) add('X', who, perm_x);
  }

  void add(char op, std::uint16_t who, std::uint16_t perm) {
    if (op == '=') {
      m_cmds.push_back(Cmd{'-', 0, false, false, who != 0 ? who : k_standard});
      op = '+';
    }
    const auto bits = static_cast<std::uint16_t>((who != 0 ? who : k_all) & perm);
    m_cmds.push_back(Cmd{op, 0, false, false, bits});
  }

  void add_copy(char cls, std::uint16_t who, char op) {
    Cmd c{cls, 0, op == '+' || op == '=', op == '-' || op == '=', k_all};
    if (who == 0) {
      c.classes = k_class_user | k_class_group | k_class_other;
    } else {
      if ((who & 0400) != 0) c.classes |= k_class_user;
      if ((who & 0040) != 0) c.classes |= k_class_group;
      if ((who & 0004) != 0) c.classes |= k_class_other;
    }
    m_cmds.push_back(c);
  }

  // Compacts each run of +/-/X commands into at most "-", "+", "X".
  void compress() {
    std::vector<Cmd> out;
    for (std::size_t i = 0; i < m_cmds.size();) {
      if (!is_bit_cmd(m_cmds[i].op)) {
        out.push_back(m_cmds[i++]);
        continue;
      }
      std::uint16_t set = 0, clear = 0, x = 0;
      for (; i < m_cmds.size() && is_bit_cmd(m_cmds[i].op); ++i) {
        const auto b = m_cmds[i].bits;
        if (m_cmds[i].op == '-') {
          clear |= b, set &= static_cast<std::uint16_t>(~b), x &= static_cast<std::uint16_t>(~b);
        } else if (m_cmds[i].op == '+') {
          set |= b, clear &= static_cast<std::uint16_t>(~b), x &= static_cast<std::uint16_t>(~b);
        } else {
          x |= static_cast<std::uint16_t>(b & ~set);
        }
      }
      if (clear != 0) out.push_back(Cmd{'-', 0, false, false, clear});
      if (set != 0) out.push_back(Cmd{'+', 0, false, false, set});
      if (x != 0) out.push_back(Cmd{'X', 0, false, false, x});
    }
    m_cmds = std::move(out);
  }

  static bool is_bit_cmd(char op) { return op == '+' || op == '-' || op == 'X'; }

  std::string_view m_s;
  std::vector<Cmd> m_cmds;
  bool m_equal_done = false;
};

util::Result<ModeSpec> ModeSpec::parse(std::string_view text) {
  ModeSpec spec;
  if (text.empty()) return spec;
  if (const auto v = parse_octal(text)) {
    if (*v > 07777) return non_octal(text);
    spec.m_octal = static_cast<mode_t>(*v);
    return spec;
  }
  if (text.front() >= '0' && text.front() <= '9') return non_octal(text);
  if (!ModeParser(text).parse(spec.m_cmds))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "invalid chmod parameter: '" + std::string(text) + "': invalid syntax");
  spec.m_symbolic = true;
  return spec;
}

namespace {

// Applies one u/g/o copy command: `value` is the 3-bit class copied.
std::uint16_t apply_copy(std::uint16_t mode, std::uint8_t classes, bool set, bool clear,
                         std::uint16_t bits, std::uint16_t value) {
  const int shifts[3] = {6, 3, 0};
  const std::uint8_t flags[3] = {k_class_user, k_class_group, k_class_other};
  for (int i = 0; i < 3; ++i) {
    if ((classes & flags[i]) == 0) continue;
    if (clear) {
      const std::uint16_t clr = set ? 07 : value;
      mode &= static_cast<std::uint16_t>(~((clr << shifts[i]) & bits));
    }
    if (set) mode |= static_cast<std::uint16_t>((value << shifts[i]) & bits);
  }
  return mode;
}

} // namespace

mode_t ModeSpec::apply(mode_t source_mode, bool is_dir) const {
  if (m_octal) return *m_octal;
  const auto old = static_cast<std::uint16_t>(source_mode & 07777);
  std::uint16_t mode = old;
  for (const Cmd& c : m_cmds) {
    switch (c.op) {
    case 'u': mode = apply_copy(mode, c.classes, c.set, c.clear, c.bits, (mode & 0700) >> 6); break;
    case 'g': mode = apply_copy(mode, c.classes, c.set, c.clear, c.bits, (mode & 0070) >> 3); break;
    case 'o': mode = apply_copy(mode, c.classes, c.set, c.clear, c.bits, mode & 0007); break;
    case '+': mode |= c.bits; break;
    case '-': mode &= static_cast<std::uint16_t>(~c.bits); break;
    case 'X':
      if ((old & 0111) != 0 || is_dir) mode |= c.bits;
      break;
    default: break;
    }
  }
  return mode & 07777;
}

} // namespace mason::ops
