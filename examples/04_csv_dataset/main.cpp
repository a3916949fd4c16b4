// SPDX-License-Identifier: Apache-2.0
// Example 04: a data set of your own: rows image,width,height,phrase,x1,y1,x2,y2 of a CSV file
// (phrases.csv here: made up), each row one phrase to ground, held in a type of your own that
// models the Dataset concept; evaluated with the whole-image baseline.
#include <groundeval/groundeval.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

struct csv_sample {  // the members the Sample concept asks for: one sentence of one image
  std::string image_id;
  groundeval::image_size size;
  int sentence_index = 0;  // the image's rows are its sentences 0, 1, ...
  std::string sentence;
  std::vector<groundeval::phrase> phrases;  // any type modelling Phrase would do
};

// A std::vector of samples is a Dataset (a sized range of stored Samples).
std::vector<csv_sample> read_csv(const std::string& file) {
  std::vector<csv_sample> data;
  std::ifstream in(file);
  std::string line, f[8];
  for (std::getline(in, line); std::getline(in, line);) {  // the rows after the header
    std::istringstream row(line);
    for (auto& x : f) std::getline(row, x, ',');
    const auto sentence = std::count_if(data.begin(), data.end(),
                                        [&](const csv_sample& s) { return s.image_id == f[0]; });
    auto num = [&](int i) { return std::stod(f[i]); };
    const groundeval::phrase p{f[3], "1",         {"other"}, {{num(4), num(5), num(6), num(7)}},
                               0,    f[3].size(), 0};
    data.push_back({f[0], {std::stoi(f[1]), std::stoi(f[2])}, int(sentence), f[3], {p}});
  }
  return data;
}

int main(int argc, char** argv) {
  const auto data = read_csv(argc > 1 ? argv[1] : "phrases.csv");
  groundeval::whole_image_grounder g;
  const auto r = groundeval::evaluate(data, groundeval::predict(g, data));
  std::fputs(groundeval::format_report_table(r).c_str(), stdout);
  return r.phrases == 3 ? 0 : 1;
}
