#include "atdata/core/npy.hpp"

#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

#include "atdata/error.hpp"

namespace atdata::npy {

namespace {

constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy format.GROWTH_AXIS_MAX_DIGITS
constexpr std::size_t kArrayAlign = 64;           // numpy format.ARRAY_ALIGN

[[noreturn]] void fail(const std::string& what, std::uint64_t offset) {
  throw DecodeError("npy: " + what, offset);
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += '?';
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

// A parsed header; the shape lives on the stack (rank <= 64).
struct Header {
  Dtype dtype;
  bool fortran_order = false;
  std::int64_t dims[NDArray::kMaxRank];
  std::size_t ndim = 0;
};

// Recursive-descent parser for the Python dict literal numpy writes, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }
// Accepts any key order, either quote style, Python whitespace, trailing
// commas and Python-2 'L' suffixes; requires exactly the three keys.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::size_t base) : s_(text), base_(base) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    ws();
    expect('{', "header must be a dict literal starting with '{'");
    ws();
    while (!peek('}')) {
      const std::size_t key_pos = pos_;
      const std::string_view key = string_literal("a quoted key");
      ws();
      expect(':', "expected ':' after key");
      ws();
      if (key == "descr") {
        if (seen_descr) fail("duplicate key 'descr' in header", base_ + key_pos);
        seen_descr = true;
        parse_descr(h);
      } else if (key == "fortran_order") {
        if (seen_fortran) fail("duplicate key 'fortran_order' in header", base_ + key_pos);
        seen_fortran = true;
        h.fortran_order = boolean();
      } else if (key == "shape") {
        if (seen_shape) fail("duplicate key 'shape' in header", base_ + key_pos);
        seen_shape = true;
        parse_shape(h);
      } else {
        fail("unexpected key '" + printable(key) + "' in header", base_ + key_pos);
      }
      ws();
      if (peek(',')) {
        ++pos_;
        ws();
      } else if (!peek('}')) {
        fail("expected ',' or '}' in header dict", base_ + pos_);
      }
    }
    ++pos_;  // '}'
    ws();
    if (pos_ != s_.size()) fail("unexpected text after the header dict", base_ + pos_);
    if (!seen_descr || !seen_fortran || !seen_shape) {
      fail(std::string("header lacks key '") +
               (!seen_descr     ? "descr"
                : !seen_fortran ? "fortran_order"
                                : "shape") +
               "'",
           base_);
    }
    return h;
  }

 private:
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                                s_[pos_] == '\f' || s_[pos_] == '\v')) {
      ++pos_;
    }
  }
  void expect(char c, const char* what) {
    if (!peek(c))
      fail(pos_ >= s_.size() ? std::string(what) + " (header ended)" : std::string(what), base_ + pos_);
    ++pos_;
  }

  std::string_view string_literal(const char* what) {
    if (!(peek('\'') || peek('"'))) fail(std::string("expected ") + what, base_ + pos_);
    const char q = s_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\') fail("escape sequences are not supported in header strings", base_ + pos_);
      if (s_[pos_] == '\n') fail("unterminated string in header", base_ + start - 1);
      ++pos_;
    }
    if (pos_ >= s_.size()) fail("unterminated string in header", base_ + start - 1);
    return s_.substr(start, pos_++ - start);
  }

  bool boolean() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False", base_ + pos_);
  }

  void parse_descr(Header& h) {
    if (peek('[')) fail("structured (record) dtypes are not supported", base_ + pos_);
    const std::size_t at = pos_;
    const std::string_view d = string_literal("a quoted dtype string for 'descr'");
    try {
      h.dtype = Dtype::parse(d);
    } catch (const DecodeError& e) {
      fail(e.what(), base_ + at);
    }
  }

  void parse_shape(Header& h) {
    const std::size_t open = pos_;
    expect('(', "'shape' must be a tuple");
    ws();
    bool trailing_comma = false;
    h.ndim = 0;
    while (!peek(')')) {
      if (h.ndim == NDArray::kMaxRank) fail("shape has more than 64 dimensions", base_ + pos_);
      h.dims[h.ndim++] = integer();
      trailing_comma = false;
      ws();
      if (peek(',')) {
        ++pos_;
        trailing_comma = true;
        ws();
      } else if (!peek(')')) {
        fail("expected ',' or ')' in shape", base_ + pos_);
      }
    }
    ++pos_;
    // "(3)" is the integer 3 in Python, not a tuple.
    if (h.ndim == 1 && !trailing_comma)
      fail("'shape' must be a tuple, got a parenthesised integer", base_ + open);
  }

  std::int64_t integer() {
    const std::size_t start = pos_;
    bool neg = false;
    if (peek('-')) {
      neg = true;
      ++pos_;
    }
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
    if (ec == std::errc::result_out_of_range) fail("shape dimension is too large", base_ + start);
    if (ec != std::errc() || p == s_.data() + pos_ || (pos_ < s_.size() && s_[pos_] == '-')) {
      fail("expected an integer in shape", base_ + start);
    }
    pos_ = static_cast<std::size_t>(p - s_.data());
    if (peek('L') || peek('l')) ++pos_;  // Python 2 long suffix in old files
    if (neg && v != 0) fail("negative dimension in shape", base_ + start);
    return v;
  }

  std::string_view s_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le32(const std::byte* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// Column-major source -> row-major destination for an arbitrary rank.
void fortran_to_c(const std::byte* src, std::byte* dst, const std::int64_t* dims, std::size_t ndim,
                  std::size_t itemsize, std::size_t count) {
  // Fortran strides (in elements): stride[0] = 1, stride[k] = stride[k-1] * dims[k-1].
  std::size_t fstride[NDArray::kMaxRank];
  std::size_t s = 1;
  for (std::size_t k = 0; k < ndim; ++k) {
    fstride[k] = s;
    s *= static_cast<std::size_t>(dims[k]);
  }
  std::size_t idx[NDArray::kMaxRank] = {};
  std::size_t src_off = 0;  // in elements
  const std::size_t last = ndim - 1;
  const std::size_t inner = static_cast<std::size_t>(dims[last]);
  const std::size_t inner_stride = fstride[last] * itemsize;
  for (std::size_t out = 0; out < count; out += inner) {
    const std::byte* p = src + src_off * itemsize;
    std::byte* q = dst + out * itemsize;
    for (std::size_t j = 0; j < inner; ++j) std::memcpy(q + j * itemsize, p + j * inner_stride, itemsize);
    // Odometer over the outer dimensions.
    for (std::size_t k = last; k-- > 0;) {
      if (++idx[k] < static_cast<std::size_t>(dims[k])) {
        src_off += fstride[k];
        break;
      }
      src_off -= fstride[k] * (idx[k] - 1);
      idx[k] = 0;
    }
  }
}

// Header text up to (not including) the growth room and padding.
std::size_t format_dict(const NDArray& a, char* buf, std::size_t cap) {
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    std::memcpy(buf + n, s.data(), s.size());
    n += s.size();
  };
  put("{'descr': '");
  put(a.dtype().str());
  put("', 'fortran_order': False, 'shape': (");
  const auto shape = a.shape();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) put(", ");
    const auto r = std::to_chars(buf + n, buf + cap, shape[i]);
    n = static_cast<std::size_t>(r.ptr - buf);
  }
  if (shape.size() == 1) put(",");
  put("), }");
  if (!shape.empty()) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof(digits), shape[0]);
    const std::size_t len = static_cast<std::size_t>(r.ptr - digits);
    if (len < kGrowthAxisMaxDigits) {
      std::memset(buf + n, ' ', kGrowthAxisMaxDigits - len);
      n += kGrowthAxisMaxDigits - len;
    }
  }
  return n;
}

// Worst case: 11 + 12 (descr) + 37 + 64 dims * 21 + 4 + 21 growth < 1536.
constexpr std::size_t kDictCap = 1536;

// numpy _wrap_header for version 1.0: padlen is never 0 (an already aligned
// header gains a full 64 bytes of spaces).
std::size_t padded_header_len(std::size_t dict_len) {
  const std::size_t hlen = dict_len + 1;  // + '\n'
  const std::size_t padlen = kArrayAlign - ((8 + 2 + hlen) % kArrayAlign);
  return hlen + padlen;
}

}  // namespace

bool has_magic(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

NDArray decode(SharedBytes bytes) {
  const std::size_t size = bytes.size();
  const std::byte* b = bytes.data();
  if (size < 10) fail("truncated: " + std::to_string(size) + " bytes, a .npy prefix needs at least 10", 0);
  if (!has_magic(bytes.span())) fail("bad magic (expected \\x93NUMPY)", 0);
  const unsigned major = static_cast<unsigned>(b[6]);
  const unsigned minor = static_cast<unsigned>(b[7]);
  if (major < 1 || major > 3 || minor != 0) {
    fail("unsupported format version " + std::to_string(major) + "." + std::to_string(minor), 6);
  }
  std::size_t start, hlen;
  if (major == 1) {
    hlen = static_cast<std::size_t>(b[8]) | static_cast<std::size_t>(b[9]) << 8;
    start = 10;
  } else {
    if (size < 12) fail("truncated: a version " + std::to_string(major) + " prefix needs 12 bytes", 0);
    hlen = read_le32(b + 8);
    start = 12;
  }
  if (hlen > size - start) {
    fail("header length " + std::to_string(hlen) + " exceeds the " + std::to_string(size - start) +
             " bytes after the prefix",
         8);
  }
  const std::string_view text(reinterpret_cast<const char*>(b + start), hlen);
  if (major < 3) {
    for (std::size_t i = 0; i < hlen; ++i) {
      if (static_cast<unsigned char>(text[i]) >= 0x80)
        fail("non-ASCII byte in a version 1/2 header", start + i);
    }
  }
  const Header h = HeaderParser(text, start).parse();
  const std::span<const std::int64_t> shape(h.dims, h.ndim);
  std::size_t count = 0, nbytes = 0;
  if (!checked_shape_size(shape, h.dtype.itemsize(), count, nbytes)) {
    fail("shape of " + h.dtype.str() + " has a byte size that overflows", start);
  }
  const std::size_t data_off = start + hlen;
  const std::size_t avail = size - data_off;
  if (avail != nbytes) {
    fail("data is " + std::to_string(avail) + " bytes but the header (" + h.dtype.str() + ", " +
             std::to_string(count) + " elements) needs " + std::to_string(nbytes),
         data_off);
  }
  if (!h.fortran_order || h.ndim <= 1 || count == 0) {
    // 0-d / 1-d Fortran order is the same layout as C order.
    return NDArray::view(h.dtype, shape, bytes.slice(data_off, nbytes));
  }
  NDArray out = NDArray::empty(h.dtype, shape);
  fortran_to_c(b + data_off, out.mutable_bytes().data(), h.dims, h.ndim, h.dtype.itemsize(), count);
  return out;
}

std::size_t encoded_size(const NDArray& array) {
  char buf[kDictCap];
  return 10 + padded_header_len(format_dict(array, buf, sizeof(buf))) + array.nbytes();
}

void encode_into(const NDArray& array, std::vector<std::byte>& out) {
  char dict[kDictCap];
  const std::size_t dict_len = format_dict(array, dict, sizeof(dict));
  const std::size_t header_len = padded_header_len(dict_len);  // < 65536 by construction
  const std::size_t total = 10 + header_len + array.nbytes();
  // Append piecewise after one reserve: no zero-fill pass over the data.
  out.reserve(out.size() + total);
  const std::byte prefix[10] = {kMagic[0],
                                kMagic[1],
                                kMagic[2],
                                kMagic[3],
                                kMagic[4],
                                kMagic[5],
                                std::byte{1},
                                std::byte{0},
                                static_cast<std::byte>(header_len & 0xff),
                                static_cast<std::byte>(header_len >> 8)};
  out.insert(out.end(), prefix, prefix + 10);
  const auto* d = reinterpret_cast<const std::byte*>(dict);
  out.insert(out.end(), d, d + dict_len);
  out.insert(out.end(), header_len - dict_len - 1, std::byte{' '});
  out.push_back(std::byte{'\n'});
  const auto data = array.bytes();
  out.insert(out.end(), data.begin(), data.end());
}

std::vector<std::byte> encode(const NDArray& array) {
  std::vector<std::byte> out;
  encode_into(array, out);
  return out;
}

}  // namespace atdata::npy
