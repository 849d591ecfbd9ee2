#include "mason/progress/progress.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

using namespace mason;

namespace {

std::string render(progress::Mode mode, const std::function<void(progress::Progress&)>& f) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* mem = open_memstream(&buf, &len);
  {
    auto sink = progress::make_renderer(mode, mem);
    progress::Progress p(*sink);
    f(p);
    sink->finish();
  }
  std::fclose(mem);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

} // namespace

TEST(Progress, ParseMode) {
  EXPECT_EQ(*progress::parse_mode("plain"), progress::Mode::plain);
  EXPECT_EQ(*progress::parse_mode("rawjson"), progress::Mode::json);
  EXPECT_FALSE(progress::parse_mode("fancy"));
}

TEST(Progress, PlainNumbersVerticesAndSplitsLines) {
  auto out = render(progress::Mode::plain, [](progress::Progress& p) {
    auto a = p.vertex();
    auto b = p.vertex();
    a.started("[a 1/1] RUN x");
    b.started("[b 1/1] RUN y");
    a.log(1, "one\ntw");
    b.log(1, "other\n");
    a.log(1, "o\n");
    a.done();
    b.failed("exit code: 3");
  });
  EXPECT_NE(out.find("#1 [a 1/1] RUN x\n"), std::string::npos) << out;
  EXPECT_NE(out.find("#2 [b 1/1] RUN y\n"), std::string::npos);
  EXPECT_NE(out.find(" one\n"), std::string::npos);
  EXPECT_NE(out.find(" two\n"), std::string::npos) << out;
  EXPECT_NE(out.find("#1 DONE "), std::string::npos);
  EXPECT_NE(out.find("#2 ERROR: exit code: 3"), std::string::npos);
}

TEST(Progress, JsonIsOneObjectPerLine) {
  auto out = render(progress::Mode::json, [](progress::Progress& p) {
    auto a = p.vertex();
    a.started("s");
    a.cached();
  });
  EXPECT_NE(out.find("\"kind\":\"started\""), std::string::npos);
  EXPECT_NE(out.find("\"kind\":\"cached\""), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(Progress, TtyCollapsesFinishedSteps) {
  auto out = render(progress::Mode::tty, [](progress::Progress& p) {
    auto a = p.vertex();
    a.started("[a 1/1] RUN x");
    a.log(1, "noise\n");
    a.done();
  });
  EXPECT_NE(out.find(" => [a 1/1] RUN x"), std::string::npos);
  EXPECT_NE(out.find("FINISHED"), std::string::npos);
}

TEST(Progress, QuietPrintsNothing) {
  auto out = render(progress::Mode::quiet, [](progress::Progress& p) {
    auto a = p.vertex();
    a.started("x");
    a.done();
  });
  EXPECT_EQ(out, "");
}

TEST(Progress, RecordingSinkKeepsOrder) {
  progress::RecordingSink rec;
  progress::Progress p(rec);
  auto a = p.vertex();
  a.started("x");
  a.done();
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, progress::EventKind::started);
  EXPECT_EQ(ev[1].vertex, 1);
}
