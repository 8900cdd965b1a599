#include "atdata/core/value.hpp"

#include <cstdio>
#include <cstring>

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/npy.hpp"

namespace atdata {

const char* to_string(ValueKind k) noexcept {
  switch (k) {
    case ValueKind::null:
      return "null";
    case ValueKind::boolean:
      return "bool";
    case ValueKind::integer:
      return "int";
    case ValueKind::floating:
      return "float";
    case ValueKind::str:
      return "str";
    case ValueKind::bytes:
      return "bytes";
    case ValueKind::ndarray:
      return "ndarray";
    case ValueKind::list:
      return "list";
    case ValueKind::map:
      return "map";
  }
  return "?";
}

ValueKind Value::kind() const noexcept {
  switch (v_.index()) {
    case 0:
      return ValueKind::null;
    case 1:
      return ValueKind::boolean;
    case 2:
    case 3:
      return ValueKind::integer;
    case 4:
      return ValueKind::floating;
    case 5:
      return ValueKind::str;
    case 6:
      return ValueKind::bytes;
    case 7:
      return ValueKind::ndarray;
    case 8:
      return ValueKind::list;
    default:
      return ValueKind::map;
  }
}

void Value::throw_kind(const char* expected) const {
  throw TypeError(std::string("expected ") + expected + ", got " + to_string(kind()));
}

bool Value::as_bool() const {
  if (const auto* p = std::get_if<bool>(&v_)) return *p;
  throw_kind("bool");
}
msgpack::Integer Value::as_integer() const {
  if (const auto* p = std::get_if<std::int64_t>(&v_)) return {static_cast<std::uint64_t>(*p), *p < 0};
  if (const auto* p = std::get_if<std::uint64_t>(&v_)) return {*p, false};
  throw_kind("int");
}
std::int64_t Value::as_int() const {
  return get<std::int64_t>();
}
std::uint64_t Value::as_uint() const {
  return get<std::uint64_t>();
}
double Value::as_double() const {
  if (const auto* p = std::get_if<double>(&v_)) return *p;
  if (const auto* p = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*p);
  if (const auto* p = std::get_if<std::uint64_t>(&v_)) return static_cast<double>(*p);
  throw_kind("float");
}
const std::string& Value::as_str() const {
  if (const auto* p = std::get_if<std::string>(&v_)) return *p;
  throw_kind("str");
}
const Bytes& Value::as_bytes() const {
  if (const auto* p = std::get_if<Bytes>(&v_)) return *p;
  throw_kind("bytes");
}
const NDArray& Value::as_ndarray() const {
  if (const auto* p = std::get_if<NDArray>(&v_)) return *p;
  throw_kind("ndarray");
}
const List& Value::as_list() const {
  if (const auto* p = std::get_if<List>(&v_)) return *p;
  throw_kind("list");
}
List& Value::as_list() {
  if (auto* p = std::get_if<List>(&v_)) return *p;
  throw_kind("list");
}
const Map& Value::as_map() const {
  if (const auto* p = std::get_if<Map>(&v_)) return *p;
  throw_kind("map");
}
Map& Value::as_map() {
  if (auto* p = std::get_if<Map>(&v_)) return *p;
  throw_kind("map");
}

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_map()) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool operator==(const Value& a, const Value& b) noexcept {
  if (a.v_.index() != b.v_.index()) return false;
  // Doubles compare by bits so that NaN == NaN and -0.0 != 0.0: round-trip
  // tests need exactness, not IEEE equality.
  if (const auto* p = std::get_if<double>(&a.v_)) {
    return std::bit_cast<std::uint64_t>(*p) == std::bit_cast<std::uint64_t>(std::get<double>(b.v_));
  }
  return a.v_ == b.v_;
}

namespace detail {
void throw_int_range(const msgpack::Integer& v, const char* target) {
  const std::string s = v.negative ? std::to_string(v.as_signed_unchecked()) : std::to_string(v.bits);
  throw TypeError("integer " + s + " does not fit in " + target);
}
}  // namespace detail

namespace {

void display(const Value& v, std::string& out) {
  switch (v.kind()) {
    case ValueKind::null:
      out += "null";
      return;
    case ValueKind::boolean:
      out += v.as_bool() ? "true" : "false";
      return;
    case ValueKind::integer: {
      const auto i = v.as_integer();
      out += i.negative ? std::to_string(i.as_signed_unchecked()) : std::to_string(i.bits);
      return;
    }
    case ValueKind::floating: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.as_double());
      out += buf;
      return;
    }
    case ValueKind::str: {
      out += '"';
      for (char c : v.as_str()) {
        if (c == '"' || c == '\\') {
          out += '\\';
          out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
      }
      out += '"';
      return;
    }
    case ValueKind::bytes: {
      const auto& b = v.as_bytes();
      out += "b\"";
      const std::size_t n = std::min<std::size_t>(b.size(), 64);
      for (std::size_t i = 0; i < n; ++i) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(b.data()[i]));
        out += buf;
      }
      if (b.size() > n) out += "...(" + std::to_string(b.size()) + " bytes)";
      out += '"';
      return;
    }
    case ValueKind::ndarray:
      out += "ndarray<" + v.as_ndarray().describe() + ">";
      return;
    case ValueKind::list: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out += ", ";
        first = false;
        display(e, out);
      }
      out += ']';
      return;
    }
    case ValueKind::map: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out += ", ";
        first = false;
        display(Value(k), out);
        out += ": ";
        display(e, out);
      }
      out += '}';
      return;
    }
  }
}

Value read_value_at(msgpack::Reader& r, unsigned depth) {
  switch (r.peek()) {
    case msgpack::Type::nil:
      r.read_nil();
      return {};
    case msgpack::Type::boolean:
      return r.read_bool();
    case msgpack::Type::integer:
      return Value(r.read_integer());
    case msgpack::Type::float32:
    case msgpack::Type::float64:
      return r.read_double();
    case msgpack::Type::str:
      return Value(std::string(r.read_str()));
    case msgpack::Type::bin:
      return Value(r.read_bin_shared());
    case msgpack::Type::array: {
      if (depth >= msgpack::Reader::kMaxDepth) {
        throw DecodeError("msgpack: nesting deeper than " + std::to_string(msgpack::Reader::kMaxDepth),
                          r.offset());
      }
      const auto n = r.read_array_header();  // n <= remaining bytes: bounded allocation
      List l;
      l.reserve(msgpack::reserve_hint(n));
      for (std::uint32_t i = 0; i < n; ++i) l.push_back(read_value_at(r, depth + 1));
      return Value(std::move(l));
    }
    case msgpack::Type::map: {
      if (depth >= msgpack::Reader::kMaxDepth) {
        throw DecodeError("msgpack: nesting deeper than " + std::to_string(msgpack::Reader::kMaxDepth),
                          r.offset());
      }
      const auto n = r.read_map_header();
      Map m;
      m.reserve(msgpack::reserve_hint(n));
      for (std::uint32_t i = 0; i < n; ++i) {
        if (r.peek() != msgpack::Type::str) {
          throw DecodeError(std::string("msgpack: map key must be str, got ") + r.peek_name(), r.offset());
        }
        std::string k(r.read_str());
        m.emplace_back(std::move(k), read_value_at(r, depth + 1));
      }
      return Value(std::move(m));
    }
  }
  return {};
}

}  // namespace

std::string to_display_string(const Value& v) {
  std::string out;
  display(v, out);
  return out;
}

namespace msgpack {

Value read_value(Reader& r) {
  return read_value_at(r, 0);
}

void write_value(Writer& w, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::nullptr_t>) {
          w.write_nil();
        } else if constexpr (std::is_same_v<X, bool>) {
          w.write_bool(x);
        } else if constexpr (std::is_same_v<X, std::int64_t>) {
          w.write_int(x);
        } else if constexpr (std::is_same_v<X, std::uint64_t>) {
          w.write_uint(x);
        } else if constexpr (std::is_same_v<X, double>) {
          w.write_double(x);
        } else if constexpr (std::is_same_v<X, std::string>) {
          w.write_str(x);
        } else if constexpr (std::is_same_v<X, Bytes>) {
          w.write_bin(x.span());
        } else if constexpr (std::is_same_v<X, NDArray>) {
          w.write_bin_header(npy::encoded_size(x));
          npy::encode_into(x, w.buffer());
        } else if constexpr (std::is_same_v<X, List>) {
          w.write_array_header(x.size());
          for (const auto& e : x) write_value(w, e);
        } else {
          w.write_map_header(x.size());
          for (const auto& [k, e] : x) {
            w.write_str(k);
            write_value(w, e);
          }
        }
      },
      v.storage());
}

Value unpack_value(const SharedBytes& bytes) {
  Reader r(bytes);
  auto v = read_value(r);
  r.expect_end();
  return v;
}
Value unpack_value(std::span<const std::byte> bytes) {
  Reader r(bytes);
  auto v = read_value(r);
  r.expect_end();
  return v;
}
std::vector<std::byte> pack_value(const Value& v) {
  std::vector<std::byte> out;
  Writer w(out);
  write_value(w, v);
  return out;
}

}  // namespace msgpack
}  // namespace atdata
