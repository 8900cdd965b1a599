#pragma once
// Compile-time sample types: a plain struct described with Boost.Describe
//
//   struct ImageSample {
//     atdata::NDArray image;
//     std::string label;
//     std::optional<double> score;
//   };
//   BOOST_DESCRIBE_STRUCT(ImageSample, (), (image, label, score))
//
// packs to exactly the bytes Python `sample.packed` produces (one msgpack
// map, public members in declaration order, base-class members first; see
// docs/format.md) and unpacks from any packed map with the same field names.
//
// Field kinds (C++ type → wire):
//   std::string                   str
//   any integer type              int (smallest family; range-checked on read)
//   float / double                float64 (float32 and ints accepted on read)
//   bool                          bool
//   atdata::Bytes (=SharedBytes)  bin; zero-copy slice on read
//   std::vector<std::byte>        bin; owning copy
//   atdata::NDArray               bin holding .npy v1.0 (reads .npy and compact)
//   std::vector<T>                array of T (list[T])
//   std::optional<T>              nil or T; may be missing on read
//   atdata::Value                 anything (decoded generically)
//
// Decoding: map order is irrelevant; an unknown key, a
// missing non-optional field or a value of the wrong kind is a SchemaError
// naming the field; malformed msgpack is a DecodeError with the byte offset.
// unpack() from a SharedBytes makes NDArray and Bytes fields zero-copy views
// into it; unpack_into() reuses the target's string/vector capacity, so the
// steady-state decode of {NDArray, int, short string} does no heap allocation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/core/type_name.hpp>
#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/mp11/algorithm.hpp>

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/msgpack.hpp"
#include "atdata/core/ndarray.hpp"
#include "atdata/core/npy.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/core/value.hpp"
#include "atdata/error.hpp"

namespace atdata {

template <class T>
concept DescribedSample = std::is_class_v<T> && boost::describe::has_describe_members<T>::value;

// Per-C++-type wire codec for one field. Specialize it to add field kinds:
//   static constexpr bool optional;             may be null / missing
//   static FieldType type();                    for schema_of<T>()
//   static void write(msgpack::Writer&, const V&);
//   static void read(msgpack::Reader&, V& out, std::string_view field);
template <class V>
struct FieldCodec {
  static_assert(sizeof(V) == 0,
                "atdata: unsupported sample field type (see include/atdata/core/sample.hpp for the kinds)");
};

namespace detail {
// Cold error paths (out of line: keep the decode loop small).
[[noreturn]] void throw_field_type(std::string_view field, const char* expected, const msgpack::Reader& r);
[[noreturn]] void throw_field_range(std::string_view field, const msgpack::Integer& v, const char* ctype);
[[noreturn]] void throw_field_array(std::string_view field, const DecodeError& e, std::size_t bin_offset);
[[noreturn]] void throw_unknown_field(std::string_view key);
[[noreturn]] void throw_missing_field(std::string_view field);
[[noreturn]] void throw_key_not_str(const msgpack::Reader& r);

// decode_array() memoized on the header bytes: consecutive samples of a
// stream almost always carry byte-identical .npy headers, and parsing the
// header text dominates decode time. On a hit the array is the same
// zero-copy view decode_array() would return (the parse is a pure function of
// the header bytes, and the data length is re-checked); the memo is
// thread_local, so there is no sharing or locking.
NDArray decode_array_memo(const SharedBytes& bin);

template <class T>
constexpr const char* int_type_name() noexcept {
  if constexpr (std::is_signed_v<T>) {
    return sizeof(T) == 1 ? "int8" : sizeof(T) == 2 ? "int16" : sizeof(T) == 4 ? "int32" : "int64";
  } else {
    return sizeof(T) == 1 ? "uint8" : sizeof(T) == 2 ? "uint16" : sizeof(T) == 4 ? "uint32" : "uint64";
  }
}
}  // namespace detail

template <>
struct FieldCodec<std::string> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::str); }
  static void write(msgpack::Writer& w, const std::string& v) { w.write_str(v); }
  static void read(msgpack::Reader& r, std::string& out, std::string_view field) {
    if (r.peek() != msgpack::Type::str) detail::throw_field_type(field, "str", r);
    const auto s = r.read_str();
    out.assign(s.data(), s.size());
  }
};

template <class I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) struct FieldCodec<I> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::int_); }
  static void write(msgpack::Writer& w, I v) { w.write_integer(v); }
  static void read(msgpack::Reader& r, I& out, std::string_view field) {
    if (r.peek() != msgpack::Type::integer) detail::throw_field_type(field, "int", r);
    const auto v = r.read_integer();
    if (auto x = v.template as<I>()) {
      out = *x;
    } else {
      detail::throw_field_range(field, v, detail::int_type_name<I>());
    }
  }
};

template <class F>
requires std::is_floating_point_v<F>
struct FieldCodec<F> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::float_); }
  static void write(msgpack::Writer& w, F v) { w.write_double(static_cast<double>(v)); }
  static void read(msgpack::Reader& r, F& out, std::string_view field) {
    switch (r.peek()) {
      case msgpack::Type::float32:
      case msgpack::Type::float64:
        out = static_cast<F>(r.read_double());
        return;
      case msgpack::Type::integer: {  // Python allows an int in a float field
        const auto v = r.read_integer();
        out = v.negative ? static_cast<F>(v.as_signed_unchecked()) : static_cast<F>(v.bits);
        return;
      }
      default:
        detail::throw_field_type(field, "float", r);
    }
  }
};

template <>
struct FieldCodec<bool> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::bool_); }
  static void write(msgpack::Writer& w, bool v) { w.write_bool(v); }
  static void read(msgpack::Reader& r, bool& out, std::string_view field) {
    if (r.peek() != msgpack::Type::boolean) detail::throw_field_type(field, "bool", r);
    out = r.read_bool();
  }
};

template <>
struct FieldCodec<Bytes> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::bytes); }
  static void write(msgpack::Writer& w, const Bytes& v) { w.write_bin(v.span()); }
  static void read(msgpack::Reader& r, Bytes& out, std::string_view field) {
    if (r.peek() != msgpack::Type::bin) detail::throw_field_type(field, "bin (bytes)", r);
    out = r.read_bin_shared();
  }
};

template <>
struct FieldCodec<std::vector<std::byte>> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::primitive(FieldKind::bytes); }
  static void write(msgpack::Writer& w, const std::vector<std::byte>& v) { w.write_bin(v); }
  static void read(msgpack::Reader& r, std::vector<std::byte>& out, std::string_view field) {
    if (r.peek() != msgpack::Type::bin) detail::throw_field_type(field, "bin (bytes)", r);
    const auto b = r.read_bin();
    out.assign(b.begin(), b.end());
  }
};

template <>
struct FieldCodec<NDArray> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::ndarray(); }
  static void write(msgpack::Writer& w, const NDArray& v) {
    w.write_bin_header(npy::encoded_size(v));
    npy::encode_into(v, w.buffer());
  }
  static void read(msgpack::Reader& r, NDArray& out, std::string_view field) {
    if (r.peek() != msgpack::Type::bin) detail::throw_field_type(field, "bin (ndarray)", r);
    const auto start = r.offset();
    const auto b = r.read_bin();
    try {
      out = detail::decode_array_memo(r.share(b));
    } catch (const DecodeError& e) {
      detail::throw_field_array(field, e, start);
    }
  }
};

template <>
struct FieldCodec<Value> {
  static constexpr bool optional = true;  // null is a Value
  static FieldType type() { return FieldType::any(); }
  static void write(msgpack::Writer& w, const Value& v) { msgpack::write_value(w, v); }
  static void read(msgpack::Reader& r, Value& out, std::string_view) { out = msgpack::read_value(r); }
  static void reset(Value& v) { v = Value(); }
};

template <class E, class A>
requires(!std::is_same_v<E, std::byte>) struct FieldCodec<std::vector<E, A>> {
  static constexpr bool optional = false;
  static FieldType type() { return FieldType::list(FieldCodec<E>::type()); }
  static void write(msgpack::Writer& w, const std::vector<E, A>& v) {
    w.write_array_header(v.size());
    for (const auto& e : v) {
      if constexpr (std::is_same_v<E, bool>) {
        FieldCodec<bool>::write(w, static_cast<bool>(e));
      } else {
        FieldCodec<E>::write(w, e);
      }
    }
  }
  static void read(msgpack::Reader& r, std::vector<E, A>& out, std::string_view field) {
    if (r.peek() != msgpack::Type::array) detail::throw_field_type(field, "array (list)", r);
    const auto n = r.read_array_header();  // bounded by the remaining bytes
    // Reuse existing elements (and their capacity); beyond them, grow as
    // elements actually decode rather than trusting the wire count.
    if (n < out.size()) out.resize(n);
    const std::size_t reuse = out.size();
    if (n > reuse) out.reserve(reuse + msgpack::reserve_hint(n - reuse));
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i >= reuse) out.emplace_back();
      if constexpr (std::is_same_v<E, bool>) {
        bool b = false;
        FieldCodec<bool>::read(r, b, field);
        out[i] = b;
      } else {
        FieldCodec<E>::read(r, out[i], field);
      }
    }
  }
};

template <class E>
struct FieldCodec<std::optional<E>> {
  static constexpr bool optional = true;
  static FieldType type() { return FieldCodec<E>::type(); }
  static void write(msgpack::Writer& w, const std::optional<E>& v) {
    if (v) {
      FieldCodec<E>::write(w, *v);
    } else {
      w.write_nil();
    }
  }
  static void read(msgpack::Reader& r, std::optional<E>& out, std::string_view field) {
    if (r.peek() == msgpack::Type::nil) {
      r.read_nil();
      out.reset();
      return;
    }
    if (!out) out.emplace();
    FieldCodec<E>::read(r, *out, field);
  }
  static void reset(std::optional<E>& v) { v.reset(); }
};

// ---- per-type member tables ------------------------------------------------

namespace detail {

template <class T>
using members_t =
    boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;

template <class T>
inline constexpr std::size_t member_count = boost::mp11::mp_size<members_t<T>>::value;

template <class P>
struct member_pointer_traits;
template <class C, class M>
struct member_pointer_traits<M C::*> {
  using type = M;
};
template <class D>
using member_of = typename member_pointer_traits<std::remove_cv_t<decltype(D::pointer)>>::type;

template <class T>
constexpr std::array<std::string_view, member_count<T>> make_member_names() {
  std::array<std::string_view, member_count<T>> a{};
  std::size_t i = 0;
  boost::mp11::mp_for_each<members_t<T>>([&](auto d) { a[i++] = std::string_view(decltype(d)::name); });
  return a;
}
template <class T>
inline constexpr auto member_names = make_member_names<T>();

// Field index for a key, or member_count<T>. Tries `hint` first: maps written
// by atdata are in declaration order, so the first probe nearly always hits.
template <class T>
inline std::size_t find_member(std::string_view key, std::size_t hint) noexcept {
  constexpr auto& names = member_names<T>;
  if (hint < names.size() && names[hint].size() == key.size() &&
      std::memcmp(names[hint].data(), key.data(), key.size()) == 0) {
    return hint;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].size() == key.size() && std::memcmp(names[i].data(), key.data(), key.size()) == 0) return i;
  }
  return names.size();
}

// Index of a member pointer among the described members (compile time).
template <class T, auto Member>
constexpr std::size_t member_index() {
  std::size_t idx = member_count<T>;
  std::size_t i = 0;
  boost::mp11::mp_for_each<members_t<T>>([&](auto d) {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(decltype(d)::pointer)>, decltype(Member)>) {
      if (decltype(d)::pointer == Member) idx = i;
    }
    ++i;
  });
  return idx;
}

}  // namespace detail

// Field names in packing order (declaration order, bases first).
template <DescribedSample T>
constexpr std::span<const std::string_view> field_names() noexcept {
  return detail::member_names<T>;
}

// ---- pack / unpack -----------------------------------------------------------

// Appends the packed sample to `out` (Python `sample.packed` bytes).
template <DescribedSample T>
void pack_into(const T& sample, std::vector<std::byte>& out) {
  msgpack::Writer w(out);
  w.write_map_header(detail::member_count<T>);
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<detail::member_count<T>>>([&](auto I) {
    using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
    w.write_str(detail::member_names<T>[I]);
    FieldCodec<detail::member_of<D>>::write(w, sample.*D::pointer);
  });
}

template <DescribedSample T>
std::vector<std::byte> pack(const T& sample) {
  std::vector<std::byte> out;
  pack_into(sample, out);
  return out;
}

// Decodes one packed map from the reader into `out` (every field assigned;
// optional fields missing from the map become nullopt).
template <DescribedSample T>
void unpack_from(msgpack::Reader& r, T& out) {
  constexpr std::size_t N = detail::member_count<T>;
  const auto n = r.read_map_header();
  std::array<bool, N> seen{};
  for (std::uint32_t e = 0; e < n; ++e) {
    if (r.peek() != msgpack::Type::str) detail::throw_key_not_str(r);
    const auto key = r.read_str();
    const std::size_t idx = detail::find_member<T>(key, e);
    if (idx == N) detail::throw_unknown_field(key);
    if constexpr (N > 0) {
      seen[idx] = true;
      boost::mp11::mp_with_index<N>(idx, [&](auto I) {
        using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
        FieldCodec<detail::member_of<D>>::read(r, out.*D::pointer, detail::member_names<T>[I]);
      });
    }
  }
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<N>>([&](auto I) {
    if (seen[I]) return;
    using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
    using C = FieldCodec<detail::member_of<D>>;
    if constexpr (C::optional) {
      C::reset(out.*D::pointer);
    } else {
      detail::throw_missing_field(detail::member_names<T>[I]);
    }
  });
}

// Zero-copy: NDArray/Bytes fields share `packed`'s owner. Reuses `out`'s
// storage (strings, vectors), so a loop decoding into one object allocates
// nothing once warmed up.
template <DescribedSample T>
void unpack_into(const SharedBytes& packed, T& out) {
  msgpack::Reader r(packed);
  unpack_from(r, out);
  r.expect_end();
}
// From unowned bytes: NDArray/Bytes fields are owning copies.
template <DescribedSample T>
void unpack_into(std::span<const std::byte> packed, T& out) {
  msgpack::Reader r(packed);
  unpack_from(r, out);
  r.expect_end();
}

template <DescribedSample T>
T unpack(const SharedBytes& packed) {
  T out{};
  unpack_into(packed, out);
  return out;
}
template <DescribedSample T>
T unpack(std::span<const std::byte> packed) {
  T out{};
  unpack_into(packed, out);
  return out;
}

// The bare type name ("ImageSample", no namespace): the default schema name
// and the sample type named in SampleError. Builds a string: call it on
// cold paths only.
template <DescribedSample T>
std::string sample_type_name() {
  std::string name = boost::core::type_name<T>();
  if (const auto p = name.rfind("::"); p != std::string::npos) name.erase(0, p + 2);
  return name;
}

// The run-time schema of a described struct. `name` defaults to the bare
// type name ("ImageSample", no namespace), as Python's publisher does.
// NDArray fields get dtype "float32" (the publisher's default; the C++ type
// does not carry a dtype).
template <DescribedSample T>
SampleSchema schema_of(std::string name = {}, std::string version = "1.0.0") {
  if (name.empty()) name = sample_type_name<T>();
  std::vector<FieldDef> fields;
  fields.reserve(detail::member_count<T>);
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<detail::member_count<T>>>([&](auto I) {
    using D = boost::mp11::mp_at_c<detail::members_t<T>, I>;
    using C = FieldCodec<detail::member_of<D>>;
    fields.push_back(FieldDef{std::string(detail::member_names<T>[I]), C::type(), C::optional});
  });
  return SampleSchema(std::move(name), std::move(fields), std::move(version));
}

}  // namespace atdata
