// SPDX-License-Identifier: Apache-2.0
// Consumer of groundeval (installed, add_subdirectory or FetchContent): computes one IoU through
// the core headers, checks the version and, when the components were requested, touches TinyXML2,
// the MDETR loader and the CUDA entry points (device count only, so it runs without a GPU).
#include <groundeval/groundeval.hpp>

#include <cstdio>
#include <cstring>
#include <vector>
#if defined(CONSUMER_USES_XML)
#include <tinyxml2.h>
#endif
#if defined(CONSUMER_USES_JSON)
#include <groundeval/datasets/json/mdetr.hpp>  // simdjson + nlohmann/json

#include <fstream>
#include <string>
#endif

int main() {
  using groundeval::box_xyxy;
  const std::vector<box_xyxy<float>> a{{0, 0, 2, 2}}, b{{1, 0, 3, 2}, {0, 0, 2, 2}};
  std::vector<float> out(2);
  groundeval::pairwise_iou<float>(a, b, out);
  std::printf("consumer: groundeval %s, iou = %.4f %.4f\n", groundeval::version_string, out[0],
              out[1]);
  int ok = (out[0] > 0.333f && out[0] < 0.334f && out[1] == 1.0f);
  // the one version source: the project version of groundeval's CMakeLists.txt
  ok = ok && std::strcmp(groundeval::version_string, CONSUMER_EXPECTED_VERSION) == 0;
#if defined(CONSUMER_USES_XML)
  tinyxml2::XMLDocument doc;
  ok = ok && doc.Parse("<size><width>5</width></size>") == tinyxml2::XML_SUCCESS;
  std::printf("consumer: xml component linked\n");
#endif
#if defined(CONSUMER_USES_JSON)
  {
    const std::string path = "consumer_refcoco.json";
    std::ofstream(path)
        << R"({"images": [{"id": 1, "file_name": "COCO_1.jpg", "caption": "the dog",)"
           R"( "width": 10, "height": 10}], "annotations": [{"image_id": 1,)"
           R"( "bbox": [1, 2, 3, 4]}]})";
    const auto ds = groundeval::load_mdetr_annotations(path);
    ok = ok && ds.size() == 1 && ds[0].phrases.size() == 1 && ds[0].phrases[0].boxes.size() == 1;
    std::printf("consumer: json component linked (simdjson MDETR loader)\n");
  }
#endif
#if defined(CONSUMER_USES_CUDA)
  std::printf("consumer: cuda component linked, %d CUDA device(s)\n",
              groundeval::cuda::device_count());
#endif
  return ok ? 0 : 1;
}
