// SPDX-License-Identifier: Apache-2.0
// The report writers: HTML escaping of every data-set string (a <script> phrase renders as text),
// self-containment (no script, no external resource), the same numbers in HTML, Markdown and
// JSON, the SVG charts and the CDF, validation of names and overlay paths.
#include <groundeval/report/writer.hpp>

#include <catch2/catch.hpp>

#if defined(GROUNDEVAL_TEST_HAVE_JSON)
#include <nlohmann/json.hpp>
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace groundeval;
using namespace groundeval::report;

namespace {

const std::string evil = "<script>alert('x')</script> & \"quoted\" | *md* [link](http://e.x)";

/// A report with two runs and adversarial strings in every data-set-provided field. The numbers
/// are invented for the test (they are not the output of any model).
report_input sample_report() {
  report_input in;
  in.title = "Test report <b>";
  in.generated = "2026-11-27 by a unit test";
  for (int i = 0; i < 2; ++i) {
    run_summary r;
    r.name = i == 0 ? "center" : "evil<run>";
    r.grounder = i == 0 ? "center:0.5" : evil;
    r.dataset = "flickr30k:val <i>";
    r.images = 10;
    r.sentences = 50;
    r.phrases = 4;
    r.overall = {"all", 4, i == 0 ? 0.25 : 0.75, 0.5, 0.75, 1.0};
    r.by_type = {{"people", 2, 0.5, 0.5, 1.0, 1.0}, {evil, 2, i == 0 ? 0.0 : 1.0, 0.5, 0.5, 1.0}};
    r.mean_iou = 0.4321;
    r.accuracy_at = {0.9, 0.7, 0.5, 0.25, 0.0};
    r.accuracy_50_95 = 0.1875;
    r.by_size = {{"small", 1, 0.0, 0.1}, {"large <x>", 3, 1.0 / 3.0, 0.6}};
    r.format_failures = static_cast<std::uint64_t>(i);
    r.empty_answers = 2;
    r.errors = 0;
    if (i == 1) r.latency = latency_row{4, 0.25, 0.2, 0.5, 4.0};
    r.top1_ious = {0.0, 0.3, 0.55, i == 0 ? 0.2 : 0.95};
    in.runs.push_back(r);
  }
  paired_summary p;
  p.run_a = "center";
  p.run_b = "evil<run>";
  p.phrases = 4;
  p.images = 2;
  p.both_right = 1;
  p.b_only = 2;
  p.neither = 1;
  p.mcnemar_p = 0.5;
  p.bootstrap_samples = 1000;
  p.recall = {{1, {0.25, 0.0, 0.5}, {0.75, 0.5, 1.0}, {0.5, 0.25, 0.75}}};
  p.types = {{evil, 2, 0.0, 1.0, 1.0}};
  p.cases = {{"b_wins", 2}, {"both_fail", 1}};
  in.pairs.push_back(p);
  gallery_case c;
  c.category = "b_wins";
  c.run_a = "center";
  c.run_b = "evil<run>";
  c.image_id = "img <1>";
  c.sentence_index = 3;
  c.phrase_index = 1;
  c.sentence = "A man says " + evil;
  c.phrase = evil;
  c.ious = {{"center", 0.1}, {"evil<run>", 0.8}};
  c.png = case_png_path(c);
  in.cases.push_back(c);
  return in;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("escaping functions", "[report]") {
  CHECK(html_escape("<script>a&b\"c'd</script>") ==
        "&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script&gt;");
  CHECK(html_escape("caf\xc3\xa9\x01") == "caf\xc3\xa9\xef\xbf\xbd");
  CHECK(markdown_escape("a|b *c* <d> [e](f)\nx") == "a\\|b \\*c\\* &lt;d&gt; \\[e\\](f) x");
  std::string j;
  json_quote(j, "a\"b\\c\n\x01<&>\xc3\xa9");
  CHECK(j == "\"a\\\"b\\\\c\\n\\u0001\\u003c\\u0026\\u003e\xc3\xa9\"");
  j.clear();
  json_number(j, 0.1);
  j += ' ';
  json_number(j, std::nan(""));
  j += ' ';
  json_number(j, std::uint64_t{42});
  CHECK(j == "0.1 null 42");
  CHECK(format_percent(0.6125) == "61.3");  // 61.25 rounds to even on binary: 61.2 or 61.3
  CHECK(format_percent(std::nan("")) == "\xE2\x80\x94");
  CHECK(format_points(-0.005) == "-0.5");
  CHECK(format_p_value(0.04567) == "0.0457");
  CHECK(format_p_value(1e-7) == "< 0.0001");
}

TEST_CASE("the HTML page escapes every data-set string and is self-contained", "[report]") {
  const std::string h = render_html(sample_report());
  const std::string l = lower(h);
  // No markup from the data survives: the only tags are ours, and there is no script at all.
  CHECK(l.find("<script") == std::string::npos);
  CHECK(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(h.find("evil&lt;run&gt;") != std::string::npos);
  CHECK(h.find("<run>") == std::string::npos);
  CHECK(h.find("<b>") == std::string::npos);
  CHECK(h.find("<i>") == std::string::npos);
  CHECK(h.find("img &lt;1&gt;") != std::string::npos);
  // Self-contained: no external stylesheet, script, font or image; the only URL is the SVG
  // namespace name (an identifier, never fetched) and the escaped text of the phrase.
  CHECK(l.find("<link") == std::string::npos);
  CHECK(l.find("@import") == std::string::npos);
  CHECK(l.find("url(") == std::string::npos);
  CHECK(l.find("src=\"http") == std::string::npos);
  CHECK(l.find("href=\"http") == std::string::npos);
  CHECK(count(h, "http://") ==
        count(h, "xmlns=\"http://www.w3.org/2000/svg\"") + count(h, "(http://e.x)"));
  // The structure: a table row per run, three charts, the pair, the gallery image.
  CHECK(h.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count(h, "<svg") == 3);
  CHECK(count(h, "</svg>") == 3);
  CHECK(h.find("<img src=\"cases/b_wins-img__1_-3-1-") != std::string::npos);
  CHECK(h.find("<h3>") != std::string::npos);
  CHECK(h.find("p = 0.5") != std::string::npos);
  CHECK(h.find("95% image-level percentile bootstrap intervals (1000 samples)") !=
        std::string::npos);
  CHECK(h.find("<td>25.0</td><td>50.0</td><td>75.0</td><td>100.0</td><td>0.432</td>") !=
        std::string::npos);
  CHECK(h.find("<td>0.250</td><td>0.200</td><td>0.500</td><td>4.00</td>") != std::string::npos);
  CHECK(h.find("+50.0 <span class=\"meta\">[+25.0, +75.0]</span>") != std::string::npos);
  // Balanced tags for the elements we open.
  for (const char* tag : {"table", "tr", "figure", "figcaption", "svg", "h2", "h3", "p", "div"})
    CHECK(count(h, std::string("<") + tag + ">") + count(h, std::string("<") + tag + " ") ==
          count(h, std::string("</") + tag + ">"));
}

TEST_CASE("the Markdown report escapes and carries the same numbers", "[report]") {
  const std::string m = render_markdown(sample_report());
  CHECK(m.find("<script") == std::string::npos);
  CHECK(m.find("&lt;script&gt;") != std::string::npos);
  CHECK(m.find("evil&lt;run&gt;") != std::string::npos);
  CHECK(m.find("\\| \\*md\\* \\[link\\](http://e.x)") != std::string::npos);
  CHECK(m.find("| center | center:0.5 | flickr30k:val &lt;i&gt; | 10 | 4 | 25.0 | 50.0 | 75.0 | "
               "100.0 | 0.432 | 90.0 | 70.0 | 50.0 | 25.0 | 0.0 | 18.8 | — | 0 | 2 | 0 | 0 | — | — "
               "| — | — |") != std::string::npos);
  CHECK(m.find("| R@1 | 25.0 [0.0, 50.0] | 75.0 [50.0, 100.0] | +50.0 [+25.0, +75.0] |") !=
        std::string::npos);
  // Every table row has as many cells as its header.
  std::istringstream is(m);
  std::string line;
  std::size_t header_cells = 0;
  bool in_table = false;
  auto cells = [](const std::string& s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i] == '|' && (i == 0 || s[i - 1] != '\\')) ++n;
    return n;
  };
  while (std::getline(is, line)) {
    if (line.empty() || line[0] != '|') {
      in_table = false;
      continue;
    }
    if (!in_table) {
      header_cells = cells(line);
      in_table = true;
    }
    INFO(line);
    CHECK(cells(line) == header_cells);
  }
  CHECK(m.find("![") != std::string::npos);
}

TEST_CASE("the JSON report has the same numbers and escapes strings", "[report]") {
  const std::string j = render_json(sample_report());
  CHECK(j.find("<") == std::string::npos);  // even escaped for embedding in HTML
  CHECK(j.find("\"recall_at_1\": 0.25") != std::string::npos);
  CHECK(j.find("\"latency\": null") != std::string::npos);
#if defined(GROUNDEVAL_TEST_HAVE_JSON)
  const auto doc = nlohmann::json::parse(j);
  CHECK(doc["format"] == "groundeval-report");
  CHECK(doc["runs"].size() == 2);
  CHECK(doc["runs"][1]["name"] == "evil<run>");
  CHECK(doc["runs"][1]["grounder"] == evil);
  CHECK(doc["runs"][1]["by_type"][1]["category"] == evil);
  CHECK(doc["runs"][0]["overall"]["recall_at_1"].get<double>() == 0.25);
  CHECK(doc["runs"][1]["latency"]["p95_s"].get<double>() == 0.5);
  CHECK(doc["runs"][1]["in_process"] == false);
  CHECK(doc["runs"][0]["by_size"][1]["recall_at_1"].get<double>() == 1.0 / 3.0);
  CHECK(doc["runs"][0]["top1_iou_cdf"].size() == 101);
  CHECK(doc["runs"][0]["top1_iou_cdf"][0].get<double>() == 0.25);
  CHECK(doc["runs"][0]["top1_iou_cdf"][100].get<double>() == 1.0);
  CHECK(doc["pairs"][0]["mcnemar"]["p_value"].get<double>() == 0.5);
  CHECK(doc["pairs"][0]["recall"][0]["difference"]["upper"].get<double>() == 0.75);
  CHECK(doc["pairs"][0]["cases"]["b_wins"] == 2);
  CHECK(doc["cases"][0]["phrase"] == evil);
  CHECK(doc["cases"][0]["iou"]["evil<run>"].get<double>() == 0.8);
  CHECK(doc["runs"][0]["mean_iou"].get<double>() == 0.4321);
#endif
}

TEST_CASE("an in-process grounder's latency is not shown as a measurement", "[report]") {
  report_input in = sample_report();
  // Run 1 has measured latencies (0.25 s mean); mark it in-process (a baseline or a replay).
  REQUIRE(in.runs[1].latency);
  const std::string measured_html = render_html(in), measured_md = render_markdown(in);
  CHECK(measured_html.find("in-process") == std::string::npos);
  CHECK(measured_md.find("in-process") == std::string::npos);
  in.runs[1].in_process = true;
  const std::string h = render_html(in), m = render_markdown(in), j = render_json(in);
  CHECK(h.find("<td>0.250</td>") == std::string::npos);
  CHECK(h.find("<td>4.00</td>") == std::string::npos);
  CHECK(h.find("<td>\xE2\x80\x94 (in-process)</td><td>\xE2\x80\x94</td><td>\xE2\x80\x94</td>"
               "<td>\xE2\x80\x94</td></tr>") != std::string::npos);
  CHECK(h.find("their latency is not shown") != std::string::npos);
  CHECK(m.find("| 1 | 2 | 0 | 0 | — (in-process) | — | — | — |\n") != std::string::npos);
  CHECK(m.find("| 0.250 |") == std::string::npos);
  CHECK(m.find("their latency is not shown") != std::string::npos);
  // The run without latencies that is not in-process still shows plain dashes.
  CHECK(m.find("| 0 | 2 | 0 | 0 | — | — | — | — |\n") != std::string::npos);
  CHECK(j.find("\"latency\": null,\n      \"in_process\": true") != std::string::npos);
  CHECK(j.find("\"latency\": null,\n      \"in_process\": false") != std::string::npos);
  CHECK(j.find("\"mean_s\"") == std::string::npos);
#if defined(GROUNDEVAL_TEST_HAVE_JSON)
  const auto doc = nlohmann::json::parse(j);
  CHECK(doc["runs"][1]["in_process"] == true);
  CHECK(doc["runs"][1]["latency"].is_null());
  CHECK(doc["runs"][0]["in_process"] == false);
#endif
}

TEST_CASE("the CDF grid and the charts", "[report]") {
  const auto f = cdf_grid({0.0, 0.5, 0.5, 1.0, std::nan("")}, 5);  // x = 0, .25, .5, .75, 1
  REQUIRE(f.size() == 5);
  CHECK(f[0] == 0.4);  // 0 and the NaN (counted as 0)
  CHECK(f[1] == 0.4);
  CHECK(f[2] == 0.8);
  CHECK(f[3] == 0.8);
  CHECK(f[4] == 1.0);
  CHECK(std::isnan(cdf_grid({}, 3)[1]));
  const std::string bars =
      svg_bar_chart("t", {"a", "<b>"}, {{"r", rgb{1, 2, 3}, {0.5, std::nan("")}}});
  CHECK(count(bars, "<rect") == 2);  // legend swatch + one bar (the NaN has none)
  CHECK(bars.find("&lt;b&gt;") != std::string::npos);
  CHECK(bars.find("#010203") != std::string::npos);
  CHECK(bars.find("r \xE2\x80\x94 a: 50.0%") != std::string::npos);
  // Long labels are shortened (full text on hover) and the margins grow to fit them.
  const std::string long_label(50, 'x');
  const std::string shortened = svg_bar_chart("t", {long_label}, {{"r", rgb{}, {0.5}}});
  CHECK(shortened.find("<title>" + long_label + "</title>" + std::string(31, 'x') +
                       "\xE2\x80\xA6</text>") != std::string::npos);
  CHECK(shortened.find("width=\"258.0\"") == std::string::npos);  // wider than the minimum
  const std::string cdf = svg_cdf_chart("t", "x", {{"r", rgb{}, {0.2, 0.8}}});
  CHECK(count(cdf, "<polyline") == 1);
}

/// The number in attribute `name="..."` of the first tag of `svg` (the <svg> element).
double svg_attribute(const std::string& svg, const std::string& name) {
  const auto at = svg.find(" " + name + "=\"");
  REQUIRE(at != std::string::npos);
  return std::stod(svg.substr(at + name.size() + 3));
}

TEST_CASE("chart legends wrap and stay inside the chart", "[report]") {
  // Eight runs with 30-character names: one row would be about 1900 px wide.
  std::vector<chart_series> many;
  for (int i = 0; i < 8; ++i)
    many.push_back({std::string(29, 'a') + static_cast<char>('0' + i), rgb{}, {0.5, 0.25, 0.75}});
  for (const std::string& svg :
       {svg_bar_chart("t", {"small", "medium", "large"}, many), svg_cdf_chart("t", "x", many)}) {
    const double width = svg_attribute(svg, "width");
    CHECK(width <= 48 + report::detail::svg_legend_max_width + 20 + 1);
    // Every legend entry (swatch at x, text up to x + its estimated width) lies inside the chart.
    std::size_t entries = 0, rows = 0;
    double last_y = -1;
    for (auto at = svg.find("<rect x=\""); at != std::string::npos;
         at = svg.find("<rect x=\"", at + 1)) {
      if (svg.compare(svg.find(" width=\"", at), 13, " width=\"10\" h") != 0) continue;
      const double x = std::stod(svg.substr(at + 9));
      const double y = std::stod(svg.substr(svg.find(" y=\"", at) + 4));
      if (y != last_y) ++rows;
      last_y = y;
      if (entries < many.size())
        CHECK(x + report::detail::svg_legend_entry_width(many[entries]) <= width);
      ++entries;
    }
    CHECK(entries == many.size());
    CHECK(rows == 4);  // 234 px per entry: two per 640 px row
  }
  // A single short legend keeps the chart at its plot width, in one row.
  const chart_series r{"r", rgb{}, {}};
  const auto one = report::detail::svg_legend_layout({r}, 240);
  CHECK(one.rows == 1);
  CHECK(one.width == report::detail::svg_legend_entry_width(r));
}

TEST_CASE("the runs table names a shared data set once", "[report]") {
  auto in = sample_report();
  std::string h = render_html(in);
  CHECK(h.find("<p>Data set: flickr30k:val &lt;i&gt;</p>") != std::string::npos);
  CHECK(h.find("<th class=\"l\">Data set</th>") == std::string::npos);
  CHECK(h.find("<th>Format failures</th>") != std::string::npos);
  in.runs[1].dataset = "flickr30k:test";
  h = render_html(in);
  CHECK(h.find("<p>Data set:") == std::string::npos);
  CHECK(h.find("<th class=\"l\">Data set</th>") != std::string::npos);
  CHECK(h.find(">flickr30k:test</td>") != std::string::npos);
}

TEST_CASE("validation of names and overlay paths", "[report]") {
  auto in = sample_report();
  CHECK_NOTHROW(validate(in));
  auto dup = in;
  dup.runs[1].name = "center";
  CHECK_THROWS_WITH(validate(dup), Catch::Contains("two runs are named 'center'"));
  auto unknown = in;
  unknown.pairs[0].run_b = "nope";
  CHECK_THROWS_WITH(render_html(unknown), Catch::Contains("unknown run 'nope'"));
  for (const char* bad : {"/etc/passwd.png", "../x.png", "cases/../../x.png", "javascript:alert(1)",
                          "http://example.com/x.png"}) {
    auto b = in;
    b.cases[0].png = bad;
    CHECK_THROWS_WITH(validate(b), Catch::Contains("img <1>/3/1") && Catch::Contains("relative"));
  }
  // case_png_path: safe characters only, distinct ids stay distinct.
  gallery_case c;
  c.category = "a_wins";
  c.image_id = "../a b";
  const auto p1 = case_png_path(c);
  c.image_id = "../a_b";
  const auto p2 = case_png_path(c);
  CHECK(p1 != p2);
  CHECK(p1.rfind("cases/a_wins-", 0) == 0);
  CHECK(p1.size() > 4);
  CHECK(p1.substr(p1.size() - 4) == ".png");
  const std::string stem = p1.substr(6, p1.size() - 10);
  CHECK(
      stem.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
      std::string::npos);
  CHECK(p1.find("-0-0-") != std::string::npos);
  CHECK(p1.find("..") == std::string::npos);
}

TEST_CASE("write_report writes the three files", "[report]") {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("groundeval_report_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write_report(sample_report(), dir / "out");
  for (const char* f : {"index.html", "report.md", "report.json"}) {
    INFO(f);
    CHECK(fs::file_size(dir / "out" / f) > 1000);
  }
  std::ifstream is(dir / "out" / "index.html");
  std::stringstream ss;
  ss << is.rdbuf();
  CHECK(ss.str() == render_html(sample_report()));
  fs::remove_all(dir);
}

namespace {
/// sample_report() with the upper bound in the paired recall table, a p-value below 1e-4 and a
/// format-failure case whose failing run recorded a raw answer with markup in it.
report_input report_with_failure_case() {
  report_input in = sample_report();
  auto& p = in.pairs.front();
  p.mcnemar_p = 1e-9;
  p.recall.push_back({-1, {0.5, 0.25, 0.75}, {1.0, 1.0, 1.0}, {0.5, 0.25, 0.75}});
  gallery_case c;
  c.category = "format_failure";
  c.run_a = "center";
  c.run_b = "evil<run>";
  c.image_id = "img2";
  c.phrase = "a dog";
  c.sentence = "a dog runs";
  c.ious = {{"center", 0.3}, {"evil<run>", std::nan("")}};
  c.raw_answers = {{"evil<run>", "<ref>a dog</ref><box>(12,oops)</box> | *x*"}};
  in.cases.push_back(c);
  return in;
}
}  // namespace

TEST_CASE("paired tables label the upper bound and p-values read as inequalities", "[report]") {
  const report_input in = report_with_failure_case();
  const std::string h = render_html(in), m = render_markdown(in);
  for (const std::string* s : {&h, &m}) {
    CHECK(s->find("R@-1") == std::string::npos);
    CHECK(s->find("p = <") == std::string::npos);
    CHECK(s->find("p = &lt;") == std::string::npos);
  }
  CHECK(h.find("<tr><td class=\"l\">Upper bound</td><td>50.0") != std::string::npos);
  CHECK(h.find("p &lt; 0.0001") != std::string::npos);
  CHECK(m.find("| Upper bound | 50.0 [25.0, 75.0] |") != std::string::npos);
  CHECK(m.find("p < 0.0001") != std::string::npos);
  CHECK(format_p_clause(0.5) == "p = 0.5");
  CHECK(format_p_clause(1e-7) == "p < 0.0001");
  CHECK(recall_label(1) == "R@1");
  CHECK(recall_label(-1) == "Upper bound");
}

TEST_CASE("a format-failure case shows the failing run's raw answer, escaped", "[report]") {
  const report_input in = report_with_failure_case();
  const std::string h = render_html(in), m = render_markdown(in), j = render_json(in);
  CHECK(h.find("&lt;ref&gt;a dog&lt;/ref&gt;&lt;box&gt;(12,oops)&lt;/box&gt; | *x*") !=
        std::string::npos);
  CHECK(h.find("<box>") == std::string::npos);
  CHECK(m.find("&lt;ref&gt;a dog&lt;/ref&gt;&lt;box&gt;(12,oops)&lt;/box&gt; \\| \\*x\\*") !=
        std::string::npos);
  CHECK(m.find("<ref>") == std::string::npos);
  CHECK(j.find("<") == std::string::npos);
#if defined(GROUNDEVAL_TEST_HAVE_JSON)
  const auto doc = nlohmann::json::parse(j);
  CHECK(doc["cases"][1]["raw_answers"]["evil<run>"] == in.cases[1].raw_answers[0].second);
  CHECK(doc["cases"][0]["raw_answers"].empty());
#endif
  // A very long answer is shortened in the page, not in the JSON.
  report_input big = in;
  big.cases[1].raw_answers[0].second = std::string(5000, 'x');
  CHECK(render_html(big).find(std::string(2001, 'x')) == std::string::npos);
  CHECK(render_json(big).find(std::string(5000, 'x')) != std::string::npos);
}
