// SPDX-License-Identifier: Apache-2.0
// Bad-input matrix (docs/robustness.md), everything users give besides the data sets:
// predictions (MDETR JSON, JSON Lines), run directories, .npy/.npz dumps and detector
// manifests, grounder specs, model answer text, HTTP responses, images. One TEST_CASE per row;
// the name starts with the row id.
#include "robust_util.hpp"

#include <groundeval/cli/app.hpp>
#include <groundeval/eval/run_dir.hpp>
#include <groundeval/grounders/http/openai_grounder.hpp>
#include <groundeval/grounders/interop/npy_detector.hpp>
#include <groundeval/grounders/parsers.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/io/stb/image_stb.hpp>

#include <httplib.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <string>
#include <thread>

using namespace groundeval;
using robust::error_text;
using robust::spec_error;
namespace fs = std::filesystem;

namespace {

const char* const good_record =
    R"({"image_id": "7", "sentence_id": 0, "phrase_index": 0, "boxes": [[1, 2, 3, 4]], "status": "ok"})";

std::string predictions_error(const fs::path& d, std::string_view text) {
  robust::write(d / "p.jsonl", text);
  return error_text([&] { (void)read_predictions((d / "p.jsonl").string()); }, d);
}

std::string npy_header(const std::string& dict) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string b("\x93NUMPY\x01\x00", 8);
  b += static_cast<char>(h.size() & 0xff);
  b += static_cast<char>(h.size() >> 8);
  return b + h;
}

parse_result answer(std::string_view family, std::string_view text) {
  return parse_answer(family, text, family_geometry(family, image_size{640, 480}));
}

/// A chat-completions server on 127.0.0.1 that answers every request with `status` and `body`.
struct canned_server {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  int status = 200;
  std::string body;
  canned_server(int st, std::string b) : status(st), body(std::move(b)) {
    srv.Post("/v1/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "application/json");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~canned_server() {
    srv.stop();
    thread.join();
  }
};

/// The query_result the openai grounder makes of one canned server answer.
query_result http_result(int status, std::string body) {
  canned_server server(status, std::move(body));
  const auto d = robust::scratch("http");
  robust::write(d / "i.png", std::string("\x89PNG\r\n\x1a\n", 8));
  openai_config cfg;
  cfg.base_url = "http://127.0.0.1:" + std::to_string(server.port) + "/v1";
  cfg.model = "m";
  cfg.family = "pixel";
  cfg.api_key_env = "";
  cfg.max_retries = 0;
  cfg.concurrency = 1;
  cfg.read_timeout_s = 5;
  openai_grounder g(cfg);
  const std::string img = (d / "i.png").string();
  const phrase_query q{"a man", "a man sits", 0, 5, 0};
  const grounding_request r{image_ref{"7", img, image_size{640, 480}}, std::span(&q, 1)};
  auto out = g.ground(r);
  REQUIRE(out.size() == 1);
  return out[0];
}

}  // namespace

// ---- predictions: JSON Lines and MDETR JSON ---------------------------------------------------

TEST_CASE("R38 empty predictions file", "[robustness][predictions]") {
  const auto d = robust::scratch("R38");
  CHECK(predictions_error(d, "") == "<dir>/p.jsonl:1: the predictions file is empty");
  CHECK(predictions_error(d, " \r\n\n") == "<dir>/p.jsonl:3: the predictions file is empty");
}

TEST_CASE("R39 JSON Lines predictions truncated in the last record", "[robustness][predictions]") {
  const auto d = robust::scratch("R39");
  const std::string r = good_record;
  CHECK(predictions_error(d, r + "\n" + r.substr(0, 40)) ==
        "<dir>/p.jsonl:2: [json.exception.parse_error.101] parse error at line 1, column 41: "
        "syntax error while parsing object key - invalid string: missing closing quote; last "
        "read: '\"phr'; expected string literal");
}

TEST_CASE("R40 JSON Lines predictions with a UTF-8 BOM and CRLF", "[robustness][predictions]") {
  const auto d = robust::scratch("R40");
  const std::string r = good_record;
  robust::write(d / "p.jsonl", "\xEF\xBB\xBF" + r + "\r\n" + r + "\r\n");
  const auto p = read_predictions((d / "p.jsonl").string());
  REQUIRE(p.phrases.size() == 2);
  CHECK(p.phrases[0].result.boxes.at(0).box == box_xyxy<double>{1, 2, 3, 4});
  CHECK(p.phrases[1].line == 2);
}

TEST_CASE("R41 predictions file in UTF-16", "[robustness][predictions]") {
  const auto d = robust::scratch("R41");
  std::string utf16 = "\xFF\xFE";
  for (const char c : std::string(good_record)) {
    utf16 += c;
    utf16 += '\0';
  }
  CHECK(predictions_error(d, utf16) ==
        "<dir>/p.jsonl:1: UTF-16 text (byte-order mark FF FE); save the file as UTF-8");
}

TEST_CASE("R42 predictions with a NaN literal (Python json.dumps)", "[robustness][predictions]") {
  const auto d = robust::scratch("R42");
  std::string r = good_record;
  r.replace(r.find("[1, 2"), 5, "[NaN, 2");
  CHECK(predictions_error(d, r) ==
        "<dir>/p.jsonl:1: [json.exception.parse_error.101] parse error at line 1, column 67: "
        "syntax error while parsing value - invalid literal; last read: '\"boxes\": [[N'");
}

TEST_CASE("R43 predictions with a null coordinate (NaN written as JSON)",
          "[robustness][predictions]") {
  const auto d = robust::scratch("R43");
  std::string r = good_record;
  r.replace(r.find("[1, 2"), 5, "[null, 2");
  CHECK(predictions_error(d, r) ==
        "<dir>/p.jsonl:1: boxes: box 0: coordinate null is not finite (allow non-finite boxes "
        "to count it)");
  robust::write(d / "p.jsonl", r);
  predictions_read_options o;
  o.allow_non_finite = true;
  const auto p = read_predictions((d / "p.jsonl").string(), o);
  CHECK(std::isnan(p.phrases.at(0).result.boxes.at(0).box.x1));
}

TEST_CASE("R44 predictions with a coordinate beyond the double range",
          "[robustness][predictions]") {
  const auto d = robust::scratch("R44");
  std::string r = good_record;
  r.replace(r.find("[1, 2"), 5, "[1, 1e999");
  CHECK(predictions_error(d, r) ==
        "<dir>/p.jsonl:1: [json.exception.out_of_range.406] number overflow parsing '1e999'");
}

TEST_CASE("R45 predictions record without a required field", "[robustness][predictions]") {
  const auto d = robust::scratch("R45");
  std::string r = good_record;
  r.erase(r.find(", \"status\": \"ok\""), 16);
  CHECK(predictions_error(d, r) == "<dir>/p.jsonl:1: no \"status\"");
}

TEST_CASE("R46 predictions record with a field of the wrong type", "[robustness][predictions]") {
  const auto d = robust::scratch("R46");
  std::string r = good_record;
  r.replace(r.find("\"sentence_id\": 0"), 16, "\"sentence_id\": \"0\"");
  CHECK(predictions_error(d, r) == "<dir>/p.jsonl:1: sentence_id must be an integer");
}

TEST_CASE("R47 predictions record with a duplicate key, the last one counts",
          "[robustness][predictions]") {
  const auto d = robust::scratch("R47");
  std::string r = good_record;
  r.replace(r.find("\"boxes\""), 7, "\"boxes\": [[9, 9, 9, 9]], \"boxes\"");
  robust::write(d / "p.jsonl", r);
  const auto p = read_predictions((d / "p.jsonl").string());
  CHECK(p.phrases.at(0).result.boxes.at(0).box == box_xyxy<double>{1, 2, 3, 4});
}

TEST_CASE("R48 JSON Lines predictions with a 1 GiB line", "[robustness][predictions]") {
  const auto d = robust::scratch("R48");
  robust::write(d / "p.jsonl", std::string(good_record) + "\n{\"image_id\": \"");
  {  // extend to 1 GiB sparsely: no disk blocks; the reader must stop at its line limit
    const int fd = ::open((d / "p.jsonl").c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t(1) << 30) == 0);
    ::close(fd);
  }
  CHECK(error_text([&] { (void)read_predictions((d / "p.jsonl").string()); }, d) ==
        "<dir>/p.jsonl:2: a line longer than the 64 MiB limit of a JSON Lines record");
}

TEST_CASE("R49 predictions record nested 1,000,000 levels deep", "[robustness][predictions]") {
  // Used to overflow the stack (nlohmann::ordered_json copies members recursively).
  const auto d = robust::scratch("R49");
  std::string r = good_record;
  r.replace(r.find("[[1, 2, 3, 4]]"), 14, std::string(1000000, '[') + std::string(1000000, ']'));
  CHECK(predictions_error(d, r) == "<dir>/p.jsonl:1: JSON nested deeper than 64 levels");
  // a string full of brackets is not nesting
  std::string ok = good_record;
  ok.replace(ok.find("\"7\""), 3, "\"" + std::string(1000, '[') + "\"");
  robust::write(d / "ok.jsonl", ok);
  CHECK(read_predictions((d / "ok.jsonl").string()).phrases.at(0).image_id ==
        std::string(1000, '['));
}

TEST_CASE("R50 MDETR predictions entry without boxes", "[robustness][predictions]") {
  const auto d = robust::scratch("R50");
  CHECK(predictions_error(d, R"([{"image_id": "7", "sentence_id": 0}])") ==
        "<dir>/p.jsonl: entry #0: no \"boxes\"");
}

// ---- run directories --------------------------------------------------------------------------

TEST_CASE("R51 run manifest truncated", "[robustness][run]") {
  CHECK(error_text([] {
          (void)parse_manifest("{\"dataset\": \"flickr30k:d\",\n\"split\": \"te", "m.json");
        }) == "m.json:2: unterminated string");
}

TEST_CASE("R52 run manifest with a duplicate key", "[robustness][run]") {
  CHECK(error_text([] {
          (void)parse_manifest(R"({"split": "test", "split": "val"})", "m.json");
        }) == "m.json: manifest key \"split\" appears twice");
}

TEST_CASE("R53 run manifest value of the wrong type, nested deeply", "[robustness][run]") {
  const std::string text =
      "{\"split\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(error_text([&] { (void)parse_manifest(text, "m.json"); }) ==
        "m.json: manifest value of \"split\" is not a string");
}

TEST_CASE("R54 run predictions with a torn last line", "[robustness][run]") {
  const auto d = robust::scratch("R54");
  const std::string r = good_record;
  robust::write(d / "predictions.jsonl", r + "\n" + r.substr(0, 30));
  const auto c = read_run_file(d / "predictions.jsonl", {}, false);
  CHECK(c.records.size() == 1);
  CHECK(c.torn_line == 2);
  CHECK(c.torn_bytes == 30);
}

// ---- .npy / .npz dumps and detector manifests -------------------------------------------------

TEST_CASE("R55 .npy file truncated in the header", "[robustness][npy]") {
  const std::string b = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
  CHECK(error_text([&] { (void)parse_npy<float>(b.substr(0, 30), "x.npy"); }) ==
        "x.npy: not a valid .npy array: truncated header");
}

TEST_CASE("R56 .npy header claiming a huge shape (zip-bomb-like)", "[robustness][npy]") {
  const std::string b =
      npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }") +
      std::string(16, '\0');
  CHECK(error_text([&] { (void)parse_npy<float>(b, "x.npy"); }) ==
        "x.npy: not a valid .npy array: body holds 16 bytes, shape and dtype '<f4' need "
        "4000000000000000000");
}

TEST_CASE("R57 .npy big-endian dtype", "[robustness][npy]") {
  const std::string b = npy_header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") +
                        std::string(4, '\0');
  CHECK(error_text([&] { (void)parse_npy<float>(b, "x.npy"); }) == "x.npy: big-endian dtype '>f4'");
}

TEST_CASE("R58 empty .npz archive file", "[robustness][npy]") {
  const auto d = robust::scratch("R58");
  robust::write(d / "a.npz", "");
  CHECK(error_text([&] { npz_file f((d / "a.npz").string()); }, d) ==
        "<dir>/a.npz: not a valid .npz (zip) archive: too short");
}

TEST_CASE("R59 detector manifest line without a dump path", "[robustness][npy]") {
  const auto d = robust::scratch("R59");
  robust::write(d / "m.txt", "# image dump\r\n7\r\n");
  CHECK(error_text([&] { npy_detector_grounder g((d / "m.txt").string(), mdetr_postprocess()); },
                   d) == "<dir>/m.txt:2: expected '<image id> <dump path>'");
}

TEST_CASE("R60 detector manifest naming a dump in a symlink loop", "[robustness][npy]") {
  const auto d = robust::scratch("R60");
  fs::create_symlink("loop.npz", d / "loop.npz");
  robust::write(d / "m.txt", "7 loop.npz\n");
  CHECK(error_text([&] { npy_detector_grounder g((d / "m.txt").string(), mdetr_postprocess()); },
                   d) == "<dir>/m.txt:1: dump file '<dir>/loop.npz' does not exist");
}

// ---- grounder specs ---------------------------------------------------------------------------

TEST_CASE("R61 grounder spec of an unknown kind", "[robustness][spec]") {
  CHECK(spec_error("wholeimage") ==
        "--grounder: 'wholeimage': unknown grounder 'wholeimage' (valid: whole-image, center, "
        "random, oracle, predictions, openai, npy-detector)");
}

TEST_CASE("R62 grounder spec with a NaN or huge number", "[robustness][spec]") {
  CHECK(spec_error("center:nan") == "--grounder: 'center:nan': fraction 'nan' is not a number");
  CHECK(spec_error("center:1e999") ==
        "--grounder: 'center:1e999': fraction '1e999' is not a number");
  CHECK(spec_error("random:99999999999999999999999") ==
        "--grounder: 'random:99999999999999999999999': seed '99999999999999999999999' is not a "
        "non-negative integer");
}

TEST_CASE("R63 grounder spec with a duplicate key or an empty item", "[robustness][spec]") {
  CHECK(spec_error("random?boxes=2&boxes=3") ==
        "--grounder: 'random?boxes=2&boxes=3': key 'boxes' given twice");
  CHECK(spec_error("random?boxes=2&") ==
        "--grounder: 'random?boxes=2&': expected KEY=VALUE after '?', got ''");
}

// ---- model answer text ------------------------------------------------------------------------

TEST_CASE("R64 empty model answer", "[robustness][answers]") {
  const auto r = answer("qwen2.5-vl", "");
  CHECK(r.status == query_status::empty);
  CHECK(r.reason == "no box in the answer");
}

TEST_CASE("R65 model answer with NaN and Inf coordinates", "[robustness][answers]") {
  const auto r = answer("pixel", "[nan, 1, 2, 3] and [inf, 1, 2, 3]");
  CHECK(r.status == query_status::format_failure);
  CHECK(r.reason ==
        "non-numeric box '[nan, 1, 2, 3]' at offset 0; non-numeric box '[inf, 1, 2, 3]' at "
        "offset 19");
}

TEST_CASE("R66 model answer with huge and negative coordinates", "[robustness][answers]") {
  const auto r = answer("pixel", "[-50, 10, 99999999, 20]");
  INFO(r.reason);
  REQUIRE(r.status == query_status::ok);
  CHECK(r.boxes.at(0).box == box_xyxy<double>{0, 10, 640, 20});
  CHECK((r.boxes[0].flags & box_flag_clipped) != 0);
}

TEST_CASE("R67 model answer with an inverted box", "[robustness][answers]") {
  const auto r = answer("pixel", "[30, 40, 10, 20]");
  REQUIRE(r.status == query_status::ok);
  CHECK(r.boxes.at(0).box == box_xyxy<double>{10, 20, 30, 40});
  CHECK((r.boxes[0].flags & box_flag_swapped) != 0);
}

TEST_CASE("R68 model answer repeating one box 200,000 times (zip-bomb-like)",
          "[robustness][answers]") {
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "[1, 2, 3, 4] ";
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = answer("pixel", text);
  CHECK(r.boxes.size() == 200000);
  // linear: well under a second in Release (a quadratic scan would take hours)
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
}

TEST_CASE("R69 model answer nested 100,000 brackets deep, and in Latin-1",
          "[robustness][answers]") {
  const auto r = answer("qwen2.5-vl", std::string(100000, '[') + "\xE9" + std::string(100000, ']'));
  CHECK(r.status != query_status::ok);
  const auto l = answer("pixel", "le caf\xE9 [1, 2, 3, 4]");
  CHECK(l.status == query_status::ok);
}

// ---- HTTP responses ---------------------------------------------------------------------------

TEST_CASE("R70 HTTP 200 with a truncated JSON body", "[robustness][http]") {
  const auto q = http_result(200, R"({"choices": [{"message": {"content": "[1, 2)");
  CHECK(q.status == query_status::error);
  CHECK(q.message == "malformed JSON in the response (after 1 attempt)");
}

TEST_CASE("R71 HTTP 200 whose content has the wrong type", "[robustness][http]") {
  const auto q = http_result(200, R"({"choices": [{"message": {"content": [1, 2, 3, 4]}}]})");
  CHECK(q.status == query_status::error);
  CHECK(q.message == "message content is not a string (after 1 attempt)");
}

TEST_CASE("R72 HTTP 200 nested 100,000 levels deep", "[robustness][http]") {
  const auto q = http_result(200, std::string(100000, '[') + std::string(100000, ']'));
  CHECK(q.status == query_status::error);
  CHECK(q.message == "malformed JSON in the response (after 1 attempt)");
}

TEST_CASE("R73 HTTP 404 with an HTML body", "[robustness][http]") {
  const auto q = http_result(404, "<html><body>Not Found</body></html>");
  CHECK(q.status == query_status::error);
  CHECK(q.message == "HTTP 404: <html><body>Not Found</body></html> (after 1 attempt)");
}

// ---- images -----------------------------------------------------------------------------------

TEST_CASE("R74 empty image file", "[robustness][images]") {
  const auto d = robust::scratch("R74");
  robust::write(d / "7.jpg", "");
  CHECK(error_text([&] { (void)read_image_bytes((d / "7.jpg").string()); }, d) ==
        "<dir>/7.jpg: image file is empty");
}

TEST_CASE("R75 truncated PNG image", "[robustness][images]") {
  const auto d = robust::scratch("R75");
  robust::write(d / "7.jpg", std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16));
  const auto b = read_image_bytes((d / "7.jpg").string());
  CHECK(error_text([&] { (void)decode_image(b); }, d) ==
        "<dir>/7.jpg: cannot decode image (1/2/4/8/16-bit only)");
}

TEST_CASE("R76 image whose size differs from the annotation", "[robustness][images]") {
  const auto d = robust::scratch("R76");
  // a 2 x 1 grey binary PGM: no encoder needed
  robust::write(d / "7.jpg", std::string("P5\n2 1\n255\n\x10\x20", 13));
  const auto b = read_image_bytes((d / "7.jpg").string());
  CHECK(error_text(
            [&] {
              check_image_size(b, image_size{640, 480});
            },
            d) == "<dir>/7.jpg: image is 2x1 but the annotation says 640x480");
}

TEST_CASE("R77 image path in a symlink loop", "[robustness][images]") {
  const auto d = robust::scratch("R77");
  fs::create_symlink("7.jpg", d / "7.jpg");
  CHECK(error_text([&] { (void)read_image_bytes((d / "7.jpg").string()); }, d) ==
        "<dir>/7.jpg: cannot read image (Too many levels of symbolic links)");
}
