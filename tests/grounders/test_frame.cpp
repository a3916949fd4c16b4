// SPDX-License-Identifier: Apache-2.0
// The frame-proof geometry of the openai grounder (groundeval::http) against a local server that
// looks at the image it receives (decodes the data URL with stb):
// * LLaVA-1.5: the grounder sends the image padded to a square with LLaVA's colour, pasted where
//   expand2square pastes it; the server answers the normalized box of a red rectangle it finds
//   in that square, and the decoded box is the rectangle's place in the original image.
// * Qwen2.5-VL: the server counts image tokens as Qwen2.5-VL's processor would with ITS
//   max_pixels and reports them in usage.prompt_tokens; a grounder declaring other pixel bounds
//   stops with a configuration error before any query of the run is sent.
#include <groundeval/grounders/http/openai_grounder.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace groundeval;
namespace fs = std::filesystem;

namespace {

std::string unbase64(std::string_view in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d = -1;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    if (c >= '0' && c <= '9') d = c - '0' + 52;
    if (c == '+') d = 62;
    if (c == '/') d = 63;
    if (d < 0) continue;
    v = (v << 6) | unsigned(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((v >> bits) & 0xFF);
    }
  }
  return out;
}

/// What the server saw in one request.
struct received {
  std::string mime;
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;  // decoded pixels
  std::string prompt;
  int max_tokens = 0;
};

/// A chat-completions server that decodes the image of every request.
///  mode llava: answers the normalized [x1, y1, x2, y2] of the red pixels in the received image.
///  mode qwen:  answers a fixed JSON box; usage.prompt_tokens = 20 text tokens + the image tokens
///              of Qwen2.5-VL's smart_resize with `max_pixels` (+ 2 vision start/end tokens),
///              or no usage at all when `usage` is false.
struct vision_server {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  std::string mode = "llava";
  long long max_pixels = 16384LL * 28 * 28;
  bool usage = true;
  std::mutex mutex;
  std::vector<received> log;

  vision_server() {
    srv.Post("/v1/chat/completions",
             [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port = srv.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~vision_server() {
    srv.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1"; }

  void handle(const httplib::Request& req, httplib::Response& res) {
    const auto j = nlohmann::json::parse(req.body);
    received r;
    std::string url;
    for (const auto& part : j["messages"][0]["content"]) {
      if (part["type"] == "text") r.prompt = part["text"];
      if (part["type"] == "image_url") url = part["image_url"]["url"];
    }
    r.max_tokens = j["max_tokens"];
    r.mime = url.substr(5, url.find(';') - 5);
    const std::string bytes = unbase64(url.substr(url.find(',') + 1));
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                              int(bytes.size()), &w, &h, &c, 3);
    REQUIRE(px != nullptr);
    r.width = w;
    r.height = h;
    r.rgb.assign(px, px + std::size_t(w) * h * 3);
    stbi_image_free(px);
    std::string content;
    nlohmann::json out = {{"model", "vision"}};
    if (mode == "llava") {
      int x1 = w, y1 = h, x2 = -1, y2 = -1;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const unsigned char* p = &r.rgb[(std::size_t(y) * w + x) * 3];
          if (p[0] == 255 && p[1] == 0 && p[2] == 0) {
            x1 = std::min(x1, x);
            y1 = std::min(y1, y);
            x2 = std::max(x2, x + 1);
            y2 = std::max(y2, y + 1);
          }
        }
      char buf[160];
      std::snprintf(buf, sizeof buf, "[%.17g, %.17g, %.17g, %.17g]", double(x1) / w, double(y1) / h,
                    double(x2) / w, double(y2) / h);
      content = buf;
    } else {
      content = "```json\n[{\"bbox_2d\": [10, 20, 110, 120], \"label\": \"x\"}]\n```";
      if (usage) {
        const image_size f = smart_resize({w, h}, 28, 3136, max_pixels);
        const long tokens = long(f.width / 28) * (f.height / 28);
        out["usage"] = {{"prompt_tokens", 20 + 2 + tokens}, {"completion_tokens", 5}};
      }
    }
    out["choices"] = {{{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", content}}},
                       {"finish_reason", "stop"}}};
    {
      std::lock_guard lock(mutex);
      log.push_back(std::move(r));
    }
    res.set_content(out.dump(), "application/json");
  }
  std::size_t requests() {
    std::lock_guard lock(mutex);
    return log.size();
  }
};

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/groundeval-frame-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// A PNG of w x h: blue, with a red rectangle [rx1, rx2) x [ry1, ry2); returns its path.
std::string write_test_image(const fs::path& dir, int w, int h, int rx1, int ry1, int rx2,
                             int ry2) {
  report::rgb_image im = report::rgb_image::filled(w, h, {0, 0, 200});
  report::fill_rect(im, rx1, ry1, rx2, ry2, {255, 0, 0});
  const std::string path =
      (dir / ("img_" + std::to_string(w) + "x" + std::to_string(h) + ".png")).string();
  report::write_png(im, path);
  return path;
}

struct one_query {
  std::string phrase = "the red rectangle", sentence = "the red rectangle on blue";
  std::vector<phrase_query> q{phrase_query{phrase, sentence, 0, 17, 0}};
  grounding_request request(const std::string& path, image_size size) const {
    return {{"img", path, size}, std::span<const phrase_query>(q)};
  }
};

openai_config config(const std::string& url, const std::string& family) {
  openai_config c;
  c.base_url = url;
  c.model = "m";
  c.family = family;
  c.api_key_env = "";
  c.max_retries = 0;
  c.read_timeout_s = 5;
  return c;
}

}  // namespace

TEST_CASE("llava: the image is padded client-side with LLaVA's colour", "[http][frame]") {
  vision_server server;
  temp_dir dir;
  one_query q;
  struct shape {
    int w, h, rx1, ry1, rx2, ry2;
  };
  // landscape (padding above and below) and portrait with an odd difference (floor division)
  for (const shape s : {shape{64, 40, 10, 5, 30, 25}, shape{37, 50, 3, 4, 20, 46}}) {
    INFO(s.w << "x" << s.h);
    const std::string path = write_test_image(dir.path, s.w, s.h, s.rx1, s.ry1, s.rx2, s.ry2);
    openai_grounder g(config(server.url(), "llava"));
    std::vector<openai_answer> answers;
    const auto res = g.ground_detailed(q.request(path, {s.w, s.h}), answers);
    const received r = server.log.back();
    // a PNG square of side max(W, H)
    const int side = std::max(s.w, s.h);
    CHECK(r.mime == "image/png");
    REQUIRE(r.width == side);
    REQUIRE(r.height == side);
    // the original pasted at ((S - W) // 2, (S - H) // 2), the band in (122, 116, 104)
    const int ox = (side - s.w) / 2, oy = (side - s.h) / 2;
    int band = 0, inside = 0, wrong = 0;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        const unsigned char* p = &r.rgb[(std::size_t(y) * side + x) * 3];
        const bool in = x >= ox && x < ox + s.w && y >= oy && y < oy + s.h;
        if (!in) {
          ++band;
          wrong += !(p[0] == 122 && p[1] == 116 && p[2] == 104);
        } else {
          ++inside;
          const bool red = x - ox >= s.rx1 && x - ox < s.rx2 && y - oy >= s.ry1 && y - oy < s.ry2;
          wrong += red ? !(p[0] == 255 && p[1] == 0 && p[2] == 0)
                       : !(p[0] == 0 && p[1] == 0 && p[2] == 200);
        }
      }
    CHECK(band == side * side - s.w * s.h);
    CHECK(band > 0);
    CHECK(inside == s.w * s.h);
    CHECK(wrong == 0);
    // the normalized answer decodes to the rectangle in the original image
    REQUIRE(res.size() == 1);
    INFO(res[0].raw_text << " " << res[0].message);
    REQUIRE(res[0].status == query_status::ok);
    REQUIRE(res[0].boxes.size() == 1);
    CHECK(res[0].boxes[0].box.x1 == Approx(s.rx1).margin(1e-9));
    CHECK(res[0].boxes[0].box.y1 == Approx(s.ry1).margin(1e-9));
    CHECK(res[0].boxes[0].box.x2 == Approx(s.rx2).margin(1e-9));
    CHECK(res[0].boxes[0].box.y2 == Approx(s.ry2).margin(1e-9));
    // the contract recorded with the answer says what was sent
    CHECK(answers[0].geometry.find("\"send\": \"pad_square\", \"pad_colour\": [122, 116, 104], "
                                   "\"sent\": [" +
                                   std::to_string(side) + ", " + std::to_string(side) + "]") !=
          std::string::npos);
    CHECK(res[0].geometry == answers[0].geometry);
  }
  // the describe() of a padding grounder says so (a run made with the original images does not
  // resume into padded ones)
  openai_grounder g(config(server.url(), "llava"));
  CHECK(g.describe().find("\"client_image\":\"pad_square rgb(122,116,104) png\"") !=
        std::string::npos);
}

TEST_CASE("llava: pad=server and frame=center-crop send the original file", "[http][frame]") {
  vision_server server;
  temp_dir dir;
  one_query q;
  const std::string path = write_test_image(dir.path, 64, 40, 10, 5, 30, 25);
  for (const char* opt : {"pad=server", "frame=center-crop"}) {
    INFO(opt);
    openai_config c = config(server.url(), "llava");
    const std::string s = opt;
    c.geometry_options = {{s.substr(0, s.find('=')), s.substr(s.find('=') + 1)}};
    openai_grounder g(c);
    const auto res = g.ground(q.request(path, {64, 40}));
    const received r = server.log.back();
    CHECK(r.width == 64);
    CHECK(r.height == 40);
    CHECK(g.describe().find("client_image") == std::string::npos);
    REQUIRE(res[0].boxes.size() == 1);
    if (s == "pad=server") {
      // normalized to the original here, read as the padded square: the documented frame
      CHECK(res[0].boxes[0].box.y2 == Approx(25.0 / 40 * 64 - 12));
    } else {
      // centre crop of 64x40 at 336: resized 537x336, crop x from 100 -> x = (v*336 + 100) *
      // 64 / 537
      CHECK(res[0].boxes[0].box.x1 == Approx((10.0 / 64 * 336 + 100) * 64 / 537));
    }
  }
}

TEST_CASE("qwen2.5-vl: the frame check stops a mismatching run before it starts", "[http][frame]") {
  vision_server server;
  server.mode = "qwen";
  temp_dir dir;
  one_query q;
  // 1000 x 800 smart-resizes to 1008 x 812 (1044 tokens) with the default bounds, to 476 x 392
  // (238 tokens) with max_pixels 200704; 448 x 448 is 256 tokens under both
  const std::string path = write_test_image(dir.path, 1000, 800, 0, 0, 1, 1);
  const auto req = q.request(path, {1000, 800});

  SECTION("declared bounds equal the server's: checked, then the query is asked") {
    server.max_pixels = 200704;
    openai_config c = config(server.url(), "qwen2.5-vl");
    c.geometry_options = {{"max_pixels", "200704"}};
    openai_grounder g(c);
    const auto res = g.ground(req);
    CHECK(g.frame_check().result == frame_check_result::outcome::match);
    CHECK(g.frame_check().message.find("1000x800 -> 476x392 (238 image tokens)") !=
          std::string::npos);
    REQUIRE(server.requests() == 4);  // 3 for the check, 1 query
    CHECK(server.log[0].max_tokens == 1);
    CHECK(server.log[3].max_tokens == c.max_tokens);
    CHECK(server.log[1].width == 448);
    CHECK(server.log[2].width == 1680);
    REQUIRE(res[0].status == query_status::ok);
    // pixels of 476 x 392 -> x * 1000 / 476
    CHECK(res[0].boxes[0].box.x1 == Approx(10 * 1000.0 / 476));
    one_query other;
    other.phrase = "the blue background";
    other.q[0].phrase = other.phrase;
    (void)g.ground(other.request(path, {1000, 800}));  // checked once per grounder
    CHECK(server.requests() == 5);
  }
  SECTION("default bounds against a server with max_pixels 200704: error, no query asked") {
    server.max_pixels = 200704;
    openai_grounder g(config(server.url(), "qwen2.5-vl"));
    try {
      (void)g.ground(req);
      FAIL("expected a frame check error");
    } catch (const error& e) {
      CHECK(e.kind() == error_kind::config);
      const std::string m = e.what();
      INFO(m);
      CHECK(m.find("frame check: the server resizes images differently") != std::string::npos);
      CHECK(m.find("for a 1000x800 image it counted -18 more prompt tokens") != std::string::npos);
      CHECK(m.find("the declared frame implies 788") != std::string::npos);
      CHECK(m.find("--mm-processor-kwargs") != std::string::npos);
    }
    CHECK(server.requests() == 3);  // the check only: no query of the run reached the server
  }
  SECTION("an image within both bounds still catches the mismatch (large reference)") {
    server.max_pixels = 1003520;
    const std::string small = write_test_image(dir.path, 320, 240, 0, 0, 1, 1);
    openai_grounder g(config(server.url(), "qwen2.5-vl"));
    CHECK_THROWS_AS(g.ground(q.request(small, {320, 240})), error);
    CHECK(server.requests() == 3);
  }
  SECTION("no usage in the answers: a warning, and the run goes on") {
    server.usage = false;
    std::vector<std::string> warnings;
    openai_config c = config(server.url(), "qwen2.5-vl");
    c.on_warning = [&](const std::string& w) { warnings.push_back(w); };
    openai_grounder g(c);
    CHECK(g.ground(req)[0].status == query_status::ok);
    CHECK(g.frame_check().result == frame_check_result::outcome::unavailable);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("no usage.prompt_tokens") != std::string::npos);
  }
  SECTION("check_frame=false, a cached run, and other families send no check request") {
    server.max_pixels = 200704;
    openai_config c = config(server.url(), "qwen2.5-vl");
    c.check_frame = false;
    c.cache_path = (dir.path / "cache.jsonl").string();
    {
      openai_grounder g(c);
      (void)g.ground(req);
      CHECK(server.requests() == 1);
    }
    c.check_frame = true;
    openai_grounder cached(c);
    (void)cached.ground(req);  // every answer is in the cache: the server is not needed
    CHECK(server.requests() == 1);
    CHECK(cached.frame_check().result == frame_check_result::outcome::not_run);
    openai_grounder qwen3(config(server.url(), "qwen3-vl"));  // 0-1000: no frame to check
    (void)qwen3.ground(req);
    CHECK(qwen3.frame_check().result == frame_check_result::outcome::not_applicable);
    CHECK(server.requests() == 2);
  }
}
