// SPDX-License-Identifier: Apache-2.0
// Every public header in one translation unit (core umbrella plus every optional part): catches
// name clashes and duplicate definitions between parts that the one-header-per-TU check cannot.
#include <groundeval/groundeval.hpp>

#include <groundeval/datasets/json/mdetr.hpp>
#include <groundeval/datasets/xml/flickr30k_entities.hpp>
#include <groundeval/grounders/interop/npy_detector.hpp>
#include <groundeval/interop/eigen.hpp>
#include <groundeval/interop/npy.hpp>
#include <groundeval/interop/xtensor.hpp>
// Last: cpp-httplib pulls in glibc's <resolv.h>, whose `_res` macro breaks Eigen's headers when
// they come after it (a known clash between those two libraries, not specific to groundeval).
#include <groundeval/grounders/http/openai_grounder.hpp>
#include <groundeval/io/json/predictions.hpp>
#include <groundeval/io/stb/image_stb.hpp>
#include <groundeval/report/png/overlay.hpp>

int main() { return 0; }
