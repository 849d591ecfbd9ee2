// The engine end to end without root, runc or overlayfs: RUN goes to a fake
// executor (the executor::Executor seam) that records each run spec and
// interprets a tiny command language in the root it is given; snapshots
// are copies in a temp directory. What is tested is the engine's own
// logic: cache hits and misses with their explanations, records, the
// effect of --no-cache-filter on dependent stages, layer reuse (the same
// image for an unchanged rebuild, no blob written), what is recorded and
// what is not (a step whose context changed while it ran: its snapshot is
// removed at the end), stages in parallel and the cancellation of the
// others when one fails, and the size table.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "mason/cache/record_info.h"
#include "mason/content/layout.h"
#include "mason/content/store.h"
#include "mason/engine/build.h"
#include "mason/progress/progress.h"
#include "mason/snapshot/snapshotter.h"
#include "mason/sys/temp_dir.h"

namespace mason::engine {
namespace {

namespace fs = std::filesystem;

// RUN's shell string, word by word:
//   write PATH TEXT   creates PATH (and its parents) in the root with TEXT
//   print TEXT        writes TEXT to stdout
//   fail N            prints "failing", exits with N
//   wait FILE         polls until FILE exists on the host, 2 s at most
//                     (then succeeds anyway)
//   touch FILE        creates FILE on the host (outside the root)
//   append FILE TEXT  appends TEXT to FILE on the host
class FakeExecutor final : public executor::Executor {
public:
  util::Result<executor::RunResult> run(const executor::RunSpec& spec,
                                        const executor::OutputSink& out) override {
    {
      std::lock_guard lock(m_mutex);
      m_runs.push_back(spec);
    }
    std::istringstream words(spec.process.args.empty() ? "" : spec.process.args.back());
    std::string verb, a, b;
    words >> verb >> a;
    std::getline(words >> std::ws, b);
    if (verb == "write") {
      const fs::path p = fs::path(spec.rootfs) / a.substr(a.find_first_not_of('/'));
      fs::create_directories(p.parent_path());
      std::ofstream(p) << b;
    } else if (verb == "print") {
      out(executor::OutputStream::out, a + "\n");
    } else if (verb == "fail") {
      out(executor::OutputStream::err, "failing\n");
      return executor::RunResult{std::stoi(a)};
    } else if (verb == "wait") {
      for (int i = 0; i < 200 && !fs::exists(a); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } else if (verb == "touch") {
      std::ofstream(a) << "";
    } else if (verb == "append") {
      std::ofstream(a, std::ios::app) << b;
    }
    return executor::RunResult{0};
  }

  std::vector<std::string> commands() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& r : m_runs) out.push_back(r.process.args.back());
    return out;
  }
  std::vector<executor::RunSpec> runs() const {
    std::lock_guard lock(m_mutex);
    return m_runs;
  }
  void clear() {
    std::lock_guard lock(m_mutex);
    m_runs.clear();
  }

private:
  mutable std::mutex m_mutex;
  std::vector<executor::RunSpec> m_runs;
};

class EngineFake : public ::testing::Test {
protected:
  void SetUp() override {
    auto dir = sys::TempDir::create("mason-engine-test-");
    ASSERT_TRUE(dir);
    m_dir.emplace(std::move(*dir));
    fs::create_directories(context());
    auto store = content::Store::open(m_dir->path() + "/store");
    ASSERT_TRUE(store) << store.error().to_string();
    m_store = std::move(*store);
  }

  std::string context() const { return m_dir->path() + "/ctx"; }
  void file(const std::string& name, const std::string& text) {
    fs::create_directories(fs::path(context() + "/" + name).parent_path());
    std::ofstream(context() + "/" + name) << text;
  }

  struct Outcome {
    util::Result<BuildResult> result;
    std::vector<progress::Event> events;
    // The lines a plain renderer would show for vertices whose name has `step`.
    std::vector<std::string> lines_of(const std::string& step) const {
      std::vector<int> ids;
      for (const auto& e : events)
        if (e.kind == progress::EventKind::started && e.name.find(step) != std::string::npos)
          ids.push_back(e.vertex);
      std::vector<std::string> out;
      for (const auto& e : events) {
        if (std::find(ids.begin(), ids.end(), e.vertex) == ids.end()) continue;
        if (e.kind == progress::EventKind::cached) out.push_back("CACHED");
        if (e.kind == progress::EventKind::status) out.push_back(e.text);
        if (e.kind == progress::EventKind::failed) out.push_back("ERROR " + e.text);
      }
      return out;
    }
    bool cached(const std::string& step) const {
      const auto l = lines_of(step);
      return std::find(l.begin(), l.end(), "CACHED") != l.end();
    }
  };

  Outcome build(const std::string& dockerfile, BuildOptions o = {}) {
    file("Dockerfile", dockerfile);
    o.context_dir = context();
    o.snapshotter = snapshot::KindChoice::copy;
    o.executor = &m_exec;
    o.tags = {"engine-test:latest"};
    progress::RecordingSink sink;
    progress::Progress progress(sink);
    auto r = run_build(*m_store, o, progress);
    return Outcome{std::move(r), sink.events()};
  }

  FakeExecutor m_exec;
  std::optional<sys::TempDir> m_dir;
  std::unique_ptr<content::Store> m_store;
};

constexpr const char* k_simple = R"(FROM scratch
COPY a.txt /a.txt
RUN write /out/made from-run
RUN print hello
)";

TEST_F(EngineFake, UnchangedRebuildIsCachedWithTheSameImage) {
  file("a.txt", "one");
  auto first = build(k_simple);
  ASSERT_TRUE(first.result) << first.result.error().to_string();
  EXPECT_EQ(m_exec.commands(),
            (std::vector<std::string>{"write /out/made from-run", "print hello"}));
  EXPECT_FALSE(first.cached("COPY a.txt"));
  // The run spec: the shell form through /bin/sh -c, cwd "/", the root.
  const auto spec = m_exec.runs().front();
  EXPECT_EQ(spec.process.args,
            (std::vector<std::string>{"/bin/sh", "-c", "write /out/made from-run"}));
  EXPECT_EQ(spec.process.cwd, "/");

  m_exec.clear();
  auto second = build(k_simple);
  ASSERT_TRUE(second.result) << second.result.error().to_string();
  EXPECT_TRUE(m_exec.commands().empty()) << "an unchanged rebuild ran a step";
  EXPECT_TRUE(second.cached("COPY a.txt"));
  EXPECT_TRUE(second.cached("RUN write"));
  EXPECT_EQ(second.result->image_id, first.result->image_id) << "layers were not reused";
}

TEST_F(EngineFake, AChangedInputReRunsWhatFollowsAndSaysWhy) {
  file("a.txt", "one");
  ASSERT_TRUE(build(k_simple).result);
  m_exec.clear();
  file("a.txt", "two, longer");
  auto again = build(k_simple);
  ASSERT_TRUE(again.result) << again.result.error().to_string();
  EXPECT_EQ(m_exec.commands().size(), 2u) << "steps after the changed COPY must run";
  const auto copy = again.lines_of("COPY a.txt");
  ASSERT_FALSE(copy.empty());
  const bool names_file = std::any_of(copy.begin(), copy.end(), [](const std::string& l) {
    return l.find("cache miss") != std::string::npos && l.find("a.txt") != std::string::npos;
  });
  EXPECT_TRUE(names_file) << "the miss does not name the changed file: " << copy.front();
  // A changed RUN line misses with its own reason and keeps the COPY cached.
  m_exec.clear();
  auto edited = build(R"(FROM scratch
COPY a.txt /a.txt
RUN write /out/made from-run-2
RUN print hello
)");
  ASSERT_TRUE(edited.result);
  EXPECT_TRUE(edited.cached("COPY a.txt"));
  EXPECT_EQ(m_exec.commands().front(), "write /out/made from-run-2");
}

constexpr const char* k_stages = R"(FROM scratch AS base
RUN write /base-file b
FROM base AS mid
RUN write /mid-file m
FROM scratch AS other
RUN write /other-file o
FROM scratch
COPY --from=mid /mid-file /mid-file
COPY --from=other /other-file /other-file
)";

TEST_F(EngineFake, NoCacheFilterReRunsTheStageAndWhatIsBuiltOnIt) {
  ASSERT_TRUE(build(k_stages).result);
  m_exec.clear();
  BuildOptions o;
  o.no_cache_filter = {"base"};
  auto r = build(k_stages, o);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  auto ran = m_exec.commands();
  std::sort(ran.begin(), ran.end());
  // base re-runs; mid is built on it and re-runs; other is untouched.
  EXPECT_EQ(ran, (std::vector<std::string>{"write /base-file b", "write /mid-file m"}));
}

TEST_F(EngineFake, StagesRunTogetherAndTheSizeTableNamesThem) {
  // Each stage waits for the other's file: only parallel stages finish.
  const std::string a = m_dir->path() + "/a-started", b = m_dir->path() + "/b-started";
  const std::string df = "FROM scratch AS one\nRUN touch " + a + "\nRUN wait " + b +
                         "\nFROM scratch AS two\nRUN touch " + b + "\nRUN wait " + a +
                         "\nFROM scratch\nCOPY --from=one / /one/\nCOPY --from=two / /two/\n";
  auto r = build(df);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  const auto& stages = r.result->stages;
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].name, "one");
  EXPECT_FALSE(stages[0].target);
  EXPECT_TRUE(stages[2].target);
  const auto table = size_table(*r.result);
  EXPECT_NE(table.find("construction site (left behind)"), std::string::npos) << table;
  EXPECT_NE(table.find("the house (exported)"), std::string::npos) << table;
}

TEST_F(EngineFake, AFailingStepFailsTheBuildAtItsLineAndCancelsTheRest) {
  const std::string never = m_dir->path() + "/never";
  const std::string df = "FROM scratch AS slow\nRUN wait " + never +
                         "\nRUN write /after x\nFROM scratch AS bad\nRUN fail 3\n"
                         "FROM scratch\nCOPY --from=slow /after /a\nCOPY --from=bad / /b/\n";
  auto r = build(df);
  ASSERT_FALSE(r.result);
  const auto text = r.result.error().to_string();
  EXPECT_NE(text.find("Dockerfile:5"), std::string::npos) << text;
  EXPECT_NE(text.find("exit code: 3"), std::string::npos) << text;
  EXPECT_NE(text.find("failing"), std::string::npos) << "no output tail: " << text;
  for (const auto& c : m_exec.commands()) EXPECT_NE(c, "write /after x") << "ran after the failure";
  // A failed step leaves no record: the next build runs it again.
  m_exec.clear();
  (void)build(df);
  const auto again = m_exec.commands();
  EXPECT_NE(std::find(again.begin(), again.end(), "fail 3"), again.end());
}

TEST_F(EngineFake, RecordsKeepTheirLayersSoARebuildWritesNoBlob) {
  file("a.txt", "one");
  auto first = build(k_simple);
  ASSERT_TRUE(first.result) << first.result.error().to_string();
  // A first build misses for want of a record, and says so.
  const auto lines = first.lines_of("RUN write");
  EXPECT_NE(std::find(lines.begin(), lines.end(), "cache miss: no cache record"), lines.end());
  // One record per snapshot step, each with what the step adds, and the
  // layer made at export kept beside it.
  auto records = m_store->list_cache_records();
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 3u);
  for (const auto& r : *records) {
    auto info = cache::RecordInfo::decode(r.info);
    ASSERT_TRUE(info) << r.info;
    EXPECT_TRUE(info->adds_layer);
    EXPECT_FALSE(info->step().empty());
    auto layer = m_store->cache_layer(r.key, "gzip");
    ASSERT_TRUE(layer);
    EXPECT_TRUE(*layer) << "no layer kept for " << info->created_by;
  }
  const auto blobs = [&] {
    auto du = m_store->disk_usage();
    EXPECT_TRUE(du);
    const content::Usage parts[] = {du->manifests, du->configs, du->layers,
                                    du->other,     du->cache,   du->unreferenced};
    std::int64_t count = 0;
    for (const auto& u : parts) count += u.count;
    return count;
  };
  const auto before = blobs();
  // Nor anything else: the image is stored and tagged so already (no
  // database write, whose commit would be synced to disk).
  const std::string wal = m_dir->path() + "/store/metadata.db-wal";
  const auto written = [&] {
    struct stat st {};
    return ::stat(wal.c_str(), &st) == 0 ? std::pair{st.st_mtim.tv_sec, st.st_mtim.tv_nsec}
                                         : std::pair<long, long>{-1, -1};
  };
  const auto wal_before = written();
  auto second = build(k_simple);
  ASSERT_TRUE(second.result);
  EXPECT_EQ(blobs(), before) << "an unchanged rebuild wrote blobs";
  EXPECT_EQ(written(), wal_before) << "an unchanged rebuild wrote to the store's database";
}

TEST_F(EngineFake, StepsWhoseContextChangedMeanwhileAreNotRecordedNorKept) {
  if (::geteuid() != 0) GTEST_SKIP() << "bind mount targets are made owned by root";
  file("a.txt", "one");
  // Each step reads a.txt (a bind mount: part of its key) and changes it on
  // the host while it runs: neither result may be recorded, and both
  // snapshots, the second built on the first, go at the end of the build
  // (the deepest first: a parent cannot go before its child).
  const std::string step =
      "RUN --mount=type=bind,source=a.txt,target=/a.txt append " + context() + "/a.txt more\n";
  auto r = build("FROM scratch\n" + step + step);
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  const auto lines = r.lines_of("RUN --mount");
  EXPECT_EQ(std::count(lines.begin(), lines.end(),
                       "the build context changed while the step ran: its result is not cached"),
            2);
  auto records = m_store->list_cache_records();
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
  auto snapshots = snapshot::open_snapshotter(
      content::StoreLayout(m_dir->path() + "/store").snapshots(true), snapshot::KindChoice::copy);
  ASSERT_TRUE(snapshots) << snapshots.error().to_string();
  auto listed = (*snapshots)->list();
  ASSERT_TRUE(listed);
  for (const auto& s : *listed) EXPECT_TRUE(s.unpacked) << "left behind: " << s.id;
}

TEST_F(EngineFake, RelativeMountTargetsAndWorkdirReachTheRunSpec) {
  if (::geteuid() != 0) GTEST_SKIP() << "WORKDIR makes its directory owned by root";
  file("package.json", "{}");
  auto r = build(R"(FROM scratch
WORKDIR /app
RUN --mount=type=bind,source=package.json,target=package.json --mount=type=cache,target=node_modules/.cache print ok
)");
  ASSERT_TRUE(r.result) << r.result.error().to_string();
  const auto spec = m_exec.runs().front();
  EXPECT_EQ(spec.process.cwd, "/app");
  std::vector<std::string> targets;
  for (const auto& m : spec.mounts) targets.push_back(m.destination);
  EXPECT_NE(std::find(targets.begin(), targets.end(), "/app/package.json"), targets.end());
  EXPECT_NE(std::find(targets.begin(), targets.end(), "/app/node_modules/.cache"), targets.end());
}

} // namespace
} // namespace mason::engine
