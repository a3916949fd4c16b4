// SPDX-License-Identifier: Apache-2.0
// Flickr30k Entities loader: the hand-written fixture (every edge case of docs/datasets.md, with
// the values MDETR's get_sentence_data / get_annotations give on it written out) and every bad
// input of issue 3, each asserting that the error names the file and line.
#include <groundeval/datasets/subsample.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace groundeval;
using B = box_xyxy<double>;
using ge_test::require_error_at;
using ge_test::temp_dir;

namespace {

const std::string fixture_dir = std::string(GROUNDEVAL_TEST_FIXTURES) + "/flickr30k_small";

flickr30k_options fixture_options() {
  flickr30k_options o;
  o.root = fixture_dir;
  o.split = "test";
  return o;
}

const phrase& ph(const sample& s, std::size_t i) {
  REQUIRE(i < s.phrases.size());
  return s.phrases[i];
}

void check_phrase(const sample& s, std::size_t i, const std::string& text, const std::string& chain,
                  std::vector<std::string> types, int first_word, std::size_t begin,
                  std::size_t end, std::vector<B> boxes) {
  const phrase& p = ph(s, i);
  INFO(s.image_id << " sentence " << s.sentence_index << " phrase " << i);
  CHECK(p.text == text);
  CHECK(p.chain_id == chain);
  CHECK(p.types == types);
  CHECK(p.first_word_index == first_word);
  CHECK(p.char_begin == begin);
  CHECK(p.char_end == end);
  CHECK(s.sentence.substr(p.char_begin, p.char_end - p.char_begin) == p.text);
  CHECK(p.boxes == boxes);
}

const B b101{12, 20, 200, 370}, b102a{210, 150, 300, 360}, b102b{310, 160, 390, 355},
    b_shared{1, 1, 500, 100}, b107{400, 30, 480, 90}, b201{5, 6, 300, 480}, b202{10, 10, 10, 50};

}  // namespace

TEST_CASE("flickr30k fixture: samples, spans and boxes match MDETR's parsers", "[flickr30k]") {
  const auto res = load_flickr30k_entities_detailed(fixture_options());
  const auto& ds = res.dataset;
  REQUIRE(res.problems.empty());
  REQUIRE(ds.size() == 8);  // 6 non-empty lines (one whitespace-only) + 2; empty lines skipped
  CHECK(res.image_ids == std::vector<std::string>{"1000001", "1000002"});

  const sample& s0 = ds[0];
  CHECK(s0.image_id == "1000001");
  CHECK(s0.size == image_size{500, 375});
  CHECK(s0.sentence_index == 0);
  CHECK(s0.sentence == "A man in a red shirt holds two kids .");
  REQUIRE(s0.phrases.size() == 3);
  check_phrase(s0, 0, "A man", "101", {"people"}, 0, 0, 5, {b101});
  check_phrase(s0, 1, "a red shirt", "103", {"clothing"}, 3, 9, 20, {b_shared});  // shared box
  check_phrase(s0, 2, "two kids", "102", {"people"}, 7, 27, 35, {b102a, b102b});  // multi-box

  // An empty line does not get a sentence index (index 1 is physical line 3).
  const sample& s1 = ds[1];
  CHECK(s1.sentence_index == 1);
  CHECK(s1.sentence == "The man and he walk past a park .");
  REQUIRE(s1.phrases.size() == 3);
  check_phrase(s1, 0, "The man", "101", {"people"}, 0, 0, 7, {b101});
  check_phrase(s1, 1, "he", "101", {"people"}, 3, 12, 14, {b101});  // same chain twice
  check_phrase(s1, 2, "a park", "106", {"scene"}, 6, 25, 31, {});   // scene-only: not evaluable
  CHECK(has_evaluable_phrase(s1));

  const sample& s2 = ds[2];  // notvisual + nobndbox: kept, but nothing to evaluate
  CHECK(s2.sentence_index == 2);
  check_phrase(s2, 0, "Someone", "0", {"notvisual"}, 0, 0, 7, {});
  check_phrase(s2, 1, "out of view", "105", {"other"}, 2, 11, 22, {});
  CHECK_FALSE(has_evaluable_phrase(s2));

  const sample& s3 = ds[3];  // whitespace-only line: a sentence without words
  CHECK(s3.sentence_index == 3);
  CHECK(s3.sentence.empty());
  CHECK(s3.phrases.empty());

  const sample& s4 = ds[4];  // tab inside a phrase, runs of spaces, two types
  CHECK(s4.sentence == "A bus stops near a sign .");
  check_phrase(s4, 0, "A bus", "104", {"vehicles", "scene"}, 0, 0, 5, {b_shared});
  check_phrase(s4, 1, "a sign", "107", {"other"}, 4, 17, 23, {b107});  // box + scene flag

  const sample& s5 = ds[5];  // chain 999 is not in the XML
  CHECK(s5.sentence_index == 5);
  check_phrase(s5, 0, "A ghost", "999", {"people"}, 0, 0, 7, {});
  check_phrase(s5, 1, "the children", "102", {"people"}, 4, 17, 29, {b102a, b102b});

  // Lone-CR file; U+00A0 and U+3000 split words like Python's str.split(); spans are in bytes.
  const sample& t0 = ds[6];
  CHECK(t0.image_id == "1000002");
  CHECK(t0.size == image_size{333, 500});
  CHECK(t0.sentence_index == 0);
  CHECK(t0.sentence == "Une femme au caf\xc3\xa9 .");
  check_phrase(t0, 0, "Une femme", "201", {"people"}, 0, 0, 9, {b201});
  check_phrase(t0, 1, "caf\xc3\xa9", "202", {"other"}, 3, 13, 18, {b202});  // zero-width box
  const sample& t1 = ds[7];
  CHECK(t1.sentence_index == 1);
  CHECK(t1.sentence == "A woman sits .");
  check_phrase(t1, 0, "A woman", "201", {"people"}, 0, 0, 7, {b201});

  CHECK(merged_box(ph(s0, 2)) == B{210, 150, 390, 360});
}

TEST_CASE("flickr30k fixture: statistics", "[flickr30k][stats]") {
  const auto res = load_flickr30k_entities_detailed(fixture_options());
  const auto& st = res.statistics;
  CHECK(st.images == 2);
  CHECK(st.sentences == 8);
  CHECK(st.evaluable_sentences == 6);  // all but "Someone is out of view ." and the blank one
  CHECK(st.phrases == 15);
  CHECK(st.evaluable_phrases == 11);
  CHECK(st.gt_boxes == 13);  // 101, 103, 102 x2 | 101, 101 | 104, 107 | 102 x2 | 201, 202 | 201
  CHECK(st.boxes == 7);      // <bndbox> objects
  CHECK(st.shared_boxes == 1);
  CHECK(st.chains == 9);  // 101..107 and 201, 202
  CHECK(st.multi_box_chains == 1);
  CHECK(st.scene_objects == 2);
  CHECK(st.nobox_objects == 1);
  CHECK(st.degenerate_boxes == 1);
  CHECK(st.notvisual_phrases == 1);
  CHECK(st.missing_chain_phrases == 1);
  CHECK(st.scene_phrases == 1);
  CHECK(st.nobox_phrases == 1);
  CHECK(st.phrases == st.evaluable_phrases + st.notvisual_phrases + st.missing_chain_phrases +
                          st.scene_phrases + st.nobox_phrases);
  CHECK(st.phrases_by_type.at("people") == 8);
  CHECK(st.evaluable_phrases_by_type.at("people") == 7);  // not "A ghost"
  CHECK(st.phrases_by_type.at("scene") == 2);
  CHECK(st.evaluable_phrases_by_type.at("scene") == 1);  // "A bus" (vehicles/scene)
  CHECK(st.evaluable_phrases_by_type.at("vehicles") == 1);
  CHECK(st.evaluable_phrases_by_type.count("notvisual") == 0);
  REQUIRE(st.missing_chain_examples.size() == 1);
  CHECK(st.missing_chain_examples[0] == fixture_dir + "/Sentences/1000001.txt:7: chain 999");
  const std::string json = to_json(st);
  CHECK(json.find("\"evaluable_phrases\": 11,") != std::string::npos);
  CHECK(json.find("\"phrases_by_type\": {\"clothing\": 1, ") != std::string::npos);
}

TEST_CASE("flickr30k: threads do not change the result", "[flickr30k]") {
  auto o = fixture_options();
  o.threads = 1;
  const auto a = load_flickr30k_entities(o);
  o.threads = 4;
  const auto b = load_flickr30k_entities(o);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].image_id == b[i].image_id);
    CHECK(a[i].sentence == b[i].sentence);
    CHECK(a[i].phrases.size() == b[i].phrases.size());
  }
}

namespace {

const std::string good_xml =
    "<annotation>\n<size><width>100</width><height>80</height><depth>3</depth></size>\n"
    "<object><name>1</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax>"
    "</bndbox></object>\n</annotation>\n";
const std::string good_txt = "[/EN#1/people A man] sleeps .\n";

/// One-image data set "7" in a temp folder; returns the options to load it.
flickr30k_options one_image(const temp_dir& d, const std::string& xml, const std::string& txt) {
  if (!xml.empty()) d.write("Annotations/7.xml", xml);
  if (!txt.empty()) d.write("Sentences/7.txt", txt);
  d.write("test.txt", "7\n");
  flickr30k_options o;
  o.root = d.str();
  return o;
}

void expect_load_error(const std::string& xml, const std::string& txt, const std::string& rel,
                       std::size_t line, const std::string& fragment) {
  temp_dir d;
  const auto o = one_image(d, xml, txt);
  require_error_at([&] { (void)load_flickr30k_entities(o); }, d.str() + "/" + rel, line, fragment);
  // Lenient mode: no exception, the same problem is reported.
  const auto res = load_flickr30k_entities_lenient(o);
  REQUIRE_FALSE(res.problems.empty());
  CHECK(res.problems[0].file == d.str() + "/" + rel);
  CHECK(res.problems[0].line == line);
  // Statistics only (keep_samples = false): the same error, the same problems and counts.
  auto counted = o;
  counted.keep_samples = false;
  require_error_at([&] { (void)load_flickr30k_entities(counted); }, d.str() + "/" + rel, line,
                   fragment);
  const auto c = load_flickr30k_entities_lenient(counted);
  REQUIRE(c.problems.size() == res.problems.size());
  for (std::size_t i = 0; i < c.problems.size(); ++i)
    CHECK(c.problems[i].to_string() == res.problems[i].to_string());
  CHECK(to_json(c.statistics) == to_json(res.statistics));
}

}  // namespace

TEST_CASE("flickr30k bad annotation files name file and line", "[flickr30k][errors]") {
  SECTION("missing XML file") {
    expect_load_error("", good_txt, "Annotations/7.xml", 0, "cannot read annotation file");
  }
  SECTION("missing sentence file") {
    expect_load_error(good_xml, "", "Sentences/7.txt", 0, "cannot read sentence file");
  }
  SECTION("malformed XML") {
    // TinyXML2 reports the line where the unclosed element (<size>) starts.
    expect_load_error("<annotation>\n<size><width>100</width>\n</annotation>\n", good_txt,
                      "Annotations/7.xml", 2, "malformed XML: XML_ERROR_MISMATCHED_ELEMENT");
  }
  SECTION("not an annotation") {
    expect_load_error("<foo/>\n", good_txt, "Annotations/7.xml", 0, "no <annotation> root");
  }
  SECTION("missing size") {
    expect_load_error(
        "<annotation>\n<object><name>1</name><nobndbox>1</nobndbox><scene>0</scene>"
        "</object></annotation>",
        good_txt, "Annotations/7.xml", 1, "has no <size>");
  }
  SECTION("missing height") {
    expect_load_error("<annotation>\n<size>\n<width>100</width></size></annotation>", good_txt,
                      "Annotations/7.xml", 2, "<size> has no <height>");
  }
  SECTION("non-numeric box") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<name>1</name><bndbox>\n<xmin>1</xmin><ymin>2.5</ymin><xmax>30</xmax>"
        "<ymax>40</ymax></bndbox></object></annotation>",
        good_txt, "Annotations/7.xml", 3, "<ymin> is not an integer: '2.5'");
  }
  SECTION("missing box coordinate") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<name>1</name>\n<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>"
        "</bndbox></object></annotation>",
        good_txt, "Annotations/7.xml", 3, "<bndbox> has no <ymax>");
  }
  SECTION("inverted box") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<name>1</name>\n\n<bndbox><xmin>50</xmin><ymin>2</ymin><xmax>30</xmax>"
        "<ymax>40</ymax></bndbox></object></annotation>",
        good_txt, "Annotations/7.xml", 4, "inverted box [50, 2, 30, 40]");
  }
  SECTION("object without name") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<nobndbox>1</nobndbox><scene>0</scene></object></annotation>",
        good_txt, "Annotations/7.xml", 2, "<object> has no <name>");
  }
  SECTION("non-digit chain id") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<name>abc</name><nobndbox>1</nobndbox><scene>0</scene></object>"
        "</annotation>",
        good_txt, "Annotations/7.xml", 2, "must be digits, got 'abc'");
  }
  SECTION("box-less object without flags") {
    expect_load_error(
        "<annotation><size><width>100</width><height>80</height></size>\n<object>"
        "<name>1</name></object></annotation>",
        good_txt, "Annotations/7.xml", 2, "<object> has no <nobndbox>");
  }
}

TEST_CASE("flickr30k bad sentence markup names file and line", "[flickr30k][errors]") {
  const std::string ok = "[/EN#1/people A man] sleeps .\n";
  SECTION("unterminated phrase") {
    expect_load_error(good_xml, ok + "\n" + "[/EN#1/people A man sleeps .\n", "Sentences/7.txt", 3,
                      "unterminated phrase markup");
  }
  SECTION("header without words") {
    expect_load_error(good_xml, ok + "[/EN#1/people] sleeps .\n", "Sentences/7.txt", 2,
                      "phrase header without words: '[/EN#1/people]'");
  }
  SECTION("lone closing bracket") {
    expect_load_error(good_xml, "[/EN#1/people A man ] sleeps .\n", "Sentences/7.txt", 1,
                      "found a lone ']'");
  }
  SECTION("malformed header") {
    expect_load_error(good_xml, ok + ok + "[/XX#1/people A man] sleeps .\r\n", "Sentences/7.txt", 3,
                      "must start with '[/EN#'");
  }
  SECTION("non-numeric chain id") {
    expect_load_error(good_xml, "[/EN#1a/people A man] sleeps .\n", "Sentences/7.txt", 1,
                      "chain id after '[/EN#' must be a non-empty run of digits");
  }
  SECTION("header without type") {
    expect_load_error(good_xml, "[/EN#1 A man] sleeps .\n", "Sentences/7.txt", 1, "has no type");
  }
  SECTION("nested markup") {
    expect_load_error(good_xml, "[/EN#1/people A [/EN#2/other man] sleeps .\n", "Sentences/7.txt",
                      1, "nested markup is not supported");
  }
  SECTION("chain id absent from the XML, when asked to treat it as an error") {
    temp_dir d;
    auto o = one_image(d, good_xml, ok + "[/EN#5/people A man] sleeps .\n");
    CHECK(load_flickr30k_entities_detailed(o).statistics.missing_chain_phrases == 1);  // default
    o.missing_chain_is_error = true;
    require_error_at([&] { (void)load_flickr30k_entities(o); }, d.str() + "/Sentences/7.txt", 2,
                     "chain id 5 is absent from " + d.str() + "/Annotations/7.xml");
  }
}

TEST_CASE("flickr30k lenient mode keeps the reference parser's behaviour", "[flickr30k][lenient]") {
  temp_dir d;
  auto o = one_image(d, good_xml,
                     "[/EN#1/people A man] [/EN#1/people sleeps\n"  // unterminated: phrase dropped
                     "[/EN#1/people A [x] man] sleeps .\n"          // '[' word inside a phrase
                     "[/EN#1/people A man ] sleeps .\n");           // lone ']' -> empty word
  const auto res = load_flickr30k_entities_lenient(o);
  REQUIRE(res.problems.size() == 3);
  CHECK(res.problems[0].line == 1);
  CHECK(res.problems[1].line == 2);
  CHECK(res.problems[2].line == 3);
  CHECK(res.problems[2].to_string().find(":3: ") != std::string::npos);
  const auto& ds = res.dataset;
  REQUIRE(ds.size() == 3);
  CHECK(ds[0].sentence == "A man sleeps");
  REQUIRE(ds[0].phrases.size() == 1);
  CHECK(ds[1].sentence == "A [x man] sleeps .");  // "[x]" closes the phrase, "man]" is a word
  REQUIRE(ds[1].phrases.size() == 1);
  CHECK(ds[1].phrases[0].text == "A [x");
  CHECK(ds[2].sentence == "A man  sleeps .");
  CHECK(ds[2].phrases[0].text == "A man ");
  CHECK(ds[2].phrases[0].boxes.size() == 1);
}

TEST_CASE("flickr30k split lists", "[flickr30k][splits]") {
  SECTION("duplicate id names the split file and line") {
    temp_dir d;
    auto o = one_image(d, good_xml, good_txt);
    d.write("test.txt", "7\n8\n\n7\n");
    require_error_at([&] { (void)load_flickr30k_entities(o); }, d.str() + "/test.txt", 4,
                     "duplicate image id '7' (first at line 1)");
  }
  SECTION("path separator in a split file") {
    temp_dir d;
    auto o = one_image(d, good_xml, good_txt);
    d.write("test.txt", "7\n../../etc/passwd\n");
    require_error_at([&] { (void)load_flickr30k_entities(o); }, d.str() + "/test.txt", 2,
                     "contains a path separator");
  }
  SECTION("path separator / duplicate in an explicit list") {
    temp_dir d;
    auto o = one_image(d, good_xml, good_txt);
    o.image_ids = {"7", "a\\b"};
    require_error_at([&] { (void)load_flickr30k_entities(o); }, "image id list [item 1]", 0,
                     "contains a path separator");
    o.image_ids = {"7", "7"};
    require_error_at([&] { (void)load_flickr30k_entities(o); }, "image id list [item 1]", 0,
                     "duplicate image id '7' (first at item 0)");
    o.image_ids = {".."};
    require_error_at([&] { (void)load_flickr30k_entities(o); }, "image id list [item 0]", 0,
                     "is not a file name");
  }
  SECTION("no split list") {
    temp_dir d;
    auto o = one_image(d, good_xml, good_txt);
    o.split = "val";
    CHECK_THROWS_WITH(load_flickr30k_entities(o), Catch::Contains("no split list for 'val'"));
  }
  SECTION("official lists in the repository data folder") {
    const std::string data = std::string(GROUNDEVAL_TEST_SOURCE_DIR) + "/data";
    problem_sink sink;
    const auto test = read_split_file(flickr30k_split_path(data, "test"), sink);
    const auto val = read_split_file(flickr30k_split_path(data, "val"), sink);
    const auto train = read_split_file(flickr30k_split_path(data, "train"), sink);
    CHECK(test.size() == 1000);
    CHECK(val.size() == 1000);
    CHECK(train.size() == 29783);
    problem_sink all_sink;  // no id in two splits
    std::vector<std::string> all = train;
    all.insert(all.end(), val.begin(), val.end());
    all.insert(all.end(), test.begin(), test.end());
    CHECK(validate_image_ids(all, "all", {}, all_sink).size() == 31783);
  }
  SECTION("<root>/<split>.txt overrides the official list") {
    temp_dir d;
    auto o = one_image(d, good_xml, good_txt);
    o.data_dir = std::string(GROUNDEVAL_TEST_SOURCE_DIR) + "/data";
    CHECK(load_flickr30k_entities(o).size() == 1);
  }
}

namespace {

bool same_annotation(const flickr30k_annotation& a, const flickr30k_annotation& b) {
  if (!(a.size == b.size) || a.box_objects != b.box_objects || a.shared_boxes != b.shared_boxes ||
      a.scene_objects != b.scene_objects || a.nobox_objects != b.nobox_objects ||
      a.degenerate_boxes != b.degenerate_boxes || a.chains.size() != b.chains.size())
    return false;
  for (std::size_t i = 0; i < a.chains.size(); ++i)
    if (a.chains[i].id != b.chains[i].id || a.chains[i].boxes != b.chains[i].boxes ||
        a.chains[i].scene != b.chains[i].scene || a.chains[i].nobox != b.chains[i].nobox)
      return false;
  return true;
}

std::string read_file(const std::string& path) {
  std::string s;
  REQUIRE(detail::read_whole_file(path, s));
  return s;
}

}  // namespace

TEST_CASE("fast XML scanner agrees with TinyXML2 or defers to it", "[flickr30k][xml]") {
  std::vector<std::string> docs = {read_file(fixture_dir + "/Annotations/1000001.xml"),
                                   read_file(fixture_dir + "/Annotations/1000002.xml"), good_xml};
  // Accepted as-is: both fixtures and the minimal document.
  for (const auto& d : docs) {
    flickr30k_annotation fast;
    REQUIRE(detail::fast_parse_flickr30k_annotation(d, fast));
    problem_sink sink;
    CHECK(same_annotation(fast, parse_flickr30k_annotation(d, "x.xml", sink, false)));
  }
  // Layouts it must leave to TinyXML2.
  for (const std::string d :
       {"<annotation a=\"1\"><size><width>1</width><height>1</height></size></annotation>",
        "<annotation><size><width><!-- c -->1</width><height>1</height></size></annotation>",
        "<annotation><size><width>&#49;</width><height>1</height></size></annotation>",
        "<annotation><size><width><![CDATA[1]]></width><height>1</height></size></annotation>",
        "<annotation><size><width>1</width><height>1</height></size>",
        "<annotation><size><width>1</width><height>1</height></size></annotation><x/>"}) {
    flickr30k_annotation fast;
    CHECK_FALSE(detail::fast_parse_flickr30k_annotation(d, fast));
  }
  // Random single and double edits: whenever the scanner accepts, TinyXML2 accepts with no
  // problem and the same result.
  std::uint64_t state = 12345;
  auto next = [&] { return detail::splitmix64_mix(state += 0x9e3779b97f4a7c15ULL); };
  const std::string alphabet = "<>/!-?&;=\" \n\t0123456789abxmn";
  std::size_t accepted = 0, mutated = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    std::string d = docs[next() % docs.size()];
    const int edits = 1 + static_cast<int>(next() % 2);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = next() % d.size();
      switch (next() % 3) {
        case 0:
          d.erase(pos, 1 + next() % 3);
          break;
        case 1:
          d.insert(pos, 1, alphabet[next() % alphabet.size()]);
          break;
        default:
          d[pos] = alphabet[next() % alphabet.size()];
          break;
      }
    }
    ++mutated;
    flickr30k_annotation fast;
    if (!detail::fast_parse_flickr30k_annotation(d, fast)) continue;
    ++accepted;
    problem_sink sink(false);
    const auto slow = parse_flickr30k_annotation(d, "x.xml", sink, false);
    INFO("document:\n" << d);
    CHECK(sink.problems().empty());
    CHECK(same_annotation(fast, slow));
  }
  CHECK(mutated == 6000);
  CHECK(accepted > 300);  // the comparison above ran on a good number of documents
}

TEST_CASE("flickr30k strict: the reported error is the first bad image in split order",
          "[flickr30k][errors]") {
  temp_dir d;
  std::string list;
  for (int i = 0; i < 300; ++i) {
    const std::string id = std::to_string(1000 + i);
    d.write("Annotations/" + id + ".xml", good_xml);
    d.write("Sentences/" + id + ".txt", (i == 70 || i == 250) ? "[/EN#1/people A man\n" : good_txt);
    list += id + "\n";
  }
  d.write("test.txt", list);
  flickr30k_options o;
  o.root = d.str();
  for (unsigned threads : {1u, 2u, 4u}) {
    o.threads = threads;
    require_error_at([&] { (void)load_flickr30k_entities(o); }, d.str() + "/Sentences/1070.txt", 1,
                     "unterminated phrase markup");
  }
  const auto res = load_flickr30k_entities_lenient(o);
  REQUIRE(res.problems.size() == 2);
  CHECK(res.problems[0].file == d.str() + "/Sentences/1070.txt");
  CHECK(res.problems[1].file == d.str() + "/Sentences/1250.txt");
  CHECK(res.dataset.size() == 300);
}
