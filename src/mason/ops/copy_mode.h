// --chmod for COPY/ADD: an octal mode or a chmod(1) symbolic mode, as
// BuildKit accepts them (dockerfile2llb dispatchCopy + the dchapes-mode
// package that fsutil applies).
//
//   - Octal ("644", "0755", "4755"): must be <= 07777; every copied entry
//     gets exactly that mode (the permission bits plus setuid, setgid and
//     sticky), and directories the copy creates on the way get its
//     permission bits (mode & 0777).
//   - Symbolic ("u+x", "go-w", "a=rX,u+w", "+X", "u=g"): BSD setmode
//     semantics with a zero umask, applied to each entry's own mode ('X'
//     adds execute only to directories and to entries that already have an
//     execute bit). Directories created on the way get 0755.
//   - A value starting with a digit that is not valid octal <= 07777 is
//     refused with BuildKit's message "invalid chmod parameter: '64a'. it
//     should be octal string and between 0 and 07777".
// Values are immutable; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "mason/util/error.h"

namespace mason::ops {

class ModeSpec {
public:
  ModeSpec() = default; // no --chmod: modes are preserved

  // "" gives the empty spec. Errors: invalid_argument naming the value.
  static util::Result<ModeSpec> parse(std::string_view text);

  bool empty() const { return !m_octal && m_cmds.empty() && !m_symbolic; }
  std::optional<mode_t> octal() const { return m_octal; }

  // The mode (07777 bits) an entry gets, from its source mode.
  mode_t apply(mode_t source_mode, bool is_dir) const;
  // The mode of a directory the copy creates on the way to its target.
  mode_t created_dir_mode() const { return m_octal ? (*m_octal & 0777) : 0755; }

private:
  struct Cmd {
    char op = '+';            // '+', '-', 'X', or 'u'/'g'/'o' (copy that class)
    std::uint8_t classes = 0; // for u/g/o: which classes receive the bits
    bool set = false;         // u/g/o: set the copied bits
    bool clear = false;       // u/g/o: clear first
    std::uint16_t bits = 0;
  };
  friend class ModeParser;

  std::optional<mode_t> m_octal;
  std::vector<Cmd> m_cmds;
  bool m_symbolic = false;
};

} // namespace mason::ops
