#pragma once
// NDArrayOf<E>: an NDArray sample field whose element type is part of the
// struct, e.g. `atdata::NDArrayOf<float> features;`. It packs exactly like
// NDArray; what it adds is that the schema says "float32" (what Python's
// `NDArray[np.float32]` annotation publishes) and that unpacking refuses an
// array of another element type with a SchemaError naming the field, instead
// of surprising the caller later at view<E>().

#include <span>
#include <string>
#include <string_view>

#include "atdata/core/dtype.hpp"
#include "atdata/core/ndarray.hpp"
#include "atdata/core/sample.hpp"

namespace atdata {

template <class E>
class NDArrayOf : public NDArray {
 public:
  NDArrayOf() = default;
  // Throws TypeError when `a` holds another element type (either byte order is fine).
  NDArrayOf(NDArray a) : NDArray(std::move(a)) {
    if (!matches(dtype())) {
      throw TypeError("NDArrayOf<" + element_dtype().name() + ">: got an array of " + dtype().name());
    }
  }

  static Dtype element_dtype() noexcept { return Dtype::of<E>(); }
  static bool matches(const Dtype& d) noexcept { return d.kind() == element_dtype().kind(); }

  // Typed view (see NDArray::view for the native-order/alignment rules).
  std::span<const E> values() const { return view<E>(); }
};

template <class E>
struct FieldCodec<NDArrayOf<E>> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::ndarray(NDArrayOf<E>::element_dtype().name()); }
  static void write(msgpack::Writer& w, const NDArrayOf<E>& v) {
    FieldCodec<NDArray>::write(w, static_cast<const NDArray&>(v));
  }
  static void read(msgpack::Reader& r, NDArrayOf<E>& out, std::string_view field) {
    FieldCodec<NDArray>::read(r, static_cast<NDArray&>(out), field);
    if (!NDArrayOf<E>::matches(out.dtype())) {
      throw SchemaError(std::string(field), "expected an ndarray of " + NDArrayOf<E>::element_dtype().name() +
                                                ", got " + out.dtype().name());
    }
  }
};

}  // namespace atdata
