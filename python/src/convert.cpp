// Conversions between the library's values and Python objects.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstring>
#include <vector>

#include "atdata/error.hpp"
#include "common.hpp"

namespace atdata::python {

py::array ndarray_to_numpy(const NDArray& a, bool writeable) {
  const auto shape = a.shape();
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  std::vector<py::ssize_t> strides(dims.size());
  py::ssize_t step = static_cast<py::ssize_t>(a.dtype().itemsize());
  for (std::size_t i = dims.size(); i-- > 0;) {
    strides[i] = step;
    step *= dims[i];
  }
  // The handle copy shares the storage's owner: the array outlives the batch.
  auto* keep = new NDArray(a);
  py::capsule base(keep, [](void* p) { delete static_cast<NDArray*>(p); });
  py::array out(py::dtype(a.dtype().str()), std::move(dims), std::move(strides),
                static_cast<const void*>(a.bytes().data()), base);
  if (!writeable) py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

NDArray numpy_to_ndarray(const py::array& in) {
  // ascontiguousarray keeps the byte order; the .npy header records it.
  py::array a = py::module_::import("numpy").attr("ascontiguousarray")(in);
  const std::string descr = py::str(a.dtype().attr("str"));
  std::vector<std::int64_t> shape(a.shape(), a.shape() + a.ndim());
  const auto* p = static_cast<const std::byte*>(a.data());
  return NDArray::copy_of(Dtype::parse(descr), shape,
                          std::span<const std::byte>(p, static_cast<std::size_t>(a.nbytes())));
}

py::object value_to_py(const Value& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::nullptr_t>) {
          return py::none();
        } else if constexpr (std::is_same_v<X, bool>) {
          return py::bool_(x);
        } else if constexpr (std::is_same_v<X, std::int64_t>) {
          return py::reinterpret_steal<py::object>(PyLong_FromLongLong(x));
        } else if constexpr (std::is_same_v<X, std::uint64_t>) {
          return py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(x));
        } else if constexpr (std::is_same_v<X, double>) {
          return py::float_(x);
        } else if constexpr (std::is_same_v<X, std::string>) {
          return py::str(x);
        } else if constexpr (std::is_same_v<X, Bytes>) {
          auto s = x.span();
          return py::bytes(reinterpret_cast<const char*>(s.data()), s.size());
        } else if constexpr (std::is_same_v<X, NDArray>) {
          return ndarray_to_numpy(x, false);
        } else if constexpr (std::is_same_v<X, List>) {
          py::list out(x.size());
          for (std::size_t i = 0; i < x.size(); ++i) out[i] = value_to_py(x[i]);
          return out;
        } else {
          py::dict out;
          for (const auto& [k, e] : x) out[py::str(k)] = value_to_py(e);
          return out;
        }
      },
      v.storage());
}

Value py_to_value(const py::handle& h) {
  if (h.is_none()) return Value();
  if (PyBool_Check(h.ptr())) return Value(h.ptr() == Py_True);
  if (PyLong_Check(h.ptr())) {
    int overflow = 0;
    const long long s = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (overflow == 0) return Value(static_cast<std::int64_t>(s));
    const unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      throw TypeError("integer out of the 64-bit range: " + std::string(py::str(h)));
    }
    return Value(static_cast<std::uint64_t>(u));
  }
  if (PyFloat_Check(h.ptr())) return Value(PyFloat_AsDouble(h.ptr()));
  if (PyUnicode_Check(h.ptr())) return Value(h.cast<std::string>());
  if (PyBytes_Check(h.ptr()) || PyByteArray_Check(h.ptr()) || PyMemoryView_Check(h.ptr())) {
    py::bytes b = py::reinterpret_steal<py::bytes>(PyBytes_FromObject(h.ptr()));
    if (!b) throw py::error_already_set();
    std::string_view s = static_cast<std::string_view>(b);
    return Value(Bytes::copy_of(s));
  }
  if (py::isinstance<py::array>(h)) return Value(numpy_to_ndarray(py::reinterpret_borrow<py::array>(h)));
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr())) {
    List out;
    for (auto e : h) out.push_back(py_to_value(e));
    return Value(std::move(out));
  }
  if (PyDict_Check(h.ptr())) {
    Map out;
    for (auto [k, e] : py::reinterpret_borrow<py::dict>(h)) {
      if (!PyUnicode_Check(k.ptr()))
        throw TypeError("map keys must be str, not " + std::string(py::str(k.get_type())));
      out.emplace_back(k.cast<std::string>(), py_to_value(e));
    }
    return Value(std::move(out));
  }
  throw TypeError("cannot store a value of type " + std::string(py::str(h.get_type().attr("__name__"))) +
                  " in a sample (supported: None, bool, int, float, str, bytes, numpy arrays, lists, dicts)");
}

boost::json::value py_to_json(const py::handle& h) {
  const std::string text = py::str(py::module_::import("json").attr("dumps")(h));
  return boost::json::parse(text);
}

py::object json_to_py(const boost::json::value& v) {
  return py::module_::import("json").attr("loads")(boost::json::serialize(v));
}

namespace {

py::object type_to_py(const FieldType& t) {
  switch (t.kind) {
    case FieldKind::ndarray:
      return py::make_tuple("ndarray", t.dtype);
    case FieldKind::list:
      return py::make_tuple("list", t.items ? type_to_py(*t.items) : py::object(py::none()));
    default:
      return py::str(to_string(t.kind));
  }
}

FieldType type_from_py(const py::handle& h, const std::string& field) {
  if (PyUnicode_Check(h.ptr())) {
    const auto name = h.cast<std::string>();
    if (name == "any") return FieldType::any();
    if (name == "ndarray") return FieldType::ndarray();
    if (auto k = primitive_kind_from_name(name)) return FieldType::primitive(*k);
    throw SchemaError(field, "unknown field type '" + name + "'");
  }
  if (PyTuple_Check(h.ptr()) && py::len(h) == 2) {
    auto t = py::reinterpret_borrow<py::tuple>(h);
    const auto tag = t[0].cast<std::string>();
    if (tag == "ndarray")
      return FieldType::ndarray(t[1].is_none() ? std::string("float32") : t[1].cast<std::string>());
    if (tag == "list")
      return t[1].is_none() ? FieldType::list_of_any() : FieldType::list(type_from_py(t[1], field));
  }
  throw SchemaError(field, "bad field type description " + std::string(py::repr(h)));
}

}  // namespace

py::list schema_fields_to_py(const SampleSchema& s) {
  py::list out;
  for (const auto& f : s.fields()) out.append(py::make_tuple(f.name, type_to_py(f.type), f.optional));
  return out;
}

SampleSchema schema_from_py(const std::string& name, const py::list& fields, const std::string& version) {
  std::vector<FieldDef> defs;
  for (auto f : fields) {
    auto t = f.cast<py::tuple>();
    FieldDef d;
    d.name = t[0].cast<std::string>();
    d.type = type_from_py(t[1], d.name);
    d.optional = t.size() > 2 && t[2].cast<bool>();
    defs.push_back(std::move(d));
  }
  return SampleSchema(name, std::move(defs), version);
}

}  // namespace atdata::python
