// SPDX-License-Identifier: Apache-2.0
// python/src/module.cpp — the groundeval._core extension module: registers the bound concepts
// and turns groundeval::error into Python exceptions (the Python package re-exports them).
#include "common.hpp"

#include <groundeval/config.hpp>
#include <groundeval/error.hpp>

namespace nb = nanobind;

NB_MODULE(_core, m) {
  m.doc() = "groundeval's compiled core (C++ library bindings); use the groundeval package.";
  m.attr("version") = groundeval::version_string;
#if defined(GROUNDEVAL_PYTHON_HAS_CUDA)
  m.attr("built_with_cuda") = true;
#else
  m.attr("built_with_cuda") = false;
#endif
  // groundeval::error -> groundeval._core.Error, a subclass of groundeval.Error (a ValueError: bad
  // input or options; I/O problems too, with the file named in the message); args[1] is the kind.
  static nb::exception<groundeval::error> exc(
      m, "Error", nb::module_::import_("groundeval._errors").attr("Error"));
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const groundeval::error& e) {
      nb::object kind = nb::str(std::string(groundeval::to_string(e.kind())).c_str());
      nb::object args = nb::make_tuple(nb::str(e.what()), kind);
      PyErr_SetObject(exc.ptr(), args.ptr());
    }
  });
  groundeval::python::bind_boxes(m);
  groundeval::python::bind_data(m);
  groundeval::python::bind_parse(m);
  groundeval::python::bind_run(m);
#if defined(GROUNDEVAL_PYTHON_HAS_CUDA)
  groundeval::python::bind_cuda(m);
#endif
}
