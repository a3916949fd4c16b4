// SPDX-License-Identifier: Apache-2.0
// groundeval/report/charts.hpp — inline SVG charts for the HTML report: grouped bars of fractions
// and empirical CDFs. Target: groundeval::core (standard library only).
//
// The SVG is generated here (no JavaScript, no external resources); every label is escaped, and
// each bar and curve carries a <title> so a browser shows the exact value on hover.
#pragma once

#include <groundeval/report/palette.hpp>
#include <groundeval/report/text.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace groundeval::report {

/// One named series of a chart.
struct chart_series {
  std::string name;
  rgb color;
  std::vector<double> values;
};

/// The empirical CDF of `values` on a regular grid of `points` abscissae x_i = i / (points - 1)
/// in [0, 1]: F(x_i) = fraction of values <= x_i (NaN values count as 0). Empty input: all NaN.
inline std::vector<double> cdf_grid(const std::vector<double>& values, std::size_t points = 101) {
  std::vector<double> v;
  v.reserve(values.size());
  for (double x : values) v.push_back(std::isnan(x) ? 0.0 : x);
  std::sort(v.begin(), v.end());
  std::vector<double> f(points, std::nan(""));
  if (v.empty() || points < 2) return f;
  for (std::size_t i = 0; i < points; ++i) {
    const double x = static_cast<double>(i) / static_cast<double>(points - 1);
    const auto n = std::upper_bound(v.begin(), v.end(), x) - v.begin();
    f[i] = static_cast<double>(n) / static_cast<double>(v.size());
  }
  return f;
}

namespace detail {

inline std::string svg_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

/// Number of UTF-8 code points.
inline std::size_t svg_chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// At most `max` code points, with an ellipsis when shortened.
inline std::string svg_shorten(std::string_view s, std::size_t max) {
  if (svg_chars(s) <= max) return std::string(s);
  std::size_t n = 0, i = 0;
  for (; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n++ == max - 1) break;
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";
}

/// Width of one legend entry: swatch, name (at most 40 characters at about 7 px each), gap.
inline double svg_legend_entry_width(const chart_series& se) {
  return 24 + 7.0 * static_cast<double>(std::min<std::size_t>(svg_chars(se.name), 40));
}

/// The legend's extent when its entries are wrapped into rows at most `max_width` wide: the
/// widest row and the number of rows (at least 1).
struct svg_legend_extent {
  double width = 0;
  int rows = 1;
};

inline svg_legend_extent svg_legend_layout(const std::vector<chart_series>& series,
                                           double max_width) {
  svg_legend_extent e;
  double x = 0;
  for (const auto& se : series) {
    const double w = svg_legend_entry_width(se);
    if (x > 0 && x + w > max_width) {
      ++e.rows;
      x = 0;
    }
    x += w;
    e.width = std::max(e.width, x);
  }
  return e;
}

/// Draws the legend from (x0, y), wrapping at `max_width` exactly as svg_legend_layout; rows are
/// 16 px apart. Names longer than 40 characters are shortened (the full name on hover).
inline void svg_legend(std::string& s, const std::vector<chart_series>& series, double x0, double y,
                       double max_width) {
  double x = 0;
  for (const auto& se : series) {
    const double w = svg_legend_entry_width(se);
    if (x > 0 && x + w > max_width) {
      y += 16;
      x = 0;
    }
    s += "<rect x=\"" + svg_num(x0 + x) + "\" y=\"" + svg_num(y - 9) +
         "\" width=\"10\" height=\"10\" fill=\"" + to_hex(se.color) + "\"/>";
    s += "<text x=\"" + svg_num(x0 + x + 14) + "\" y=\"" + svg_num(y) + "\"><title>" +
         html_escape(se.name) + "</title>" + html_escape(svg_shorten(se.name, 40)) + "</text>";
    x += w;
  }
}

/// The widest legend row a chart grows to before wrapping (px).
inline constexpr double svg_legend_max_width = 640;

/// The <svg> element of a chart of total_w x total_h px, with its accessible name and <title>.
inline std::string svg_open(std::string_view title, double total_w, double total_h) {
  const std::string w = svg_num(total_w), h = svg_num(total_h), t = html_escape(title);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + w + "\" height=\"" +
         h + "\" viewBox=\"0 0 " + w + " " + h + "\" role=\"img\" aria-label=\"" + t +
         "\"><title>" + t + "</title>";
}

inline void svg_y_axis_percent(std::string& s, double left, double top, double width,
                               double height) {
  for (int t = 0; t <= 100; t += 25) {
    const double y = top + height * (1.0 - t / 100.0);
    s += "<line x1=\"" + svg_num(left) + "\" y1=\"" + svg_num(y) + "\" x2=\"" +
         svg_num(left + width) + "\" y2=\"" + svg_num(y) + "\" class=\"grid\"/>";
    s += "<text x=\"" + svg_num(left - 6) + "\" y=\"" + svg_num(y + 4) + "\" text-anchor=\"end\">" +
         std::to_string(t) + "%</text>";
  }
}

}  // namespace detail

/// A grouped bar chart of fractions in [0, 1] (drawn as percentages): one group per label, one
/// bar per series (series[j].values[i] belongs to groups[i]; NaN or missing = no bar).
inline std::string svg_bar_chart(std::string_view title, const std::vector<std::string>& groups,
                                 const std::vector<chart_series>& series) {
  // Labels are drawn rotated by -35 degrees and shortened to 32 characters (full text on hover);
  // the margins grow with the longest label (about 6 px per character at 11 px).
  std::vector<std::string> labels;
  std::size_t longest = 0;
  for (const auto& g : groups) {
    labels.push_back(detail::svg_shorten(g, 32));
    longest = std::max(longest, detail::svg_chars(labels.back()));
  }
  const double label_len = 6.0 * static_cast<double>(longest);
  const double bar = 14, gap = 18;
  const double group_w = std::max(40.0, bar * static_cast<double>(series.size()) + gap);
  const double left = std::max(48.0, 0.82 * label_len - group_w / 2 + 8);
  const double width = std::max(240.0, group_w * static_cast<double>(groups.size()));
  // The legend wraps at the plot's width, or up to svg_legend_max_width when the chart is widened
  // for it; the plot moves down by the extra rows.
  const double legend_room = std::max(width, detail::svg_legend_max_width);
  const auto legend = detail::svg_legend_layout(series, legend_room);
  const double top = 36 + 16.0 * (legend.rows - 1), height = 200,
               bottom = std::max(40.0, 0.58 * label_len + 24);
  const double total_w = left + std::max(width, legend.width) + 20, total_h = top + height + bottom;
  std::string s = detail::svg_open(title, total_w, total_h);
  detail::svg_legend(s, series, left, 16, legend_room);
  detail::svg_y_axis_percent(s, left, top, width, height);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double gx = left + group_w * static_cast<double>(i);
    for (std::size_t j = 0; j < series.size(); ++j) {
      if (i >= series[j].values.size()) continue;
      const double v = series[j].values[i];
      if (!std::isfinite(v)) continue;
      const double h = height * std::clamp(v, 0.0, 1.0);
      const double x = gx + gap / 2 + bar * static_cast<double>(j);
      s += "<rect x=\"" + detail::svg_num(x) + "\" y=\"" + detail::svg_num(top + height - h) +
           "\" width=\"" + detail::svg_num(bar - 2) + "\" height=\"" + detail::svg_num(h) +
           "\" fill=\"" + to_hex(series[j].color) + "\"><title>" + html_escape(series[j].name) +
           " \xE2\x80\x94 " + html_escape(groups[i]) + ": " + format_percent(v) +
           "%</title></rect>";
    }
    const double cx = gx + group_w / 2, cy = top + height + 12;
    s += "<text x=\"" + detail::svg_num(cx) + "\" y=\"" + detail::svg_num(cy) +
         "\" text-anchor=\"end\" transform=\"rotate(-35 " + detail::svg_num(cx) + " " +
         detail::svg_num(cy) + ")\"><title>" + html_escape(groups[i]) + "</title>" +
         html_escape(labels[i]) + "</text>";
  }
  s += "<line x1=\"" + detail::svg_num(left) + "\" y1=\"" + detail::svg_num(top + height) +
       "\" x2=\"" + detail::svg_num(left + width) + "\" y2=\"" + detail::svg_num(top + height) +
       "\" class=\"axis\"/></svg>";
  return s;
}

/// The empirical CDF of each series' raw values in [0, 1] (e.g. top-1 IoUs), sampled on the
/// 101-point grid of cdf_grid and drawn as a step line.
inline std::string svg_cdf_chart(std::string_view title, std::string_view x_label,
                                 const std::vector<chart_series>& series) {
  const double left = 48, width = 420, height = 220, bottom = 44;
  const double legend_room = std::max(width, detail::svg_legend_max_width);
  const auto legend = detail::svg_legend_layout(series, legend_room);
  const double top = 36 + 16.0 * (legend.rows - 1);
  const double total_w = left + std::max(width, legend.width) + 20, total_h = top + height + bottom;
  std::string s = detail::svg_open(title, total_w, total_h);
  detail::svg_legend(s, series, left, 16, legend_room);
  detail::svg_y_axis_percent(s, left, top, width, height);
  for (int t = 0; t <= 10; ++t) {
    const double x = left + width * t / 10.0;
    s += "<text x=\"" + detail::svg_num(x) + "\" y=\"" + detail::svg_num(top + height + 16) +
         "\" text-anchor=\"middle\">" + format_fixed(t / 10.0, 1) + "</text>";
  }
  s += "<text x=\"" + detail::svg_num(left + width / 2) + "\" y=\"" +
       detail::svg_num(top + height + 36) + "\" text-anchor=\"middle\">" + html_escape(x_label) +
       "</text>";
  for (const auto& se : series) {
    const auto f = cdf_grid(se.values);
    if (se.values.empty()) continue;
    std::string pts;
    double prev_y = top + height;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const double x = left + width * static_cast<double>(i) / static_cast<double>(f.size() - 1);
      const double y = top + height * (1.0 - f[i]);
      if (i > 0) pts += detail::svg_num(x) + "," + detail::svg_num(prev_y) + " ";
      pts += detail::svg_num(x) + "," + detail::svg_num(y) + " ";
      prev_y = y;
    }
    s += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + to_hex(se.color) +
         "\" points=\"" + pts + "\"><title>" + html_escape(se.name) + " (" +
         std::to_string(se.values.size()) + " phrases)</title></polyline>";
  }
  s += "<rect x=\"" + detail::svg_num(left) + "\" y=\"" + detail::svg_num(top) + "\" width=\"" +
       detail::svg_num(width) + "\" height=\"" + detail::svg_num(height) +
       "\" fill=\"none\" class=\"axis\"/></svg>";
  return s;
}

}  // namespace groundeval::report
