// SPDX-License-Identifier: Apache-2.0
// Fuzzes what the OpenAI-compatible grounder reads from outside (grounders/http/
// openai_grounder.hpp): the chat-completions response body (decode_chat_completion, documented
// never to throw) followed by the box parser of the answer's family, and the same bytes as an
// answer-cache file (answer_cache, which ignores torn or foreign lines; groundeval::error only
// for an unopenable file).
#include "fuzz_util.hpp"

#include <groundeval/grounders/http/openai_grounder.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = groundeval_fuzz::as_text(data, size);
  groundeval::openai_answer a;
  const std::string why = groundeval::decode_chat_completion(body, a);
  if (why.empty()) {
    static const groundeval::geometry g = groundeval::family_geometry("qwen2.5-vl", {640, 480});
    (void)groundeval::parse_answer("qwen2.5-vl", a.raw_text, g);
  }
  const std::string path = groundeval_fuzz::scratch().write("cache.jsonl", body);
  groundeval::answer_cache cache(path);
  (void)cache.find("k");
  return 0;
}
