#include "atdata/atproto/dag_cbor.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <numeric>

#include "atdata/atproto/cid.hpp"
#include "atdata/core/detail/text_codecs.hpp"
#include "atdata/error.hpp"

namespace atdata::atproto {

namespace {

// Canonical DAG-CBOR key order: shorter first, then bytewise.
bool key_less(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

}  // namespace

const char* to_string(DagCborValue::Kind k) noexcept {
  switch (k) {
    case DagCborValue::Kind::null:
      return "null";
    case DagCborValue::Kind::boolean:
      return "boolean";
    case DagCborValue::Kind::integer:
      return "integer";
    case DagCborValue::Kind::text:
      return "text";
    case DagCborValue::Kind::bytes:
      return "bytes";
    case DagCborValue::Kind::list:
      return "list";
    case DagCborValue::Kind::map:
      return "map";
    case DagCborValue::Kind::link:
      return "link";
  }
  return "?";
}

// ---- value -----------------------------------------------------------------

DagCborValue DagCborValue::make_bool(bool b) {
  DagCborValue v;
  v.kind_ = Kind::boolean;
  v.int_ = b ? 1 : 0;
  return v;
}
DagCborValue DagCborValue::make_int(std::int64_t i) {
  DagCborValue v;
  v.kind_ = Kind::integer;
  v.int_ = i;
  return v;
}
DagCborValue DagCborValue::make_text(std::string_view s) {
  DagCborValue v;
  v.kind_ = Kind::text;
  v.data_ = reinterpret_cast<const std::byte*>(s.data());
  v.size_ = s.size();
  return v;
}
DagCborValue DagCborValue::make_bytes(std::span<const std::byte> b) {
  DagCborValue v;
  v.kind_ = Kind::bytes;
  v.data_ = b.data();
  v.size_ = b.size();
  return v;
}
DagCborValue DagCborValue::make_link(std::span<const std::byte> cid) {
  DagCborValue v;
  v.kind_ = Kind::link;
  v.data_ = cid.data();
  v.size_ = cid.size();
  return v;
}
DagCborValue DagCborValue::make_list(std::vector<DagCborValue> items) {
  DagCborValue v;
  v.kind_ = Kind::list;
  v.items_ = std::move(items);
  return v;
}
DagCborValue DagCborValue::make_map(std::vector<std::string_view> keys, std::vector<DagCborValue> values) {
  if (keys.size() != values.size())
    throw InvalidArgument("DagCborValue::make_map: keys and values differ in number");
  DagCborValue v;
  v.kind_ = Kind::map;
  v.keys_ = std::move(keys);
  v.items_ = std::move(values);
  return v;
}

namespace {
[[noreturn]] void wrong_kind(DagCborValue::Kind want, DagCborValue::Kind got) {
  throw SchemaError("", std::string("expected DAG-CBOR ") + to_string(want) + ", got " + to_string(got));
}
}  // namespace

bool DagCborValue::as_bool() const {
  if (kind_ != Kind::boolean) wrong_kind(Kind::boolean, kind_);
  return int_ != 0;
}
std::int64_t DagCborValue::as_int() const {
  if (kind_ != Kind::integer) wrong_kind(Kind::integer, kind_);
  return int_;
}
std::string_view DagCborValue::as_text() const {
  if (kind_ != Kind::text) wrong_kind(Kind::text, kind_);
  return {reinterpret_cast<const char*>(data_), size_};
}
std::span<const std::byte> DagCborValue::as_bytes() const {
  if (kind_ != Kind::bytes) wrong_kind(Kind::bytes, kind_);
  return {data_, size_};
}
std::span<const std::byte> DagCborValue::as_link() const {
  if (kind_ != Kind::link) wrong_kind(Kind::link, kind_);
  return {data_, size_};
}
std::string DagCborValue::link_string() const {
  return format_binary_cid(as_link());
}
const std::vector<DagCborValue>& DagCborValue::items() const {
  if (kind_ != Kind::list && kind_ != Kind::map) wrong_kind(Kind::list, kind_);
  return items_;
}
const std::vector<std::string_view>& DagCborValue::keys() const {
  if (kind_ != Kind::map) wrong_kind(Kind::map, kind_);
  return keys_;
}
const DagCborValue* DagCborValue::find(std::string_view key) const {
  if (kind_ != Kind::map) return nullptr;
  // Keys are short: compare lengths, then bytes inline (no memcmp call).
  const std::size_t n = key.size();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const std::string_view k = keys_[i];
    if (k.size() != n) continue;
    std::size_t j = 0;
    while (j < n && k[j] == key[j]) ++j;
    if (j == n) return &items_[i];
  }
  return nullptr;
}

// ---- decoder ---------------------------------------------------------------

class DagCborDecoder {
 public:
  DagCborDecoder(std::span<const std::byte> data, const DagCborLimits& limits)
      : data_(data), limits_(limits) {}

  DagCborValue value(std::size_t depth) {
    DagCborValue v;
    value_into(v, depth);
    return v;
  }

  // Decodes into `v` (default-constructed) so that container entries are
  // built where they live instead of being moved there.
  void value_into(DagCborValue& v, std::size_t depth) {
    std::size_t start = pos_;
    auto [major, arg] = head();
    switch (major) {
      case 0:
        if (arg > static_cast<std::uint64_t>(INT64_MAX)) fail("integer out of int64 range", start);
        v.kind_ = DagCborValue::Kind::integer;
        v.int_ = static_cast<std::int64_t>(arg);
        return;
      case 1:
        if (arg > static_cast<std::uint64_t>(INT64_MAX)) fail("integer out of int64 range", start);
        v.kind_ = DagCborValue::Kind::integer;
        v.int_ = -1 - static_cast<std::int64_t>(arg);
        return;
      case 2: {
        v.kind_ = DagCborValue::Kind::bytes;
        const auto b = take(arg, start);
        v.data_ = b.data();
        v.size_ = b.size();
        return;
      }
      case 3: {
        v.kind_ = DagCborValue::Kind::text;
        const auto t = text(arg, start);
        v.data_ = reinterpret_cast<const std::byte*>(t.data());
        v.size_ = t.size();
        return;
      }
      case 4:
        v.kind_ = DagCborValue::Kind::list;
        enter(arg, 1, depth, start);
        v.items_.resize(static_cast<std::size_t>(arg));
        for (auto& item : v.items_) value_into(item, depth + 1);
        return;
      case 5: {
        v.kind_ = DagCborValue::Kind::map;
        enter(arg, 2, depth, start);
        v.keys_.reserve(arg);
        v.items_.resize(static_cast<std::size_t>(arg));
        for (std::uint64_t i = 0; i < arg; ++i) {
          std::size_t key_start = pos_;
          auto [kmajor, klen] = head();
          if (kmajor != 3) fail("map key is not a text string", key_start);
          auto key = text(klen, key_start);
          if (!v.keys_.empty()) {
            const std::string_view prev = v.keys_.back();
            const int order = prev.size() != key.size() ? (prev.size() < key.size() ? -1 : 1)
                                                        : std::memcmp(prev.data(), key.data(), key.size());
            if (order == 0) fail("duplicate map key \"" + std::string(key) + "\"", key_start);
            if (order > 0) {
              fail("map keys not in canonical order (\"" + std::string(key) + "\" after \"" +
                       std::string(v.keys_.back()) + "\")",
                   key_start);
            }
          }
          v.keys_.push_back(key);
          value_into(v.items_[static_cast<std::size_t>(i)], depth + 1);
        }
        return;
      }
      case 6: {
        if (arg != 42) fail("CBOR tag " + std::to_string(arg) + " (only 42, a CID link, is allowed)", start);
        std::size_t inner = pos_;
        auto [bmajor, blen] = head();
        if (bmajor != 2) fail("tag 42 does not hold a byte string", inner);
        auto bytes = take(blen, inner);
        if (bytes.empty() || bytes[0] != std::byte{0x00})
          fail("CID link lacks the 0x00 multibase prefix", inner);
        auto cid = bytes.subspan(1);
        if (!parse_binary_cid_v1_sha256(cid))
          fail("CID link is not a CIDv1 with a sha2-256 multihash", inner);
        v.kind_ = DagCborValue::Kind::link;
        v.data_ = cid.data();
        v.size_ = cid.size();
        return;
      }
      default:  // 7, checked in head()
        if (arg == 20 || arg == 21) {
          v.kind_ = DagCborValue::Kind::boolean;
          v.int_ = arg == 21 ? 1 : 0;
        }
        return;  // 22: null
    }
  }

  std::size_t pos() const noexcept { return pos_; }

 private:
  [[noreturn]] static void fail(const std::string& what, std::size_t offset) {
    throw DecodeError("DAG-CBOR: " + what, offset);
  }

  std::uint8_t byte() {
    if (pos_ >= data_.size()) fail("unexpected end of input", pos_);
    return std::to_integer<std::uint8_t>(data_[pos_++]);
  }

  // Major type and argument, shortest form only. For major 7 the argument is
  // the simple value; only false, true and null pass.
  std::pair<unsigned, std::uint64_t> head() {
    std::size_t start = pos_;
    std::uint8_t ib = byte();
    unsigned major = ib >> 5, ai = ib & 31;
    if (major == 7) {
      if (ai >= 20 && ai <= 22) return {7, ai};
      if (ai == 23) fail("undefined is not allowed", start);
      if (ai >= 25 && ai <= 27) fail("floating-point numbers are not allowed", start);
      if (ai == 31) fail("unexpected break (indefinite lengths are not allowed)", start);
      fail("simple value not allowed", start);
    }
    if (ai < 24) return {major, ai};
    if (ai == 31) fail("indefinite length is not allowed", start);
    if (ai > 27) fail("reserved additional information value", start);
    int n = 1 << (ai - 24);
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    static constexpr std::uint64_t kMin[] = {24, 0x100, 0x10000, 0x100000000ull};
    if (v < kMin[ai - 24]) fail("integer or length not in shortest form", start);
    return {major, v};
  }

  std::span<const std::byte> take(std::uint64_t n, std::size_t start) {
    if (n > data_.size() - pos_) {
      fail("declared length " + std::to_string(n) + " exceeds the " + std::to_string(data_.size() - pos_) +
               " remaining bytes",
           start);
    }
    auto out = data_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  std::string_view text(std::uint64_t n, std::size_t start) {
    auto b = take(n, start);
    std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
    // Map keys and most values are short ASCII: an OR over the bytes settles
    // those without the full UTF-8 check.
    if (s.size() <= 64) {
      unsigned char any = 0;
      for (char c : s) any |= static_cast<unsigned char>(c);
      if (any < 0x80) return s;
    }
    if (!atdata::detail::is_valid_utf8(s)) fail("text string is not valid UTF-8", start);
    return s;
  }

  // Checks a container header before its entries are allocated; each entry
  // takes at least `min_bytes` bytes, so a count the input cannot hold fails.
  void enter(std::uint64_t n, std::uint64_t min_bytes, std::size_t depth, std::size_t start) {
    if (depth >= limits_.max_depth)
      fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels", start);
    if (n > limits_.max_container_items) {
      fail(std::to_string(n) + " entries exceed the limit of " + std::to_string(limits_.max_container_items),
           start);
    }
    if (n > (data_.size() - pos_) / min_bytes) {
      fail(std::to_string(n) + " entries declared but only " + std::to_string(data_.size() - pos_) +
               " bytes remain",
           start);
    }
    total_ += n;
    if (total_ > limits_.max_total_items)
      fail("more than " + std::to_string(limits_.max_total_items) + " entries in total", start);
  }

  std::span<const std::byte> data_;
  const DagCborLimits& limits_;
  std::size_t pos_ = 0;
  std::uint64_t total_ = 0;
};

DagCborPrefix dag_cbor_decode_prefix(std::span<const std::byte> data, const DagCborLimits& limits) {
  DagCborDecoder d(data, limits);
  DagCborPrefix out;
  out.value = d.value(0);
  out.end = d.pos();
  return out;
}

DagCborValue dag_cbor_decode(std::span<const std::byte> data, const DagCborLimits& limits) {
  auto r = dag_cbor_decode_prefix(data, limits);
  if (r.end != data.size()) {
    throw DecodeError("DAG-CBOR: " + std::to_string(data.size() - r.end) + " trailing bytes after the value",
                      r.end);
  }
  return std::move(r.value);
}

// ---- encoder ---------------------------------------------------------------

namespace {

void put_head(std::vector<std::byte>& out, unsigned major, std::uint64_t v) {
  auto m = static_cast<std::uint8_t>(major << 5);
  auto push = [&](std::uint64_t x, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::byte>((x >> (8 * i)) & 0xFF));
  };
  if (v < 24) {
    out.push_back(static_cast<std::byte>(m | v));
  } else if (v <= 0xFF) {
    out.push_back(static_cast<std::byte>(m | 24));
    push(v, 1);
  } else if (v <= 0xFFFF) {
    out.push_back(static_cast<std::byte>(m | 25));
    push(v, 2);
  } else if (v <= 0xFFFFFFFFull) {
    out.push_back(static_cast<std::byte>(m | 26));
    push(v, 4);
  } else {
    out.push_back(static_cast<std::byte>(m | 27));
    push(v, 8);
  }
}

void put_raw(std::vector<std::byte>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}

}  // namespace

void dag_cbor_encode(const DagCborValue& v, std::vector<std::byte>& out) {
  using K = DagCborValue::Kind;
  switch (v.kind()) {
    case K::null:
      out.push_back(std::byte{0xF6});
      return;
    case K::boolean:
      out.push_back(v.as_bool() ? std::byte{0xF5} : std::byte{0xF4});
      return;
    case K::integer: {
      auto i = v.as_int();
      if (i >= 0) {
        put_head(out, 0, static_cast<std::uint64_t>(i));
      } else {
        put_head(out, 1, static_cast<std::uint64_t>(-1 - i));
      }
      return;
    }
    case K::text: {
      auto s = v.as_text();
      if (!atdata::detail::is_valid_utf8(s))
        throw InvalidArgument("DAG-CBOR encode: text is not valid UTF-8");
      put_head(out, 3, s.size());
      put_raw(out, s.data(), s.size());
      return;
    }
    case K::bytes: {
      auto b = v.as_bytes();
      put_head(out, 2, b.size());
      put_raw(out, b.data(), b.size());
      return;
    }
    case K::link: {
      auto cid = v.as_link();
      if (!parse_binary_cid_v1_sha256(cid))
        throw InvalidArgument("DAG-CBOR encode: link is not a binary CIDv1 with a sha2-256 multihash");
      put_head(out, 6, 42);
      put_head(out, 2, cid.size() + 1);
      out.push_back(std::byte{0x00});
      put_raw(out, cid.data(), cid.size());
      return;
    }
    case K::list:
      put_head(out, 4, v.items().size());
      for (const auto& item : v.items()) dag_cbor_encode(item, out);
      return;
    case K::map: {
      const auto& keys = v.keys();
      std::vector<std::size_t> order(keys.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return key_less(keys[a], keys[b]); });
      for (std::size_t i = 1; i < order.size(); ++i) {
        if (keys[order[i]] == keys[order[i - 1]])
          throw InvalidArgument("DAG-CBOR encode: duplicate map key \"" + std::string(keys[order[i]]) + "\"");
      }
      put_head(out, 5, keys.size());
      for (std::size_t i : order) {
        if (!atdata::detail::is_valid_utf8(keys[i]))
          throw InvalidArgument("DAG-CBOR encode: map key is not valid UTF-8");
        put_head(out, 3, keys[i].size());
        put_raw(out, keys[i].data(), keys[i].size());
        dag_cbor_encode(v.items()[i], out);
      }
      return;
    }
  }
}

std::vector<std::byte> dag_cbor_encode(const DagCborValue& value) {
  std::vector<std::byte> out;
  dag_cbor_encode(value, out);
  return out;
}

// ---- JSON ------------------------------------------------------------------

boost::json::value dag_cbor_to_json(const DagCborValue& v) {
  using K = DagCborValue::Kind;
  switch (v.kind()) {
    case K::null:
      return nullptr;
    case K::boolean:
      return v.as_bool();
    case K::integer:
      return v.as_int();
    case K::text:
      return boost::json::string(v.as_text());
    case K::bytes: {
      boost::json::object o;
      o["$bytes"] = atdata::detail::base64_encode(v.as_bytes(), false);
      return o;
    }
    case K::link: {
      boost::json::object o;
      o["$link"] = v.link_string();
      return o;
    }
    case K::list: {
      boost::json::array a;
      a.reserve(v.items().size());
      for (const auto& item : v.items()) a.push_back(dag_cbor_to_json(item));
      return a;
    }
    case K::map: {
      boost::json::object o;
      o.reserve(v.keys().size());
      for (std::size_t i = 0; i < v.keys().size(); ++i) o[v.keys()[i]] = dag_cbor_to_json(v.items()[i]);
      return o;
    }
  }
  return nullptr;
}

namespace {

void encode_json(const boost::json::value& v, std::vector<std::byte>& out, std::string& path,
                 std::size_t depth) {
  const auto bad = [&](const std::string& what) {
    throw InvalidArgument("ATProto JSON → DAG-CBOR: " + (path.empty() ? std::string("value") : path) + " " +
                          what);
  };
  if (depth > 64) bad("nests deeper than 64 levels");
  switch (v.kind()) {
    case boost::json::kind::null:
      out.push_back(std::byte{0xF6});
      return;
    case boost::json::kind::bool_:
      out.push_back(v.get_bool() ? std::byte{0xF5} : std::byte{0xF4});
      return;
    case boost::json::kind::int64: {
      const std::int64_t i = v.get_int64();
      if (i >= 0) {
        put_head(out, 0, static_cast<std::uint64_t>(i));
      } else {
        put_head(out, 1, static_cast<std::uint64_t>(-1 - i));
      }
      return;
    }
    case boost::json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) bad("is an integer beyond the int64 range");
      put_head(out, 0, v.get_uint64());
      return;
    case boost::json::kind::double_:
      bad("is a floating-point number (the ATProto data model has none)");
      return;
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      if (!atdata::detail::is_valid_utf8(s)) bad("is not valid UTF-8");
      put_head(out, 3, s.size());
      put_raw(out, s.data(), s.size());
      return;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      put_head(out, 4, a.size());
      const std::size_t keep = path.size();
      for (std::size_t i = 0; i < a.size(); ++i) {
        path += "[" + std::to_string(i) + "]";
        encode_json(a[i], out, path, depth + 1);
        path.resize(keep);
      }
      return;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.size() == 1 && o.begin()->key() == "$link") {
        // The text form is "b" + base32 of the binary CID tag 42 carries.
        const auto* text = o.begin()->value().if_string();
        std::optional<std::string> bin;
        if (text && text->size() > 1 && text->front() == 'b') bin = base32_decode(text->subview(1));
        const auto cid =
            bin ? std::as_bytes(std::span(bin->data(), bin->size())) : std::span<const std::byte>{};
        if (!bin || !parse_binary_cid_v1_sha256(cid))
          bad("is a $link that is not a base32 CIDv1 with a sha2-256 multihash");
        put_head(out, 6, 42);
        put_head(out, 2, 1 + cid.size());
        out.push_back(std::byte{0x00});
        put_raw(out, cid.data(), cid.size());
        return;
      }
      if (o.size() == 1 && o.begin()->key() == "$bytes") {
        const auto* text = o.begin()->value().if_string();
        const auto bytes = text ? atdata::detail::base64_decode(*text) : std::nullopt;
        if (!bytes) bad("is a $bytes that is not base64");
        put_head(out, 2, bytes->size());
        put_raw(out, bytes->data(), bytes->size());
        return;
      }
      std::vector<const boost::json::key_value_pair*> order;
      order.reserve(o.size());
      for (const auto& kv : o) order.push_back(&kv);
      std::sort(order.begin(), order.end(),
                [](const auto* a, const auto* b) { return key_less(a->key(), b->key()); });
      put_head(out, 5, order.size());
      const std::size_t keep = path.size();
      for (const auto* kv : order) {
        if (!atdata::detail::is_valid_utf8(kv->key())) bad("has a key that is not valid UTF-8");
        put_head(out, 3, kv->key().size());
        put_raw(out, kv->key().data(), kv->key().size());
        if (!path.empty()) path += '.';
        path += kv->key();
        encode_json(kv->value(), out, path, depth + 1);
        path.resize(keep);
      }
      return;
    }
  }
}

}  // namespace

std::vector<std::byte> dag_cbor_encode_json(const boost::json::value& value) {
  std::vector<std::byte> out;
  std::string path;
  encode_json(value, out, path, 0);
  return out;
}

}  // namespace atdata::atproto
