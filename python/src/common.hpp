#pragma once
// Shared by the translation units of the extension module. Each init_*
// registers one part of the module; the split keeps each unit's pybind11
// template load small enough to build on two cores.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "atdata/core/ndarray.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/core/value.hpp"

namespace atdata::python {

namespace py = pybind11;

void init_errors(py::module_& m);
void init_dataset(py::module_& m);
void init_atmosphere(py::module_& m);
void init_catalogue(py::module_& m);

// A numpy array over the NDArray's bytes (no copy); the array's base owns a
// copy of the NDArray handle, which keeps the storage alive. Read-only unless
// `writeable` (only for storage the caller knows is private, such as a
// freshly stacked batch array).
py::array ndarray_to_numpy(const NDArray& a, bool writeable);
// A copy of a numpy array (any layout or byte order) as an NDArray.
NDArray numpy_to_ndarray(const py::array& a);

// Value ↔ Python: None, bool, int, float, str, bytes, numpy array (a view,
// read-only), list, dict.
py::object value_to_py(const Value& v);
Value py_to_value(const py::handle& h);

// JSON through Python's json module: records cross the boundary as dicts.
boost::json::value py_to_json(const py::handle& h);
py::object json_to_py(const boost::json::value& v);

// The Python field description of a schema: [(name, type, optional)], type
// being "str" | "int" | "float" | "bool" | "bytes" | "any" |
// ("ndarray", dtype) | ("list", type-or-None).
py::list schema_fields_to_py(const SampleSchema& s);
SampleSchema schema_from_py(const std::string& name, const py::list& fields, const std::string& version);

}  // namespace atdata::python
