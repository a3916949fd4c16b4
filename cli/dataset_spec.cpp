// SPDX-License-Identifier: Apache-2.0
// cli/dataset_spec.cpp — loading the data set named by --dataset SPEC.
#include "dataset_spec.hpp"

#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/error.hpp>

#include <filesystem>

namespace groundeval::cli {

loaded_dataset load_dataset_spec(const std::string& spec, const std::string& split) {
  loaded_dataset out;
  out.description = spec;
  const auto colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? std::string() : spec.substr(0, colon);
  const std::string path = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (kind == "flickr30k") {
    flickr30k_options o;
    o.root = path;
    o.split = split;
    for (const char* d : {GROUNDEVAL_SOURCE_DATA_DIR, GROUNDEVAL_INSTALL_DATA_DIR})
      if (std::filesystem::exists(std::filesystem::path(d) / "flickr30k_entities")) {
        o.data_dir = d;
        break;
      }
    out.dataset = load_flickr30k_entities(o);
    out.split = split;
    return out;
  }
  if (kind == "mdetr") {
    out.dataset = load_mdetr_annotations(path);
    out.split = "(from the file)";
    return out;
  }
  throw error(error_kind::config,
              "--dataset '" + spec + "': expected flickr30k:DIR or mdetr:FILE.json");
}

}  // namespace groundeval::cli
