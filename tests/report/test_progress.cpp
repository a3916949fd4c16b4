// SPDX-License-Identifier: Apache-2.0
// Progress reporting with an injected clock and output stream: the in-place bar on a terminal,
// periodic plain lines otherwise (by time and by fraction), quiet mode, rate and ETA after a
// resume, concurrent updates.
#include <groundeval/eval/progress.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;

namespace {
std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("format_duration", "[progress]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(42.4) == "42s");
  CHECK(format_duration(306) == "5m06s");
  CHECK(format_duration(7380) == "2h03m");
  CHECK(format_duration(-1) == "?");
}

TEST_CASE("plain lines by time and by fraction when not a terminal", "[progress]") {
  double t = 0;
  std::ostringstream os;
  progress_reporter p(os, false, 100, {}, [&] { return t; });
  CHECK(p.mode() == progress_mode::lines);
  t = 1;
  p.advance(1);
  CHECK(os.str().empty());  // 1 % after 1 s: nothing yet
  t = 2;
  p.advance(4);  // 5 %
  CHECK(os.str() == "queries: 5/100 (5.0%), 2.5/s, ETA 38s, 0 failures\n");
  t = 3;
  p.advance(1, 1);  // 6 %: neither 10 s nor the next 5 % step
  CHECK(count(os.str(), "\n") == 1);
  t = 13;
  p.advance(1);  // 10 s since the last line
  CHECK(count(os.str(), "\n") == 2);
  CHECK(os.str().find("queries: 7/100 (7.0%), 0.5/s, ETA 2m53s, 1 failure\n") != std::string::npos);
  t = 14;
  p.advance(43);  // jumps past several steps: one line
  CHECK(count(os.str(), "\n") == 3);
  t = 100;
  p.advance(50, 1);
  p.finish();
  p.finish();
  const std::string s = os.str();
  CHECK(s.find("\r") == std::string::npos);
  CHECK(s.find("\x1b") == std::string::npos);
  CHECK(s.substr(s.rfind("queries: done")) ==
        "queries: done 100/100 (100.0%) in 1m40s, 1.0/s, 2 failures\n");
}

TEST_CASE("a bar redrawn in place on a terminal, throttled", "[progress]") {
  double t = 0;
  std::ostringstream os;
  progress_options opt;
  opt.bar_width = 10;
  opt.label = "phrases";
  progress_reporter p(os, true, 200, opt, [&] { return t; });
  CHECK(p.mode() == progress_mode::bar);
  t = 1;
  p.advance(50, 2);
  CHECK(os.str() == "\r[##........] 50/200 (25.0%) phrases, 50.0/s, ETA 3s, 2 failures\x1b[K");
  t = 1.05;
  p.advance(1);  // within the redraw interval: not drawn
  CHECK(count(os.str(), "\r") == 1);
  t = 1.2;
  p.advance(1);
  CHECK(count(os.str(), "\r") == 2);
  CHECK(os.str().find('\n') == std::string::npos);
  t = 2;
  p.advance(148);  // the last unit is always drawn
  CHECK(count(os.str(), "\r") == 3);
  p.finish();
  CHECK(os.str().size() > 0);
  CHECK(os.str().back() == '\n');
  CHECK(
      os.str().find("[##########] 200/200 (100.0%) phrases, 100.0/s, ETA 0s, 2 failures\x1b[K\n") !=
      std::string::npos);
}

TEST_CASE("quiet mode writes nothing; forced modes ignore the terminal", "[progress]") {
  double t = 0;
  std::ostringstream os;
  progress_options q;
  q.mode = progress_mode::quiet;
  progress_reporter p(os, true, 10, q, [&] { return t; });
  t = 100;
  p.advance(10, 3);
  p.finish();
  CHECK(os.str().empty());
  CHECK(p.done() == 10);
  CHECK(p.failed() == 3);
  progress_options l;
  l.mode = progress_mode::lines;
  CHECK(progress_reporter(os, true, 10, l, [&] { return t; }).mode() == progress_mode::lines);
  progress_options b;
  b.mode = progress_mode::bar;
  CHECK(progress_reporter(os, false, 10, b, [&] { return t; }).mode() == progress_mode::bar);
}

TEST_CASE("after a resume the rate counts only new work", "[progress]") {
  double t = 0;
  std::ostringstream os;
  progress_reporter p(
      os, false, 100, {}, [&] { return t; }, 50);
  CHECK(p.status() == "[##############..............] 50/100 (50.0%) queries, ETA ?, 0 failures");
  t = 10;
  p.advance(10);
  CHECK(os.str() == "queries: 60/100 (60.0%), 1.0/s, ETA 40s, 0 failures\n");
}

TEST_CASE("an unknown total shows counts and rate only", "[progress]") {
  double t = 0;
  std::ostringstream os;
  progress_reporter p(os, false, 0, {}, [&] { return t; });
  t = 5;
  p.advance(7);
  CHECK(os.str().empty());  // no fraction steps without a total
  t = 20;
  p.advance(3);
  CHECK(os.str() == "queries: 10, 0.5/s, 0 failures\n");
}

TEST_CASE("concurrent updates are all counted", "[progress]") {
  std::ostringstream os;
  progress_reporter p(os, false, 4000);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) p.advance(1, k % 10 == 0 ? 1 : 0);
    });
  for (auto& th : ts) th.join();
  p.finish();
  CHECK(p.done() == 4000);
  CHECK(p.failed() == 400);
  CHECK(os.str().find("done 4000/4000") != std::string::npos);
}
