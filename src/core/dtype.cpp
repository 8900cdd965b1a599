#include "atdata/core/dtype.hpp"

#include <array>
#include <charconv>

#include "atdata/error.hpp"

namespace atdata {

namespace {

// Longest accepted string length: keeps itemsize (4n for U) inside uint32 and
// far below anything a real array uses.
constexpr std::uint32_t kMaxStringChars = 1u << 28;

struct NameEntry {
  std::string_view name;
  DtypeKind kind;
};
constexpr std::array<NameEntry, 14> kNames{{
    {"bool", DtypeKind::Bool},
    {"int8", DtypeKind::Int8},
    {"int16", DtypeKind::Int16},
    {"int32", DtypeKind::Int32},
    {"int64", DtypeKind::Int64},
    {"uint8", DtypeKind::UInt8},
    {"uint16", DtypeKind::UInt16},
    {"uint32", DtypeKind::UInt32},
    {"uint64", DtypeKind::UInt64},
    {"float16", DtypeKind::Float16},
    {"float32", DtypeKind::Float32},
    {"float64", DtypeKind::Float64},
    {"complex64", DtypeKind::Complex64},
    {"complex128", DtypeKind::Complex128},
}};

std::string quoted(std::string_view s) {
  // Hostile input: print only printable ASCII, escape the rest.
  std::string out = "'";
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

// Returns an error text or empty on success.
std::string parse_impl(std::string_view s, Dtype& out) {
  if (s.empty()) return "empty dtype string";
  ByteOrder order = native_byte_order;
  bool explicit_na = false;
  std::size_t i = 0;
  switch (s[0]) {
    case '<':
      order = ByteOrder::Little;
      i = 1;
      break;
    case '>':
      order = ByteOrder::Big;
      i = 1;
      break;
    case '=':
      i = 1;
      break;
    case '|':
      explicit_na = true;
      i = 1;
      break;
    default:
      break;
  }
  if (i >= s.size()) return "dtype string " + quoted(s) + " has no type code";
  const char code = s[i++];
  if (code == 'O') return "object arrays are not supported (dtype " + quoted(s) + ")";
  std::string_view num = s.substr(i);
  std::uint64_t n = 0;
  if (num.empty()) return "dtype string " + quoted(s) + " has no size";
  for (char c : num) {
    if (c < '0' || c > '9') return "dtype string " + quoted(s) + " has a malformed size";
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (n > kMaxStringChars) return "dtype string " + quoted(s) + " has an unsupported size";
  }
  auto num_kind = [&](std::initializer_list<std::pair<std::uint64_t, DtypeKind>> table) -> std::string {
    for (auto [size, kind] : table) {
      if (size == n) {
        out = Dtype::numeric(kind, explicit_na ? native_byte_order : order);
        return {};
      }
    }
    return "unsupported dtype " + quoted(s);
  };
  switch (code) {
    case 'b':
      return num_kind({{1, DtypeKind::Bool}});
    case 'i':
      return num_kind(
          {{1, DtypeKind::Int8}, {2, DtypeKind::Int16}, {4, DtypeKind::Int32}, {8, DtypeKind::Int64}});
    case 'u':
      return num_kind(
          {{1, DtypeKind::UInt8}, {2, DtypeKind::UInt16}, {4, DtypeKind::UInt32}, {8, DtypeKind::UInt64}});
    case 'f':
      return num_kind({{2, DtypeKind::Float16}, {4, DtypeKind::Float32}, {8, DtypeKind::Float64}});
    case 'c':
      return num_kind({{8, DtypeKind::Complex64}, {16, DtypeKind::Complex128}});
    case 'S':
      if (n == 0) return "zero-length string dtype " + quoted(s) + " is not supported";
      out = Dtype::bytes(static_cast<std::uint32_t>(n));
      return {};
    case 'U':
      if (n == 0) return "zero-length string dtype " + quoted(s) + " is not supported";
      out = Dtype::unicode(static_cast<std::uint32_t>(n), explicit_na ? native_byte_order : order);
      return {};
    default:
      return "unsupported dtype " + quoted(s);
  }
}

}  // namespace

Dtype Dtype::bytes(std::uint32_t n) {
  if (n == 0 || n > kMaxStringChars) throw InvalidArgument("Dtype::bytes: length must be 1..2^28");
  return Dtype(DtypeKind::Bytes, ByteOrder::NotApplicable, n);
}

Dtype Dtype::unicode(std::uint32_t n, ByteOrder order) {
  if (n == 0 || n > kMaxStringChars) throw InvalidArgument("Dtype::unicode: length must be 1..2^28");
  if (order == ByteOrder::NotApplicable) order = native_byte_order;
  return Dtype(DtypeKind::Unicode, order, 4 * n);
}

Dtype Dtype::parse(std::string_view descr) {
  Dtype d;
  std::string err = parse_impl(descr, d);
  if (!err.empty()) throw DecodeError(err);
  return d;
}

std::optional<Dtype> Dtype::try_parse(std::string_view descr) noexcept {
  try {
    Dtype d;
    if (parse_impl(descr, d).empty()) return d;
  } catch (...) {  // only std::bad_alloc from the message text
  }
  return std::nullopt;
}

std::optional<Dtype> Dtype::try_from_name(std::string_view name) noexcept {
  for (const auto& e : kNames) {
    if (e.name == name) return numeric(e.kind);
  }
  return std::nullopt;
}

Dtype Dtype::from_name(std::string_view name) {
  if (auto d = try_from_name(name)) return *d;
  throw InvalidArgument("unknown dtype name " + quoted(name));
}

std::string Dtype::str() const {
  std::string s;
  s += order_ == ByteOrder::Little ? '<' : order_ == ByteOrder::Big ? '>' : '|';
  std::uint32_t n = itemsize_;
  switch (kind_) {
    case DtypeKind::Bool:
      s += 'b';
      break;
    case DtypeKind::Int8:
    case DtypeKind::Int16:
    case DtypeKind::Int32:
    case DtypeKind::Int64:
      s += 'i';
      break;
    case DtypeKind::UInt8:
    case DtypeKind::UInt16:
    case DtypeKind::UInt32:
    case DtypeKind::UInt64:
      s += 'u';
      break;
    case DtypeKind::Float16:
    case DtypeKind::Float32:
    case DtypeKind::Float64:
      s += 'f';
      break;
    case DtypeKind::Complex64:
    case DtypeKind::Complex128:
      s += 'c';
      break;
    case DtypeKind::Bytes:
      s += 'S';
      break;
    case DtypeKind::Unicode:
      s += 'U';
      n /= 4;
      break;
  }
  s += std::to_string(n);
  return s;
}

std::string Dtype::name() const {
  switch (kind_) {
    case DtypeKind::Bytes:
      return "bytes" + std::to_string(std::uint64_t{itemsize_} * 8);
    case DtypeKind::Unicode:
      return "str" + std::to_string(std::uint64_t{itemsize_} * 8);
    default:
      for (const auto& e : kNames) {
        if (e.kind == kind_) return std::string(e.name);
      }
      return "?";
  }
}

}  // namespace atdata
