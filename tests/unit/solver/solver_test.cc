#include "mason/solver/solver.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

using namespace mason;
using solver::CancelToken;
using solver::Job;

namespace {

Job job(std::string name, std::vector<std::size_t> deps, std::function<util::Status()> f) {
  return Job{std::move(name), std::move(deps),
             [f = std::move(f)](const CancelToken&) { return f(); }};
}

} // namespace

TEST(Solver, RunsDependenciesFirst) {
  std::mutex m;
  std::vector<std::string> order;
  auto rec = [&](std::string s) {
    return [&, s] {
      std::lock_guard l(m);
      order.push_back(s);
      return util::Status{};
    };
  };
  std::vector<Job> jobs{job("c", {1, 2}, rec("c")), job("a", {}, rec("a")),
                        job("b", {1}, rec("b"))};
  CancelToken cancel;
  ASSERT_TRUE(solve(jobs, {.jobs = 4}, cancel));
  ASSERT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Solver, IndependentJobsOverlap) {
  std::atomic<int> inside{0}, peak{0};
  auto f = [&] {
    int now = ++inside;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    // Wait until the other job is inside too (bounded), so overlap is
    // observed rather than timed.
    for (int i = 0; i < 2000 && peak.load() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --inside;
    return util::Status{};
  };
  std::vector<Job> jobs{job("x", {}, f), job("y", {}, f)};
  CancelToken cancel;
  ASSERT_TRUE(solve(jobs, {.jobs = 2}, cancel));
  EXPECT_EQ(peak.load(), 2);
}

TEST(Solver, OneWorkerNeverOverlaps) {
  std::atomic<int> inside{0}, peak{0};
  auto f = [&] {
    peak = std::max(peak.load(), ++inside);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --inside;
    return util::Status{};
  };
  std::vector<Job> jobs{job("x", {}, f), job("y", {}, f), job("z", {}, f)};
  CancelToken cancel;
  ASSERT_TRUE(solve(jobs, {.jobs = 1}, cancel));
  EXPECT_EQ(peak.load(), 1);
}

TEST(Solver, FailureStopsDependentsAndReturnsFirstError) {
  std::atomic<bool> ran_dependent{false};
  std::vector<Job> jobs{
      job("bad", {},
          [] { return util::Status(util::make_error(util::ErrorCode::exec_failed, "boom")); }),
      job("after", {0}, [&] {
        ran_dependent = true;
        return util::Status{};
      })};
  CancelToken cancel;
  auto r = solve(jobs, {.jobs = 2}, cancel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "boom");
  EXPECT_FALSE(ran_dependent);
  EXPECT_TRUE(cancel.cancelled());
}

TEST(Solver, RunningJobsSeeCancellation) {
  std::atomic<bool> saw{false};
  std::atomic<bool> started{false};
  std::vector<Job> jobs{Job{"long",
                            {},
                            [&](const CancelToken& c) {
                              started = true;
                              for (int i = 0; i < 5000 && !c.cancelled(); ++i)
                                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                              saw = c.cancelled();
                              return util::Status{};
                            }},
                        job("bad", {}, [&] {
                          while (!started) std::this_thread::yield();
                          return util::Status(util::make_error(util::ErrorCode::exec_failed, "x"));
                        })};
  CancelToken cancel;
  ASSERT_FALSE(solve(jobs, {.jobs = 2}, cancel));
  EXPECT_TRUE(saw);
}

TEST(Solver, CycleIsAnError) {
  auto ok = [] { return util::Status{}; };
  std::vector<Job> jobs{job("a", {1}, ok), job("b", {0}, ok)};
  CancelToken cancel;
  auto r = solve(jobs, {}, cancel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::invalid_argument);
  std::vector<Job> bad{job("a", {7}, ok)};
  EXPECT_FALSE(solve(bad, {}, cancel));
}
