// Renderers: plain, tty, json, quiet.
//
// plain: BuildKit's "--progress=plain" shape. A vertex prints its header
// when it starts ("#3 [builder 2/4] RUN make"), each output line with the
// seconds since its start ("#3 0.512 gcc -c a.c"), and a closing line
// ("#3 DONE 1.2s", "#3 CACHED", "#3 ERROR: ..."). Output chunks are cut
// into lines per vertex, so concurrent vertices interleave by whole lines.
//
// tty: a live area at the bottom, redrawn with ANSI cursor movement (at
// most every 100 ms for output): a header with the elapsed time and
// finished/total counts, then each running vertex with its time and its
// last few output lines. A vertex that finishes leaves the live area and
// is printed once above it, collapsed to one line ("=> [x 1/2] RUN y  1.2s").
//
// json: one object per event and line: {"time":seconds since the first
// event,"vertex":N,"kind":"log","name":...,"text":...,"stream":1}.
#include <deque>
#include <map>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mason/progress/progress.h"

namespace mason::progress {
namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Cuts chunks into lines per vertex; a partial line waits for its end.
class LineSplitter {
public:
  template <class F>
  void feed(int vertex, std::string_view chunk, F&& on_line) {
    std::string& buf = m_partial[vertex];
    buf.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1)
      on_line(std::string_view(buf).substr(start, nl - start));
    buf.erase(0, start);
  }
  template <class F>
  void flush(int vertex, F&& on_line) {
    auto it = m_partial.find(vertex);
    if (it == m_partial.end()) return;
    if (!it->second.empty()) on_line(std::string_view(it->second));
    m_partial.erase(it);
  }

private:
  std::map<int, std::string> m_partial;
};

class PlainRenderer final : public Sink {
public:
  explicit PlainRenderer(std::FILE* out) : m_out(out) {}

  void handle(const Event& e) override {
    std::lock_guard lock(m_mutex);
    switch (e.kind) {
    case EventKind::started:
      m_start[e.vertex] = e.time;
      fmt::print(m_out, "\n#{} {}\n", e.vertex, e.name);
      break;
    case EventKind::log:
      m_lines.feed(e.vertex, e.text, [&](std::string_view l) { print_line(e, l); });
      break;
    case EventKind::status: fmt::print(m_out, "#{} {}\n", e.vertex, e.text); break;
    case EventKind::cached:
      flush(e);
      fmt::print(m_out, "#{} CACHED\n", e.vertex);
      break;
    case EventKind::done:
      flush(e);
      fmt::print(m_out, "#{} DONE {}\n", e.vertex, format_duration(e.time - start_of(e)));
      break;
    case EventKind::failed:
      flush(e);
      fmt::print(m_out, "#{} ERROR: {}\n", e.vertex, e.text);
      break;
    case EventKind::message: fmt::print(m_out, "{}\n", e.text); break;
    }
    (void)std::fflush(m_out);
  }

private:
  Clock::time_point start_of(const Event& e) const {
    auto it = m_start.find(e.vertex);
    return it == m_start.end() ? e.time : it->second;
  }
  void print_line(const Event& e, std::string_view line) {
    fmt::print(m_out, "#{} {:.3f} {}\n", e.vertex, seconds(e.time - start_of(e)), line);
  }
  void flush(const Event& e) {
    m_lines.flush(e.vertex, [&](std::string_view l) { print_line(e, l); });
  }

  std::FILE* m_out;
  std::mutex m_mutex;
  std::map<int, Clock::time_point> m_start;
  LineSplitter m_lines;
};

class JsonRenderer final : public Sink {
public:
  explicit JsonRenderer(std::FILE* out) : m_out(out) {}
  void handle(const Event& e) override {
    static constexpr const char* k_kinds[] = {"started", "log",    "status", "cached",
                                              "done",    "failed", "message"};
    std::lock_guard lock(m_mutex);
    if (!m_first) m_first = e.time;
    nlohmann::ordered_json j;
    j["time"] = seconds(e.time - *m_first);
    j["vertex"] = e.vertex;
    j["kind"] = k_kinds[static_cast<int>(e.kind)];
    if (!e.name.empty()) j["name"] = e.name;
    if (!e.text.empty()) j["text"] = e.text;
    if (e.kind == EventKind::log) j["stream"] = e.stream;
    fmt::print(m_out, "{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    (void)std::fflush(m_out);
  }

private:
  std::FILE* m_out;
  std::mutex m_mutex;
  std::optional<Clock::time_point> m_first;
};

class QuietRenderer final : public Sink {
public:
  void handle(const Event&) override {}
};

class TtyRenderer final : public Sink {
public:
  explicit TtyRenderer(std::FILE* out) : m_out(out), m_begin(Clock::now()) {}

  void handle(const Event& e) override {
    std::lock_guard lock(m_mutex);
    apply(e);
    const bool throttled = e.kind == EventKind::log && e.time - m_last_draw < k_interval;
    if (!throttled) redraw(e.time);
  }

  void finish() override {
    std::lock_guard lock(m_mutex);
    redraw(Clock::now());
    erase();
    fmt::print(m_out, "[+] Building {} ({}/{}) FINISHED\n", format_duration(Clock::now() - m_begin),
               m_finished, m_vertices.size());
    (void)std::fflush(m_out);
  }

private:
  enum class State { running, done, cached, failed };
  struct Vertex {
    std::string name;
    Clock::time_point start, end;
    State state = State::running;
    std::deque<std::string> tail;
    bool printed = false;
  };
  static constexpr auto k_interval = std::chrono::milliseconds(100);
  static constexpr std::size_t k_tail = 4;

  void apply(const Event& e) {
    if (e.kind == EventKind::message) {
      m_messages.push_back(e.text);
      return;
    }
    Vertex& v = m_vertices[e.vertex];
    switch (e.kind) {
    case EventKind::started:
      v.name = e.name;
      v.start = e.time;
      break;
    case EventKind::log:
      m_lines.feed(e.vertex, e.text, [&](std::string_view l) { push_tail(v, l); });
      break;
    case EventKind::status: push_tail(v, e.text); break;
    default:
      m_lines.flush(e.vertex, [&](std::string_view l) { push_tail(v, l); });
      v.end = e.time;
      v.state = e.kind == EventKind::cached ? State::cached
                : e.kind == EventKind::done ? State::done
                                            : State::failed;
      ++m_finished;
      if (e.kind == EventKind::failed) push_tail(v, "ERROR: " + e.text);
    }
  }

  static void push_tail(Vertex& v, std::string_view line) {
    v.tail.emplace_back(line);
    while (v.tail.size() > k_tail) v.tail.pop_front();
  }

  std::size_t width() const {
    winsize ws{};
    if (ioctl(fileno(m_out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 100;
  }

  std::string fit(std::string text, std::size_t w) const {
    for (auto& c : text)
      if (c == '\t' || c == '\r') c = ' ';
    if (text.size() > w) text.resize(w);
    return text;
  }

  void erase() {
    if (m_live_lines > 0) fmt::print(m_out, "\x1b[{}A\x1b[J", m_live_lines);
    m_live_lines = 0;
  }

  void line(std::string text) {
    fmt::print(m_out, "{}\n", fit(std::move(text), width() - 1));
    ++m_live_lines;
  }

  void redraw(Clock::time_point now) {
    erase();
    for (auto& msg : m_messages) fmt::print(m_out, "{}\n", msg);
    m_messages.clear();
    for (auto& [n, v] : m_vertices) {
      if (v.state == State::running || v.printed) continue;
      v.printed = true;
      print_finished(v);
    }
    line(fmt::format("[+] Building {} ({}/{})", format_duration(now - m_begin), m_finished,
                     m_vertices.size()));
    for (auto& [n, v] : m_vertices) {
      if (v.state != State::running) continue;
      line(fmt::format(" => {:<60} {}", v.name, format_duration(now - v.start)));
      for (const auto& t : v.tail) line(" => > " + t);
    }
    m_last_draw = now;
    (void)std::fflush(m_out);
  }

  void print_finished(const Vertex& v) {
    const auto w = width() - 1;
    switch (v.state) {
    case State::cached:
      fmt::print(m_out, "{}\n", fit(fmt::format(" => CACHED {}", v.name), w));
      break;
    case State::failed:
      fmt::print(m_out, "{}\n", fit(fmt::format(" => ERROR {}", v.name), w));
      for (const auto& t : v.tail) fmt::print(m_out, "{}\n", fit(" => > " + t, w));
      break;
    default:
      fmt::print(m_out, "{}\n",
                 fit(fmt::format(" => {:<60} {}", v.name, format_duration(v.end - v.start)), w));
    }
  }

  std::FILE* m_out;
  std::mutex m_mutex;
  Clock::time_point m_begin;
  Clock::time_point m_last_draw{};
  std::map<int, Vertex> m_vertices;
  std::vector<std::string> m_messages;
  LineSplitter m_lines;
  std::size_t m_finished = 0;
  int m_live_lines = 0;
};

} // namespace

std::unique_ptr<Sink> make_renderer(Mode mode, std::FILE* out) {
  if (mode == Mode::automatic) mode = isatty(fileno(out)) ? Mode::tty : Mode::plain;
  switch (mode) {
  case Mode::tty: return std::make_unique<TtyRenderer>(out);
  case Mode::json: return std::make_unique<JsonRenderer>(out);
  case Mode::quiet: return std::make_unique<QuietRenderer>();
  default: return std::make_unique<PlainRenderer>(out);
  }
}

} // namespace mason::progress
