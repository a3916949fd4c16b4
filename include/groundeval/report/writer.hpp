// SPDX-License-Identifier: Apache-2.0
// groundeval/report/writer.hpp — the report files: DIR/index.html (report/html.hpp), report.md
// (report/markdown.hpp) and report.json (report/json_report.hpp), each written atomically.
// Target: groundeval::core (standard library plus POSIX for the durable writes). docs/report.md
// describes the formats.
#pragma once

#include <groundeval/detail/durable_file.hpp>
#include <groundeval/error.hpp>
#include <groundeval/report/common.hpp>
#include <groundeval/report/html.hpp>
#include <groundeval/report/json_report.hpp>
#include <groundeval/report/markdown.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace groundeval::report {

/// Writes DIR/index.html, DIR/report.md and DIR/report.json (creating DIR). The gallery PNGs are
/// written separately (report/png/overlay.hpp) under DIR at each case's `png` path.
inline void write_report(const report_input& in, const std::filesystem::path& dir) {
  const std::string html = render_html(in), md = render_markdown(in), json = render_json(in);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::io, dir.string(), 0,
                "cannot create the report directory: " + ec.message());
  for (const auto& [name, text] : {std::pair<const char*, const std::string*>{"index.html", &html},
                                   {"report.md", &md},
                                   {"report.json", &json}})
    groundeval::detail::write_file_atomically(dir / name, *text);
}

}  // namespace groundeval::report
