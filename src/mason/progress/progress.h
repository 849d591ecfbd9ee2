// Progress: a stream of build events and the renderers that show it.
//
// The build emits events for vertices (one per Dockerfile step, plus a few
// internal ones such as "load build definition"); renderers turn them into
// BuildKit-like output: plain (numbered lines, "#5 DONE 0.3s"), tty (a
// live view that collapses finished steps), json (one object per line) and
// quiet (nothing). A RecordingSink keeps events for tests.
//
// Thread-safety: Sink::handle may be called from several threads at once;
// every Sink here serialises internally.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/util/error.h"

namespace mason::progress {

using Clock = std::chrono::steady_clock;

enum class EventKind {
  started, // a vertex began (name set)
  log,     // output of a vertex (text: a chunk, stream: 1 or 2)
  status,  // a one-line status of a vertex ("exporting layers", "writing image sha256:..")
  cached,  // a vertex was answered from the cache
  done,    // a vertex ended successfully
  failed,  // a vertex ended with an error (text: the message)
  message, // a line for the user that belongs to no vertex (warnings)
};

struct Event {
  EventKind kind = EventKind::message;
  int vertex = 0;   // 1-based vertex number, 0 for messages
  std::string name; // "[builder 2/4] RUN go build" (started)
  std::string text;
  int stream = 1;
  Clock::time_point time = Clock::now();
};

class Sink {
public:
  virtual ~Sink() = default;
  virtual void handle(const Event& event) = 0;
  // Called once at the end (flush a live view).
  virtual void finish() {}
};

enum class Mode { automatic, tty, plain, quiet, json };

// "auto", "tty", "plain", "quiet", "json" (docker's --progress values;
// "rawjson" is taken as json). invalid_argument otherwise.
util::Result<Mode> parse_mode(std::string_view text);

// A renderer writing to `out` (stderr for builds). Mode::automatic picks
// tty when `out` is a terminal, else plain.
std::unique_ptr<Sink> make_renderer(Mode mode, std::FILE* out);

// Keeps every event (tests).
class RecordingSink final : public Sink {
public:
  void handle(const Event& event) override;
  std::vector<Event> events() const;

private:
  mutable std::mutex m_mutex;
  std::vector<Event> m_events;
};

// Hands out vertex numbers and emits events for one vertex. Cheap to copy.
class Reporter {
public:
  Reporter() = default;
  Reporter(Sink* sink, int vertex) : m_sink(sink), m_vertex(vertex) {}
  int vertex() const { return m_vertex; }
  void started(std::string name) const;
  void log(int stream, std::string_view text) const;
  void status(std::string text) const;
  void cached() const;
  void done() const;
  void failed(std::string message) const;

private:
  void emit(EventKind kind, std::string text, std::string name = {}, int stream = 1) const;
  Sink* m_sink = nullptr;
  int m_vertex = 0;
};

// Allocates vertex numbers in order of creation (thread-safe).
class Progress {
public:
  explicit Progress(Sink& sink) : m_sink(&sink) {}
  Reporter vertex();
  void message(std::string text);
  Sink& sink() { return *m_sink; }

private:
  Sink* m_sink;
  std::mutex m_mutex;
  int m_next = 1;
};

// "1.2s" as BuildKit prints durations (one decimal).
std::string format_duration(Clock::duration d);

} // namespace mason::progress
