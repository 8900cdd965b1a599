#include "atdata/atmosphere/local_schema.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "atdata/atmosphere/datetime.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "local://schemas/";

json::object local_field_type(const SchemaFieldType& t) {
  json::object o;
  switch (t.kind) {
    case SchemaFieldKind::primitive:
      o["$type"] = "local#primitive";
      o["primitive"] = to_string(t.primitive);
      break;
    case SchemaFieldKind::ndarray:
      o["$type"] = "local#ndarray";
      o["dtype"] = t.dtype.value_or("float32");
      break;
    case SchemaFieldKind::array:
      o["$type"] = "local#array";
      // Python stores a bare `List` as a list of str.
      o["items"] =
          t.items ? local_field_type(*t.items) : local_field_type(SchemaFieldType::of(Primitive::str));
      break;
    case SchemaFieldKind::ref:
      o["$type"] = "local#ref";
      o["ref"] = t.ref;
      break;
  }
  return o;
}

void dump_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto u = [&](unsigned cp) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
  };
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20)
            u(c);
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // boost::json strings hold valid UTF-8 (the parser checks it); a stray
    // byte from elsewhere is written as U+FFFD rather than breaking the text.
    unsigned cp = 0xfffd;
    std::size_t len = 1;
    if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      len = 2;
    } else if ((c & 0xf0) == 0xe0 && i + 2 < s.size()) {
      cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
      len = 3;
    } else if ((c & 0xf8) == 0xf0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3fu);
      len = 4;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u(0xd800 + (cp >> 10));
      u(0xdc00 + (cp & 0x3ff));
    } else {
      u(cp);
    }
    i += len;
  }
  out += '"';
}

// Python's float repr: the shortest round-trip digits, in positional form
// when the decimal exponent is in [-4, 16), else d.ddde±XX.
void dump_double(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  const std::size_t e = sci.find('e');
  std::string_view mant = sci.substr(0, e);
  const int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  std::string digits;
  bool neg = false;
  for (char ch : mant) {
    if (ch == '-')
      neg = true;
    else if (ch != '.')
      digits += ch;
  }
  if (neg) out += '-';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<std::size_t>(exp) + 1 >= digits.size()) {
      out += digits;
      out.append(static_cast<std::size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exp) + 1);
      out += '.';
      out += digits.substr(static_cast<std::size_t>(exp) + 1);
    }
    return;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  out += ebuf;
}

void dump(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      dump_double(v.get_double(), out);
      break;
    case json::kind::string:
      dump_string(v.get_string(), out);
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        dump(e, out);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        dump_string(kv.key(), out);
        out += ": ";
        dump(kv.value(), out);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

LocalSchemaRef LocalSchemaRef::parse(std::string_view ref) {
  if (ref.substr(0, kPrefix.size()) != kPrefix) {
    throw InvalidArgument("Invalid local schema reference: " + std::string(ref));
  }
  const std::string_view rest = ref.substr(kPrefix.size());
  const std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) {
    throw InvalidArgument("Schema reference must include version (@version): " + std::string(ref));
  }
  return LocalSchemaRef(std::string(rest.substr(0, at)), std::string(rest.substr(at + 1)));
}

std::string python_json_dumps(const json::value& value) {
  std::string out;
  dump(value, out);
  return out;
}

std::string local_schema_json(const SchemaRecord& record) {
  json::object o;
  o["name"] = record.name;
  o["version"] = record.version;
  json::array fields;
  fields.reserve(record.fields.size());
  for (const auto& f : record.fields) {
    json::object fo;
    fo["name"] = f.name;
    fo["fieldType"] = local_field_type(f.field_type);
    fo["optional"] = f.optional;
    // Python stores no field descriptions; its reader ignores the member.
    if (!f.description.empty()) fo["description"] = f.description;
    fields.emplace_back(std::move(fo));
  }
  o["fields"] = std::move(fields);
  if (record.description.empty()) {
    o["description"] = nullptr;
  } else {
    o["description"] = record.description;
  }
  o["createdAt"] = format_created_at(record.created_at);
  if (!record.metadata.empty()) o["metadata"] = record.metadata;
  return python_json_dumps(o);
}

SchemaRecord parse_local_schema_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw DecodeError("local schema is not JSON: " + ec.message());
  if (!v.is_object()) throw RecordError("", "local schema: expected a JSON object");
  // The shared reader wants a record type; the local form has none.
  v.as_object()["$type"] = "ac.foundation.dataset.sampleSchema";
  return SchemaRecord::from_record(v);
}

}  // namespace atdata::atmosphere
