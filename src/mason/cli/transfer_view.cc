#include "mason/cli/transfer_view.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mason/util/strings.h"

namespace mason::cli {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto k_redraw_every = std::chrono::milliseconds(100);
constexpr int k_bar_width = 30;

struct Line {
  std::string what;
  std::int64_t done = 0, total = 0;
  bool finished = false, skipped = false;
  Clock::time_point start = Clock::now(), end{};
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string rate(std::int64_t bytes, Clock::duration took) {
  const double s = seconds(took);
  if (s <= 0.001) return "";
  return util::human_size(static_cast<std::int64_t>(static_cast<double>(bytes) / s)) + "/s";
}

class View {
public:
  View(std::FILE* out, TransferDirection direction, bool live)
      : m_out(out), m_live(live),
        m_verb(direction == TransferDirection::pull ? "Downloading" : "Pushing"),
        m_done(direction == TransferDirection::pull ? "Pull complete" : "Pushed") {}

  void handle(const registry::TransferEvent& e) {
    std::lock_guard lock(m_mutex);
    auto [it, added] = m_index.try_emplace(e.what, m_lines.size());
    if (added) m_lines.push_back(Line{.what = e.what});
    Line& line = m_lines[it->second];
    line.done = e.done;
    line.total = e.total;
    if (e.finished && !line.finished) {
      line.finished = true;
      line.skipped = e.skipped;
      line.end = Clock::now();
      if (!m_live) fmt::print(m_out, "{}\n", text(line));
    }
    if (!m_live) return;
    const auto now = Clock::now();
    if (!e.finished && !added && now - m_last_draw < k_redraw_every) return;
    m_last_draw = now;
    redraw();
  }

private:
  std::string text(const Line& l) const {
    if (l.skipped) return l.what + ": Already exists";
    if (l.finished)
      return fmt::format("{}: {} {} in {:.1f}s {}", l.what, m_done, util::human_size(l.done),
                         seconds(l.end - l.start), rate(l.done, l.end - l.start));
    std::string out = fmt::format("{}: {} ", l.what, m_verb);
    if (l.total > 0) {
      const auto filled = static_cast<int>(k_bar_width * std::min(l.done, l.total) / l.total);
      out += "[" + std::string(static_cast<std::size_t>(filled), '=') +
             (filled < k_bar_width ? ">" : "") +
             std::string(static_cast<std::size_t>(std::max(0, k_bar_width - filled - 1)), ' ') +
             "] ";
      out += util::human_size(l.done) + "/" + util::human_size(l.total);
    } else {
      out += util::human_size(l.done);
    }
    if (auto r = rate(l.done, Clock::now() - l.start); !r.empty()) out += "  " + r;
    return out;
  }

  void redraw() {
    std::string frame;
    if (m_drawn > 0) frame += fmt::format("\x1b[{}A", m_drawn);
    for (const auto& line : m_lines) frame += "\r\x1b[2K" + text(line) + "\n";
    m_drawn = static_cast<int>(m_lines.size());
    (void)std::fputs(frame.c_str(), m_out);
    (void)std::fflush(m_out);
  }

  std::FILE* m_out;
  bool m_live;
  std::string_view m_verb, m_done;
  std::mutex m_mutex;
  std::vector<Line> m_lines;
  std::map<std::string, std::size_t> m_index;
  int m_drawn = 0;
  Clock::time_point m_last_draw{};
};

} // namespace

bool is_live_terminal(std::FILE* out) {
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(out)) == 1 && term != nullptr && std::string_view(term) != "dumb";
}

registry::TransferProgress transfer_view(std::FILE* out, TransferDirection direction, bool live) {
  auto view = std::make_shared<View>(out, direction, live);
  return [view](const registry::TransferEvent& e) { view->handle(e); };
}

} // namespace mason::cli
