// SPDX-License-Identifier: Apache-2.0
// Bad-input matrix (docs/robustness.md), data sets: Flickr30k Entities folders (Annotations,
// Sentences, split lists) and MDETR-format annotation JSON. One TEST_CASE per row; the name
// starts with the row id. Every test checks the exact text the user sees, or the defined
// lenient behaviour.
#include "robust_util.hpp"

#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

using namespace groundeval;
using robust::error_text;
namespace fs = std::filesystem;

namespace {

const char* const good_xml =
    "<annotation><size><width>100</width><height>80</height><depth>3</depth></size>\n"
    "<object><name>1</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax>"
    "</bndbox></object>\n"
    "</annotation>\n";
const char* const good_txt = "[/EN#1/people A man] sits .\n";

/// A one-image Flickr30k Entities folder (image "7", split "test") with the given files.
fs::path flickr_dir(const std::string& row, std::string_view xml = good_xml,
                    std::string_view txt = good_txt, std::string_view split = "7\n") {
  const fs::path d = robust::scratch(row);
  robust::write(d / "Annotations" / "7.xml", xml);
  robust::write(d / "Sentences" / "7.txt", txt);
  robust::write(d / "test.txt", split);
  return d;
}

flickr30k_options opts(const fs::path& d) {
  flickr30k_options o;
  o.root = d.string();
  o.split = "test";
  o.threads = 1;
  return o;
}

std::string load_error(const fs::path& d) {
  return error_text([&] { (void)load_flickr30k_entities(opts(d)); }, d);
}

/// The loaded sample of a one-image folder (REQUIREs exactly one sentence).
sample load_one(const fs::path& d) {
  auto ds = load_flickr30k_entities(opts(d));
  REQUIRE(ds.size() == 1);
  return ds[0];
}

std::string mdetr_error(const fs::path& d, std::string_view json) {
  robust::write(d / "a.json", json);
  return error_text([&] { (void)load_mdetr_annotations((d / "a.json").string()); }, d);
}

const char* const good_mdetr =
    R"({"images": [{"id": 1, "file_name": "7.jpg", "caption": "a man", "width": 100,)"
    R"( "height": 80}], "annotations": [{"image_id": 1, "bbox": [1, 2, 3, 4]}]})";

}  // namespace

// ---- Flickr30k Entities: Annotations/<id>.xml -------------------------------------------------

TEST_CASE("R01 empty Annotations XML file", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R01", "");
  CHECK(load_error(d) == "<dir>/Annotations/7.xml: malformed XML: XML_ERROR_EMPTY_DOCUMENT");
}

TEST_CASE("R02 truncated Annotations XML (cut inside a tag)", "[robustness][flickr30k]") {
  const std::string xml = good_xml;
  const auto d = flickr_dir("R02", xml.substr(0, xml.find("<ymax>") + 3));
  CHECK(load_error(d) == "<dir>/Annotations/7.xml:2: malformed XML: XML_ERROR_PARSING_ELEMENT");
}

TEST_CASE("R03 Annotations XML with CRLF line ends and a UTF-8 BOM", "[robustness][flickr30k]") {
  std::string xml = "\xEF\xBB\xBF";
  for (const char c : std::string(good_xml))
    xml += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const sample crlf = load_one(flickr_dir("R03", xml));
  const sample plain = load_one(flickr_dir("R03b"));
  REQUIRE(crlf.phrases.size() == 1);
  CHECK(crlf.phrases[0].boxes == plain.phrases[0].boxes);
  CHECK(crlf.size == plain.size);
}

TEST_CASE("R04 Annotations XML: coordinate beyond 64-bit integers", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("30</xmax>"), 2, "99999999999999999999999");
  const auto d = flickr_dir("R04", xml);
  CHECK(load_error(d) ==
        "<dir>/Annotations/7.xml:2: <xmax> is not an integer: '99999999999999999999999'");
}

TEST_CASE("R05 Annotations XML: inverted box", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("30</xmax>"), 2, "0");
  const auto d = flickr_dir("R05", xml);
  CHECK(load_error(d) ==
        "<dir>/Annotations/7.xml:2: inverted box [1, 2, 0, 40] (xmax < xmin or ymax < ymin)");
}

TEST_CASE("R06 Annotations XML: negative coordinates are kept as written",
          "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("<xmin>1<"), 8, "<xmin>-5<");
  const sample s = load_one(flickr_dir("R06", xml));
  REQUIRE(s.phrases.at(0).boxes.size() == 1);
  CHECK(s.phrases[0].boxes[0] == box_xyxy<double>{-5, 2, 30, 40});
}

TEST_CASE("R07 Annotations XML: NaN as a coordinate", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("<ymin>2<"), 8, "<ymin>nan<");
  const auto d = flickr_dir("R07", xml);
  CHECK(load_error(d) == "<dir>/Annotations/7.xml:2: <ymin> is not an integer: 'nan'");
}

TEST_CASE("R08 Annotations XML: missing <size>", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.erase(xml.find("<size>"), xml.find("</size>") + 7 - xml.find("<size>"));
  const auto d = flickr_dir("R08", xml);
  CHECK(load_error(d) == "<dir>/Annotations/7.xml:1: <annotation> has no <size>");
}

TEST_CASE("R09 Annotations XML: width of the wrong type", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("<width>100<"), 11, "<width>wide<");
  const auto d = flickr_dir("R09", xml);
  CHECK(load_error(d) == "<dir>/Annotations/7.xml:1: <width> is not an integer: 'wide'");
}

TEST_CASE("R10 Annotations XML: duplicate <xmin> in one box, the first one counts",
          "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("<xmin>1</xmin>"), 14, "<xmin>1</xmin><xmin>9</xmin>");
  const sample s = load_one(flickr_dir("R10", xml));
  REQUIRE(s.phrases.at(0).boxes.size() == 1);
  CHECK(s.phrases[0].boxes[0].x1 == 1);
}

TEST_CASE("R11 Annotations XML: chain id that is not digits", "[robustness][flickr30k]") {
  std::string xml = good_xml;
  xml.replace(xml.find("<name>1<"), 8, "<name>../1<");
  const auto d = flickr_dir("R11", xml);
  CHECK(load_error(d) ==
        "<dir>/Annotations/7.xml:2: chain id in <name> must be digits, got '../1'");
}

// ---- Flickr30k Entities: Sentences/<id>.txt ---------------------------------------------------

TEST_CASE("R12 empty Sentences file: the image has no sentences", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R12", good_xml, "");
  const auto r = load_flickr30k_entities_detailed(opts(d));
  CHECK(r.dataset.size() == 0);
  CHECK(r.image_ids == std::vector<std::string>{"7"});
}

TEST_CASE("R13 Sentences file truncated inside a phrase", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R13", good_xml, "[/EN#1/people A man] sits .\n[/EN#1/people A");
  CHECK(load_error(d) ==
        "<dir>/Sentences/7.txt:2: unterminated phrase markup (no closing ']' before the end of "
        "the line)");
}

TEST_CASE("R14 Sentences file in Latin-1", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R14", good_xml, "[/EN#1/people A caf\xE9 owner] sits .\n");
  CHECK(load_error(d) ==
        "<dir>/Sentences/7.txt:1: not UTF-8 (byte 0xE9 at column 20); save the file as UTF-8");
}

TEST_CASE("R15 Sentences file in UTF-16", "[robustness][flickr30k]") {
  std::string utf16 = "\xFF\xFE";
  for (const char c : std::string(good_txt)) {
    utf16 += c;
    utf16 += '\0';
  }
  const auto d = flickr_dir("R15", good_xml, utf16);
  CHECK(load_error(d) ==
        "<dir>/Sentences/7.txt:1: UTF-16 text (byte-order mark FF FE); save the file as UTF-8");
}

TEST_CASE("R16 Sentences file with a UTF-8 BOM and CRLF line ends", "[robustness][flickr30k]") {
  const sample bom =
      load_one(flickr_dir("R16", good_xml, "\xEF\xBB\xBF[/EN#1/people A man] sits .\r\n"));
  const sample plain = load_one(flickr_dir("R16b"));
  CHECK(bom.sentence == plain.sentence);
  REQUIRE(bom.phrases.size() == 1);
  CHECK(bom.phrases[0].chain_id == "1");
  CHECK(bom.phrases[0].char_begin == plain.phrases[0].char_begin);
}

TEST_CASE("R17 Sentences file: malformed phrase header", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R17", good_xml, "[/EN#x1/people A man] sits .\n");
  CHECK(load_error(d) ==
        "<dir>/Sentences/7.txt:1: chain id after '[/EN#' must be a non-empty run of digits: "
        "'[/EN#x1/people'");
}

TEST_CASE("R18 Sentences file: a 1 GiB file is refused before it is read",
          "[robustness][flickr30k]") {
  const auto d = flickr_dir("R18");
  {  // a sparse file: 1 GiB long, no disk blocks, nothing held in memory
    const int fd = ::open((d / "Sentences" / "7.txt").c_str(), O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t(1) << 30) == 0);
    ::close(fd);
  }
  CHECK(load_error(d) ==
        "<dir>/Sentences/7.txt: cannot read sentence file (larger than the 64 MiB limit for one "
        "file)");
}

// ---- Flickr30k Entities: split lists and the folder ------------------------------------------

TEST_CASE("R19 split list with an image id containing '..'", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R19", good_xml, good_txt, "7\n../../etc/passwd\n");
  CHECK(load_error(d) ==
        "<dir>/test.txt:2: image id '../../etc/passwd' contains a path separator (rejected: no "
        "path traversal)");
  const auto d2 = flickr_dir("R19b", good_xml, good_txt, "7\n..\n");
  CHECK(load_error(d2) == "<dir>/test.txt:2: image id '..' is not a file name");
}

TEST_CASE("R20 split list with a duplicate image id", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R20", good_xml, good_txt, "7\r\n7\r\n");
  CHECK(load_error(d) == "<dir>/test.txt:2: duplicate image id '7' (first at line 1)");
}

TEST_CASE("R21 empty split list", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R21", good_xml, good_txt, "");
  CHECK(load_error(d) == "<dir>/test.txt: the split list holds no image id");
}

TEST_CASE("R22 split list in UTF-16", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R22", good_xml, good_txt,
                            std::string("\xFF\xFE"
                                        "7\0\n\0",
                                        6));
  CHECK(load_error(d) ==
        "<dir>/test.txt:1: UTF-16 text (byte-order mark FF FE); save the file as UTF-8");
}

TEST_CASE("R23 symlink loop in the data folder", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R23");
  fs::remove_all(d / "Annotations");
  fs::create_directory_symlink("Annotations", d / "Annotations");  // points at itself
  CHECK(load_error(d) ==
        "<dir>/Annotations/7.xml: cannot read annotation file (Too many levels of symbolic "
        "links)");
}

TEST_CASE("R24 image listed in the split without an Annotations file", "[robustness][flickr30k]") {
  const auto d = flickr_dir("R24", good_xml, good_txt, "7\n8\n");
  CHECK(load_error(d) ==
        "<dir>/Annotations/8.xml: cannot read annotation file (No such file or directory)");
}

TEST_CASE("R81 Annotations or Sentences file that is a FIFO no program writes to, or a directory",
          "[robustness][flickr30k]") {
  const auto d = flickr_dir("R81");
  fs::remove(d / "Annotations" / "7.xml");
  REQUIRE(::mkfifo((d / "Annotations" / "7.xml").c_str(), 0600) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(load_error(d) ==
        "<dir>/Annotations/7.xml: cannot read annotation file (a pipe or FIFO with nothing "
        "written to it: no program wrote to it within 2 s; start the program that writes it "
        "first, or give a regular file)");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));  // no hang
  const auto e = flickr_dir("R81b");
  fs::remove(e / "Sentences" / "7.txt");
  fs::create_directory(e / "Sentences" / "7.txt");
  CHECK(load_error(e) == "<dir>/Sentences/7.txt: cannot read sentence file (Is a directory)");
}

// ---- MDETR-format annotation JSON -------------------------------------------------------------

TEST_CASE("R25 empty MDETR annotation file", "[robustness][mdetr]") {
  const auto d = robust::scratch("R25");
  CHECK(mdetr_error(d, "") ==
        "<dir>/a.json:1: malformed JSON: [json.exception.parse_error.101] parse error at line 1, "
        "column 1: syntax error while parsing value - unexpected end of input; expected '[', "
        "'{', or a literal");
}

TEST_CASE("R26 truncated MDETR annotation file", "[robustness][mdetr]") {
  const auto d = robust::scratch("R26");
  const std::string j = good_mdetr;
  CHECK(mdetr_error(d, j.substr(0, 60)) ==
        "<dir>/a.json:1: malformed JSON: [json.exception.parse_error.101] parse error at line 1, "
        "column 61: syntax error while parsing value - invalid string: missing closing quote; "
        "last read: '\"a ma'");
}

TEST_CASE("R27 MDETR annotation file in UTF-16", "[robustness][mdetr]") {
  const auto d = robust::scratch("R27");
  std::string utf16 = "\xFF\xFE";
  for (const char c : std::string(good_mdetr)) {
    utf16 += c;
    utf16 += '\0';
  }
  CHECK(mdetr_error(d, utf16) ==
        "<dir>/a.json:1: UTF-16 text (byte-order mark FF FE); save the file as UTF-8");
}

TEST_CASE("R28 MDETR annotation file with a UTF-8 BOM and CRLF", "[robustness][mdetr]") {
  const auto d = robust::scratch("R28");
  robust::write(d / "a.json", "\xEF\xBB\xBF" + std::string(good_mdetr) + "\r\n");
  const auto ds = load_mdetr_annotations((d / "a.json").string());
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].phrases.at(0).boxes.at(0) == box_xyxy<double>{1, 2, 4, 6});
}

TEST_CASE("R29 MDETR annotation: missing field", "[robustness][mdetr]") {
  const auto d = robust::scratch("R29");
  std::string j = good_mdetr;
  j.erase(j.find("\"caption\": \"a man\", "), 20);
  CHECK(mdetr_error(d, j) == "<dir>/a.json: images[0]: missing 'caption'");
}

TEST_CASE("R30 MDETR annotation: width of the wrong type", "[robustness][mdetr]") {
  const auto d = robust::scratch("R30");
  std::string j = good_mdetr;
  j.replace(j.find("100"), 3, "[100]");
  CHECK(mdetr_error(d, j) == "<dir>/a.json: images[0]: 'width' must be an integer, got [100]");
}

TEST_CASE("R31 MDETR annotation: width beyond 64-bit integers", "[robustness][mdetr]") {
  const auto d = robust::scratch("R31");
  std::string j = good_mdetr;
  j.replace(j.find("100"), 3, "1e300");
  CHECK(mdetr_error(d, j) == "<dir>/a.json: images[0]: 'width' must be an integer, got 1e+300");
}

TEST_CASE("R32 MDETR annotation: negative box width", "[robustness][mdetr]") {
  const auto d = robust::scratch("R32");
  std::string j = good_mdetr;
  j.replace(j.find("[1, 2, 3, 4]"), 12, "[1, 2, -3, 4]");
  CHECK(mdetr_error(d, j) ==
        "<dir>/a.json: annotations[0]: 'bbox' has a negative width or height: [1,2,-3,4]");
}

TEST_CASE("R33 MDETR annotation: box coordinate beyond the double range", "[robustness][mdetr]") {
  const auto d = robust::scratch("R33");
  std::string j = good_mdetr;
  j.replace(j.find("[1, 2, 3, 4]"), 12, "[1, 2, 1e999, 4]");
  CHECK(mdetr_error(d, j) ==
        "<dir>/a.json: malformed JSON: [json.exception.out_of_range.406] number overflow parsing "
        "'1e999'");
}

TEST_CASE("R34 MDETR annotation: duplicate key, the last one counts", "[robustness][mdetr]") {
  const auto d = robust::scratch("R34");
  std::string j = good_mdetr;
  j.replace(j.find("\"caption\""), 9, "\"caption\": \"first\", \"caption\"");
  // Python's json.load (the reference evaluator's reader) keeps the last value of a key.
  robust::write(d / "a.json", j);
  const auto ds = load_mdetr_annotations((d / "a.json").string());
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].sentence == "a man");
}

TEST_CASE("R35 MDETR annotation: deeply nested JSON (1,000,000 levels)", "[robustness][mdetr]") {
  const auto d = robust::scratch("R35");
  const std::string j = std::string(1000000, '[') + std::string(1000000, ']');
  CHECK(mdetr_error(d, j) ==
        "<dir>/a.json: malformed JSON (simdjson): The JSON document was too deep (too many nested "
        "objects and arrays)");
}

TEST_CASE("R36 MDETR annotation: image id with '..'", "[robustness][mdetr]") {
  const auto d = robust::scratch("R36");
  std::string j = good_mdetr;
  j.replace(j.find("\"file_name\": \"7.jpg\""), 20, "\"original_img_id\": \"../../etc/passwd\"");
  CHECK(mdetr_error(d, j) ==
        "<dir>/a.json: images[0]: image id '../../etc/passwd' contains a path separator "
        "(rejected: no path traversal)");
}

TEST_CASE("R37 MDETR annotation: zip-bomb-like repetition of one span", "[robustness][mdetr]") {
  // 200,000 copies of the same span in one annotation: linear time, one box per phrase.
  const auto d = robust::scratch("R37");
  std::string spans;
  for (int i = 0; i < 200000; ++i) spans += i ? ", [0, 5]" : "[0, 5]";
  const std::string j =
      R"({"images": [{"id": 1, "original_img_id": "7", "caption": "a man", "width": 100,)"
      R"( "height": 80, "tokens_positive_eval": [[[0, 5]]]}], "annotations": [{"image_id": 1,)"
      R"( "bbox": [1, 2, 3, 4], "tokens_positive": [)" +
      spans + "]}]}";
  robust::write(d / "a.json", j);
  const auto ds = load_mdetr_annotations((d / "a.json").string());
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].phrases.at(0).boxes.size() == 200000);
}
