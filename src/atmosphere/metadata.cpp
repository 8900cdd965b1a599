#include "atdata/atmosphere/metadata.hpp"

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "atdata/core/msgpack.hpp"
#include "atdata/error.hpp"
#include "atmosphere/base64.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;

namespace {

constexpr unsigned kMaxDepth = msgpack::Reader::kMaxDepth;

void encode_value(msgpack::Writer& w, const json::value& v, unsigned depth) {
  if (depth > kMaxDepth) throw InvalidArgument("metadata is nested more than 64 levels deep");
  switch (v.kind()) {
    case json::kind::null:
      w.write_nil();
      break;
    case json::kind::bool_:
      w.write_bool(v.get_bool());
      break;
    case json::kind::int64:
      w.write_int(v.get_int64());
      break;
    case json::kind::uint64:
      w.write_uint(v.get_uint64());
      break;
    case json::kind::double_:
      w.write_double(v.get_double());
      break;
    case json::kind::string:
      w.write_str(v.get_string());
      break;
    case json::kind::array:
      w.write_array_header(v.get_array().size());
      for (const auto& e : v.get_array()) encode_value(w, e, depth + 1);
      break;
    case json::kind::object:
      w.write_map_header(v.get_object().size());
      for (const auto& kv : v.get_object()) {
        w.write_str(kv.key());
        encode_value(w, kv.value(), depth + 1);
      }
      break;
  }
}

json::value decode_value(msgpack::Reader& r, unsigned depth);

json::object decode_map(msgpack::Reader& r, unsigned depth) {
  const std::uint32_t n = r.read_map_header();
  json::object o;
  o.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::size_t key_at = r.offset();
    std::string key;
    switch (r.peek()) {
      case msgpack::Type::str:
        key = std::string(r.read_str());
        break;
      case msgpack::Type::integer: {
        const msgpack::Integer k = r.read_integer();
        key = k.negative ? std::to_string(k.as_signed_unchecked()) : std::to_string(k.bits);
        break;
      }
      default:
        throw DecodeError(std::string("metadata: map key must be a string, got ") + r.peek_name(), key_at);
    }
    o[key] = decode_value(r, depth + 1);
  }
  return o;
}

json::value decode_value(msgpack::Reader& r, unsigned depth) {
  if (depth > kMaxDepth) throw DecodeError("metadata: nested more than 64 levels deep", r.offset());
  switch (r.peek()) {
    case msgpack::Type::nil:
      r.read_nil();
      return nullptr;
    case msgpack::Type::boolean:
      return r.read_bool();
    case msgpack::Type::integer: {
      const msgpack::Integer k = r.read_integer();
      if (k.negative) return k.as_signed_unchecked();
      if (k.bits <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(k.bits);
      return k.bits;
    }
    case msgpack::Type::float32:
    case msgpack::Type::float64:
      return r.read_double();
    case msgpack::Type::str:
      return json::string(r.read_str());
    case msgpack::Type::bin:
      return json::object{{"$bytes", detail::base64_encode(r.read_bin())}};
    case msgpack::Type::array: {
      const std::uint32_t n = r.read_array_header();
      json::array a;
      a.reserve(n);
      for (std::uint32_t i = 0; i < n; ++i) a.push_back(decode_value(r, depth + 1));
      return a;
    }
    case msgpack::Type::map:
      return decode_map(r, depth);
  }
  throw DecodeError("metadata: unsupported msgpack value", r.offset());
}

}  // namespace

std::vector<std::byte> encode_metadata(const json::object& map) {
  std::vector<std::byte> out;
  msgpack::Writer w(out);
  w.write_map_header(map.size());
  for (const auto& kv : map) {
    w.write_str(kv.key());
    encode_value(w, kv.value(), 1);
  }
  return out;
}

json::object decode_metadata(std::span<const std::byte> bytes) {
  msgpack::Reader r(bytes);
  if (r.at_end()) throw DecodeError("metadata: empty", 0);
  if (r.peek() != msgpack::Type::map) {
    throw DecodeError(std::string("metadata: expected a msgpack map, got ") + r.peek_name(), 0);
  }
  json::object o = decode_map(r, 0);
  r.expect_end();
  return o;
}

}  // namespace atdata::atmosphere
