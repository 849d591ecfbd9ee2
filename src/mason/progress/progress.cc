// Events, reporters and the small sinks. Renderers are in renderers.cc.
#include "mason/progress/progress.h"

#include <fmt/format.h>

namespace mason::progress {

util::Result<Mode> parse_mode(std::string_view text) {
  if (text == "auto") return Mode::automatic;
  if (text == "tty") return Mode::tty;
  if (text == "plain") return Mode::plain;
  if (text == "quiet") return Mode::quiet;
  if (text == "json" || text == "rawjson") return Mode::json;
  return util::make_error(
      util::ErrorCode::invalid_argument,
      fmt::format("invalid progress mode \"{}\" (auto, tty, plain, quiet, json)", text));
}

void RecordingSink::handle(const Event& event) {
  std::lock_guard lock(m_mutex);
  m_events.push_back(event);
}

std::vector<Event> RecordingSink::events() const {
  std::lock_guard lock(m_mutex);
  return m_events;
}

void Reporter::emit(EventKind kind, std::string text, std::string name, int stream) const {
  if (!m_sink) return;
  Event e;
  e.kind = kind;
  e.vertex = m_vertex;
  e.name = std::move(name);
  e.text = std::move(text);
  e.stream = stream;
  m_sink->handle(e);
}

void Reporter::started(std::string name) const { emit(EventKind::started, {}, std::move(name)); }
void Reporter::log(int stream, std::string_view text) const {
  emit(EventKind::log, std::string(text), {}, stream);
}
void Reporter::status(std::string text) const { emit(EventKind::status, std::move(text)); }
void Reporter::cached() const { emit(EventKind::cached, {}); }
void Reporter::done() const { emit(EventKind::done, {}); }
void Reporter::failed(std::string message) const { emit(EventKind::failed, std::move(message)); }

Reporter Progress::vertex() {
  std::lock_guard lock(m_mutex);
  return Reporter(m_sink, m_next++);
}

void Progress::message(std::string text) {
  Event e;
  e.kind = EventKind::message;
  e.text = std::move(text);
  m_sink->handle(e);
}

std::string format_duration(Clock::duration d) {
  const double s = std::chrono::duration<double>(d).count();
  return fmt::format("{:.1f}s", s);
}

} // namespace mason::progress
