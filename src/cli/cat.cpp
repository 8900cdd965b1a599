#include "cat.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/npy.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"
#include "common.hpp"
#include "local.hpp"

namespace atdata::cli {
namespace {

void put_base64(std::string& o, std::span<const std::byte> b) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    unsigned v = (static_cast<unsigned>(b[i]) << 16) | (static_cast<unsigned>(b[i + 1]) << 8) |
                 static_cast<unsigned>(b[i + 2]);
    o.push_back(t[v >> 18]);
    o.push_back(t[(v >> 12) & 63]);
    o.push_back(t[(v >> 6) & 63]);
    o.push_back(t[v & 63]);
  }
  if (i + 1 == b.size()) {
    unsigned v = static_cast<unsigned>(b[i]) << 16;
    o.push_back(t[v >> 18]);
    o.push_back(t[(v >> 12) & 63]);
    o += "==";
  } else if (i + 2 == b.size()) {
    unsigned v = (static_cast<unsigned>(b[i]) << 16) | (static_cast<unsigned>(b[i + 1]) << 8);
    o.push_back(t[v >> 18]);
    o.push_back(t[(v >> 12) & 63]);
    o.push_back(t[(v >> 6) & 63]);
    o.push_back('=');
  }
}

void put_bytes(std::string& o, std::span<const std::byte> b) {
  o += "{\"$bytes\": \"";
  put_base64(o, b);
  o += "\"}";
}

void put_utf8_cp(std::string& o, char32_t c) {
  if (c < 0x80) {
    o.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    o.push_back(static_cast<char>(0xC0 | (c >> 6)));
    o.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    o.push_back(static_cast<char>(0xE0 | (c >> 12)));
    o.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    o.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    o.push_back(static_cast<char>(0xF0 | (c >> 18)));
    o.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    o.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    o.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// JSON string; invalid UTF-8 bytes become U+FFFD so the line stays valid JSON.
void put_string(std::string& o, std::string_view s) {
  o.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      static const char* hex = "0123456789abcdef";
      switch (c) {
        case '\n':
          o += "\\n";
          break;
        case '\t':
          o += "\\t";
          break;
        case '\r':
          o += "\\r";
          break;
        case '\b':
          o += "\\b";
          break;
        case '\f':
          o += "\\f";
          break;
        default:
          o += "\\u00";
          o.push_back(hex[c >> 4]);
          o.push_back(hex[c & 15]);
      }
      ++i;
    } else if (c < 0x80) {
      o.push_back(static_cast<char>(c));
      ++i;
    } else {
      std::size_t len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      bool ok = len > 0 && i + len <= n;
      char32_t cp = 0;
      if (ok) {
        cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (std::size_t k = 1; k < len; ++k) {
          if ((p[i + k] & 0xC0) != 0x80) ok = false;
          cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
          ok = false;
      }
      if (ok) {
        o.append(s.substr(i, len));
        i += len;
      } else {
        o += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  o.push_back('"');
}

void put_double(std::string& o, double d) {
  if (std::isnan(d)) {
    o += "\"nan\"";
  } else if (std::isinf(d)) {
    o += d > 0 ? "\"inf\"" : "\"-inf\"";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
    o.append(buf, r.ptr);
    // Keep floats recognisable as floats (Python prints 1.0, not 1).
    if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e' || c == 'n' || c == 'i'; }) ==
        r.ptr)
      o += ".0";
  }
}

template <class I>
void put_int(std::string& o, I v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  o.append(buf, r.ptr);
}

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void put_array(std::string& o, const NDArray& a0) {
  NDArray a = a0.to_native();
  const Dtype& dt = a.dtype();
  o += "{\"dtype\": ";
  put_string(o, a0.dtype().str());  // as stored, byte order kept
  o += ", \"shape\": [";
  for (std::size_t i = 0; i < a.ndim(); ++i) {
    if (i) o += ", ";
    put_int(o, a.shape()[i]);
  }
  o += "], \"data\": [";
  const std::byte* p = a.bytes().data();
  const std::size_t isz = a.size() ? a.nbytes() / a.size() : 0;
  for (std::size_t i = 0; i < a.size(); ++i, p += isz) {
    if (i) o += ", ";
    switch (dt.kind()) {
      case DtypeKind::Bool:
        o += load<std::uint8_t>(p) ? "true" : "false";
        break;
      case DtypeKind::Int8:
        put_int(o, load<std::int8_t>(p));
        break;
      case DtypeKind::Int16:
        put_int(o, load<std::int16_t>(p));
        break;
      case DtypeKind::Int32:
        put_int(o, load<std::int32_t>(p));
        break;
      case DtypeKind::Int64:
        put_int(o, load<std::int64_t>(p));
        break;
      case DtypeKind::UInt8:
        put_int(o, load<std::uint8_t>(p));
        break;
      case DtypeKind::UInt16:
        put_int(o, load<std::uint16_t>(p));
        break;
      case DtypeKind::UInt32:
        put_int(o, load<std::uint32_t>(p));
        break;
      case DtypeKind::UInt64:
        put_int(o, load<std::uint64_t>(p));
        break;
      case DtypeKind::Float16:
        put_double(o, detail::half_bits_to_float(load<std::uint16_t>(p)));
        break;
      case DtypeKind::Float32:
        put_double(o, load<float>(p));
        break;
      case DtypeKind::Float64:
        put_double(o, load<double>(p));
        break;
      case DtypeKind::Complex64:
        o.push_back('[');
        put_double(o, load<float>(p));
        o += ", ";
        put_double(o, load<float>(p + 4));
        o.push_back(']');
        break;
      case DtypeKind::Complex128:
        o.push_back('[');
        put_double(o, load<double>(p));
        o += ", ";
        put_double(o, load<double>(p + 8));
        o.push_back(']');
        break;
      case DtypeKind::Bytes: {
        std::size_t len = isz;
        while (len > 0 && p[len - 1] == std::byte{0}) --len;  // numpy strips trailing NULs
        put_bytes(o, {p, len});
        break;
      }
      case DtypeKind::Unicode: {
        std::size_t n = isz / 4;
        while (n > 0 && load<std::uint32_t>(p + 4 * (n - 1)) == 0) --n;
        std::string s;
        for (std::size_t k = 0; k < n; ++k) {
          char32_t c = load<std::uint32_t>(p + 4 * k);
          put_utf8_cp(s, (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) ? U'\uFFFD' : c);
        }
        put_string(o, s);
        break;
      }
    }
  }
  o += "]}";
}

void put_value(std::string& o, const Value& v, bool sniff_npy) {
  switch (v.kind()) {
    case ValueKind::null:
      o += "null";
      break;
    case ValueKind::boolean:
      o += v.as_bool() ? "true" : "false";
      break;
    case ValueKind::integer: {
      auto i = v.as_integer();
      if (i.negative) {
        put_int(o, i.as_signed_unchecked());
      } else {
        put_int(o, i.bits);
      }
      break;
    }
    case ValueKind::floating:
      put_double(o, v.as_double());
      break;
    case ValueKind::str:
      put_string(o, v.as_str());
      break;
    case ValueKind::bytes: {
      const Bytes& b = v.as_bytes();
      if (sniff_npy && npy::has_magic(b.span())) {
        try {
          NDArray a = npy::decode(b);
          put_array(o, a);
          break;
        } catch (const Error&) {
          // Starts with the magic but is not a valid .npy: plain bytes.
        }
      }
      put_bytes(o, b.span());
      break;
    }
    case ValueKind::ndarray:
      put_array(o, v.as_ndarray());
      break;
    case ValueKind::list: {
      o.push_back('[');
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) o += ", ";
        first = false;
        put_value(o, e, sniff_npy);
      }
      o.push_back(']');
      break;
    }
    case ValueKind::map: {
      o.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) o += ", ";
        first = false;
        put_string(o, k);
        o += ": ";
        put_value(o, e, sniff_npy);
      }
      o.push_back('}');
      break;
    }
  }
}

const char* kUsage = "usage: atdata cat URL|AT_URI|local:NAME_OR_CID [...] [--schema FILE] [--limit N]";

}  // namespace

AtDataset resolve_at_dataset(const std::string& uri, bool want_schema) {
  const std::optional<StoredSession> stored = stored_session();
  asio::io_context io;
  atproto::AtmosphereClient client(io.get_executor(), client_options(stored ? &*stored : nullptr));
  const atmosphere::AtUri at = atmosphere::AtUri::parse(uri);
  DatasetOptions base;
  auto src = run_blocking(io, atmosphere::dataset_source(client, at, std::move(base)));
  AtDataset out;
  out.shards = expand_urls(src.url);
  out.opener = std::move(src.options.opener);
  if (want_schema) {
    atmosphere::SchemaLoader schemas(client);
    out.schema = run_blocking(io, schemas.decode(atmosphere::AtUri::parse(src.record.schema_ref)));
  }
  return out;
}

std::string sample_json(const std::string& key, const DynamicSample& sample, bool sniff_npy) {
  std::string o = "{\"__key__\": ";
  put_string(o, key);
  for (const auto& f : sample) {
    o += ", ";
    put_string(o, f.name);
    o += ": ";
    put_value(o, f.value, sniff_npy);
  }
  o.push_back('}');
  return o;
}

SampleSchema schema_from_record_json(const boost::json::value& v) {
  const boost::json::value* rec = &v;
  if (v.is_object() && !v.as_object().contains("fields") && v.as_object().contains("value")) {
    rec = &v.as_object().at("value");
  }
  return atmosphere::to_sample_schema(atmosphere::SchemaRecord::from_record(*rec));
}

int run_cat(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> urls;
  std::string schema_file;
  std::optional<std::uint64_t> limit;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--schema" || a == "--limit") {
      if (i + 1 >= args.size()) {
        print_error(err, a + " needs a value");
        err << kUsage << "\n";
        return kExitUsage;
      }
      const std::string& v = args[++i];
      if (a == "--schema") {
        schema_file = v;
      } else {
        std::uint64_t n = 0;
        auto r = std::from_chars(v.data(), v.data() + v.size(), n);
        if (r.ec != std::errc() || r.ptr != v.data() + v.size()) {
          print_error(err, "--limit needs a non-negative integer, got '" + v + "'");
          err << kUsage << "\n";
          return kExitUsage;
        }
        limit = n;
      }
    } else if (a == "-h" || a == "--help") {
      out << kUsage << "\n";
      return 0;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      print_error(err, "unknown option '" + a + "'");
      err << kUsage << "\n";
      return kExitUsage;
    } else {
      urls.push_back(a);
    }
  }
  if (urls.empty()) {
    print_error(err, "give at least one URL or AT_URI");
    err << kUsage << "\n";
    return kExitUsage;
  }
  try {
    std::shared_ptr<const SampleSchema> schema;
    if (!schema_file.empty()) {
      std::ifstream in(schema_file, std::ios::binary);
      if (!in) throw InvalidArgument("cannot read schema file '" + schema_file + "'");
      std::stringstream ss;
      ss << in.rdbuf();
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(ss.str(), ec);
      if (ec) throw InvalidArgument("schema file '" + schema_file + "' is not JSON: " + ec.message());
      schema = std::make_shared<const SampleSchema>(schema_from_record_json(v));
    }
    std::uint64_t n = 0;
    std::string line;
    for (const auto& url : urls) {
      if (limit && n >= *limit) break;
      LoaderConfig cfg;
      std::shared_ptr<const SampleSchema> url_schema = schema;
      if (url.rfind("local:", 0) == 0 && url.rfind("local://", 0) != 0) {
        AtDataset local = resolve_local_dataset(url, !schema);
        cfg.shards = std::move(local.shards);
        if (!schema) url_schema = std::move(local.schema);
      } else if (url.rfind("at://", 0) == 0) {
        AtDataset at = resolve_at_dataset(url, !schema);
        cfg.shards = std::move(at.shards);
        cfg.opener = std::move(at.opener);
        if (!schema) url_schema = std::move(at.schema);
      } else {
        cfg.shards = expand_urls(url);
      }
      // Declared first so it is destroyed last: HTTP shard sources in the
      // loader own sockets bound to it.
      asio::io_context ctx;
      RawLoader loader(std::move(cfg));
      std::vector<RawSample> group;
      while (!limit || n < *limit) {
        if (!run_blocking(ctx, loader.next_group(group))) break;
        const RawSample& raw = group.front();
        DynamicSample sample = decode_dynamic_sample(raw, url_schema);
        line = sample_json(raw.key, sample, !url_schema);
        line.push_back('\n');
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
        ++n;
      }
    }
    out.flush();
    return 0;
  } catch (const std::exception& e) {
    out.flush();
    print_error(err, e.what());
    return exit_status_for(e);
  }
}

}  // namespace atdata::cli
