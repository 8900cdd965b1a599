// .npy (format A) and compact (format B) byte-level tests: every example of
// docs/format.md, version 2/3 headers, Fortran order, and malformed
// inputs that must fail with DecodeError.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <boost/json.hpp>
#include "atdata/core/array_encoding.hpp"
#include "atdata/core/compact_array.hpp"
#include "atdata/core/npy.hpp"

#include "support/hex.hpp"
#include "support/sha256.hpp"

namespace atdata {
namespace {

using test::bytes_of;
using test::from_hex;
using test::to_hex;

// A v1.0 .npy file with `dict` as header text padded the numpy way (growth
// room for ndim > 0 is part of `dict` when the test wants numpy's bytes).
std::vector<std::byte> npy_file(const std::string& header_text, const std::string& data_hex, int major = 1) {
  std::vector<std::byte> out = from_hex("934e554d5059");
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  const std::size_t hlen = header_text.size();
  if (major == 1) {
    out.push_back(static_cast<std::byte>(hlen & 0xff));
    out.push_back(static_cast<std::byte>(hlen >> 8));
  } else {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::byte>((hlen >> (8 * k)) & 0xff));
  }
  auto h = bytes_of(header_text);
  out.insert(out.end(), h.begin(), h.end());
  auto d = from_hex(data_hex);
  out.insert(out.end(), d.begin(), d.end());
  return out;
}

// numpy's header: dict + growth room + padding to 64 + '\n'.
std::string numpy_header(const std::string& dict, std::size_t growth) {
  std::string h = dict + std::string(growth, ' ');
  const std::size_t hlen = h.size() + 1;
  const std::size_t pad = 64 - ((10 + hlen) % 64);
  return h + std::string(pad, ' ') + "\n";
}

SharedBytes shared(const std::vector<std::byte>& v) {
  return SharedBytes::copy_of(v);
}

TEST(Npy, SpecExampleA_Float32Vector) {
  const std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') + "\n";
  ASSERT_EQ(header.size(), 118u);
  const auto expected = npy_file(header, "0000803f0000004000004040");
  ASSERT_EQ(expected.size(), 140u);
  EXPECT_EQ(to_hex(std::span(expected).first(10)), "934e554d505901007600");

  const float v[] = {1.0f, 2.0f, 3.0f};
  const NDArray a = NDArray::from_span<float>(v);
  EXPECT_EQ(to_hex(npy::encode(a)), to_hex(expected));
  EXPECT_EQ(npy::encoded_size(a), 140u);

  const NDArray b = npy::decode(shared(expected));
  EXPECT_EQ(b, a);
  EXPECT_TRUE(b.is_view());
  ASSERT_EQ(b.shape().size(), 1u);
  EXPECT_EQ(b.shape()[0], 3);
}

TEST(Npy, SpecFurtherExamples) {
  struct Case {
    std::string dict;
    std::size_t growth;
    std::string data;
    NDArray array;
  };
  const double d42 = 42.0;
  const bool bools[] = {true, false};
  const std::int32_t be_one = 1;
  std::vector<Case> cases;
  cases.push_back({"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 0, "0000000000004540",
                   NDArray::from_span<double>(std::span(&d42, 1), {})});
  cases.push_back({"{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", 20, "000000000000",
                   NDArray::zeros(Dtype::of<std::uint8_t>(), {2, 3})});
  cases.push_back({"{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 20, "0100",
                   NDArray::from_span<bool>(bools)});
  cases.push_back({"{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 20, "",
                   NDArray::zeros(Dtype::of<float>(), {0})});
  cases.push_back({"{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", 20, "00000001",
                   NDArray::from_span<std::int32_t>(std::span(&be_one, 1))
                       .to(Dtype::numeric(DtypeKind::Int32, ByteOrder::Big))});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dict);
    const auto file = npy_file(numpy_header(c.dict, c.growth), c.data);
    EXPECT_EQ(file.size() % 64, c.data.size() / 2 % 64);
    EXPECT_EQ(to_hex(npy::encode(c.array)), to_hex(file));
    EXPECT_EQ(npy::decode(shared(file)), c.array);
  }
  // The empty float32 file is exactly 128 bytes.
  EXPECT_EQ(npy::encode(NDArray::zeros(Dtype::of<float>(), {0})).size(), 128u);
}

TEST(Npy, SpecFortranOrderInt64) {
  // [[1,2],[3,4]] transposed: stored column-major as 1,2,3,4 => C-order [[1,3],[2,4]].
  const auto file = npy_file(numpy_header("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 2), }", 20),
                             "0100000000000000020000000000000003000000000000000400000000000000");
  const NDArray a = npy::decode(shared(file));
  EXPECT_FALSE(a.is_view());
  const std::int64_t want[] = {1, 3, 2, 4};
  EXPECT_EQ(a, NDArray::from_span<std::int64_t>(want, {2, 2}));
}

TEST(Compact, SpecExamples) {
  const float v[] = {1.0f, 2.0f, 3.0f};
  const double d42 = 42.0;
  const std::int64_t t[] = {1, 3, 2, 4};
  struct Case {
    NDArray a;
    std::string hex;
  };
  const Case cases[] = {
      {NDArray::from_span<float>(v),
       "033c6634"
       "01"
       "0300000000000000"
       "0000803f0000004000004040"},
      {NDArray::from_span<double>(std::span(&d42, 1), {}), "033c6638000000000000004540"},
      {NDArray::from_span<std::int64_t>(t, {2, 2}),
       "033c6938020200000000000000020000000000000001000000000000000300000000000000020000000000000004000000000"
       "00000"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_hex(compact::encode(c.a)), c.hex);
    EXPECT_EQ(compact::encoded_size(c.a), c.hex.size() / 2);
    const auto bytes = from_hex(c.hex);
    EXPECT_EQ(compact::decode(shared(bytes)), c.a);
    EXPECT_EQ(decode_array(shared(bytes)), c.a);
    EXPECT_EQ(detect_array_encoding(bytes), ArrayEncoding::Compact);
  }
}

// Fills an array's bytes with a deterministic pattern (valid for every dtype:
// bool bytes are masked to 0/1).
NDArray patterned(Dtype dtype, ShapeRef shape) {
  NDArray a = NDArray::zeros(dtype, shape);
  auto b = a.mutable_bytes();
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] = static_cast<std::byte>(dtype.is_bool() ? (i * 7 + 3) % 5 % 2 : (i * 131 + 17) & 0xff);
  }
  return a;
}

std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> out;
  for (auto k :
       {DtypeKind::Bool, DtypeKind::Int8, DtypeKind::Int16, DtypeKind::Int32, DtypeKind::Int64,
        DtypeKind::UInt8, DtypeKind::UInt16, DtypeKind::UInt32, DtypeKind::UInt64, DtypeKind::Float16,
        DtypeKind::Float32, DtypeKind::Float64, DtypeKind::Complex64, DtypeKind::Complex128}) {
    out.push_back(Dtype::numeric(k, ByteOrder::Little));
    out.push_back(Dtype::numeric(k, ByteOrder::Big));
  }
  out.push_back(Dtype::bytes(5));
  out.push_back(Dtype::unicode(3, ByteOrder::Little));
  out.push_back(Dtype::unicode(3, ByteOrder::Big));
  return out;
}

TEST(Npy, RoundTripEveryDtypeOrderAndShape) {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {}, {0}, {1}, {10}, {3, 4}, {2, 3, 4}, {1, 1, 1, 1}, {2, 2, 2, 2}, {2, 0, 3}, {1000}};
  int n = 0;
  for (const Dtype& d : all_dtypes()) {
    for (const auto& shape : shapes) {
      SCOPED_TRACE(d.str() + " ndim " + std::to_string(shape.size()));
      const NDArray a = patterned(d, shape);
      const auto file = npy::encode(a);
      ASSERT_EQ(file.size(), npy::encoded_size(a));
      // Header is aligned to 64 and names the dtype exactly.
      const std::size_t hlen = static_cast<std::size_t>(file[8]) | static_cast<std::size_t>(file[9]) << 8;
      EXPECT_EQ((10 + hlen) % 64, 0u);
      const std::string header(reinterpret_cast<const char*>(file.data()) + 10, hlen);
      EXPECT_EQ(header.rfind("{'descr': '" + d.str() + "', 'fortran_order': False, 'shape': (", 0), 0u)
          << header;
      EXPECT_EQ(header.back(), '\n');
      const NDArray b = npy::decode(shared(file));
      EXPECT_EQ(b, a);
      EXPECT_EQ(b.dtype(), d);
      EXPECT_EQ(decode_array(shared(file)), a);
      const auto c = compact::encode(a);
      EXPECT_EQ(compact::decode(shared(c)), a);
      EXPECT_EQ(decode_array(shared(c)), a);
      ++n;
    }
  }
  EXPECT_EQ(n, 31 * 10);
}

TEST(Npy, LargeMatrixRoundTrip) {
  const NDArray a = patterned(Dtype::of<float>(), {1000, 1000});
  const auto file = npy::encode(a);
  EXPECT_EQ(file.size(), 128u + 4'000'000u);
  const NDArray b = npy::decode(shared(file));
  EXPECT_TRUE(b.is_view());
  EXPECT_EQ(b, a);
}

TEST(Npy, HeaderPaddingMatchesNumpyRuleForManyShapes) {
  // numpy: dict + (21 - len(str(shape[0]))) spaces (ndim > 0) + padding to
  // 64 where an already aligned header gets 64 more spaces.
  bool saw_full_pad = false;
  std::vector<std::vector<std::int64_t>> shapes = {{}, {1}, {12}, {123456}, {0}};
  for (int rank = 2; rank <= 12; ++rank) {
    for (std::int64_t first : {1LL, 12LL, 123456LL, 9999999999LL}) {
      std::vector<std::int64_t> s(static_cast<std::size_t>(rank), 2);
      s[0] = first;
      s[1] = 0;  // keep the data empty
      shapes.push_back(s);
    }
  }
  shapes.push_back({7, 0, 10000000000000000, 10000000000000000});  // dict + growth + '\n' already aligned
  for (const auto& shape : shapes) {
    const NDArray a = NDArray::zeros(Dtype::of<std::uint8_t>(), shape);
    std::string dims;
    for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    const std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t growth = shape.empty() ? 0 : 21 - std::to_string(shape[0]).size();
    const std::string want = numpy_header(dict, growth);
    if ((10 + dict.size() + growth + 1) % 64 == 0) saw_full_pad = true;
    const auto file = npy::encode(a);
    const std::string got(reinterpret_cast<const char*>(file.data()) + 10, file.size() - 10 - a.nbytes());
    ASSERT_EQ(got, want) << dict;
  }
  EXPECT_TRUE(saw_full_pad) << "no case exercised the padlen == 64 branch";
}

TEST(Npy, EncodeIntoAppends) {
  const float v[] = {1, 2, 3};
  const NDArray a = NDArray::from_span<float>(v);
  std::vector<std::byte> out = from_hex("c48c");
  npy::encode_into(a, out);
  EXPECT_EQ(out.size(), 142u);
  EXPECT_EQ(to_hex(std::span(out).subspan(2)), to_hex(npy::encode(a)));
  std::vector<std::byte> out2 = from_hex("ff");
  encode_array_into(a, out2, ArrayEncoding::Compact);
  EXPECT_EQ(to_hex(out2), "ff" + to_hex(compact::encode(a)));
  EXPECT_EQ(encoded_array_size(a), 140u);
  EXPECT_EQ(encode_array(a), npy::encode(a));
}

TEST(Npy, ReadsVersion2And3AndHeaderVariants) {
  const std::string f32_123 = "0000803f0000004000004040";
  const float v[] = {1, 2, 3};
  const NDArray want = NDArray::from_span<float>(v);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  EXPECT_EQ(npy::decode(shared(npy_file(dict + "\n", f32_123, 2))), want);
  EXPECT_EQ(npy::decode(shared(npy_file(dict + "   \n", f32_123, 3))), want);
  const char* variants[] = {
      "{'shape': (3,), 'descr': '<f4', 'fortran_order': False}\n",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
      "  {\n\t'fortran_order' :False ,\n 'shape':( 3 , ) ,'descr':'<f4' ,\n}  \n\n",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }    \n",  // Python 2 numpy
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n",       // no 64-alignment
  };
  for (const char* h : variants) {
    SCOPED_TRACE(h);
    EXPECT_EQ(npy::decode(shared(npy_file(h, f32_123))), want);
  }
}

TEST(Npy, FortranOrder3dAnd1d) {
  // C array a[i][j][k] = 100i + 10j + k of shape (2,3,4), stored column-major.
  std::string data;
  std::vector<std::int16_t> c_order;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) c_order.push_back(static_cast<std::int16_t>(100 * i + 10 * j + k));
  std::vector<std::byte> f_bytes;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) {
        const auto v = static_cast<std::uint16_t>(100 * i + 10 * j + k);
        f_bytes.push_back(static_cast<std::byte>(v & 0xff));
        f_bytes.push_back(static_cast<std::byte>(v >> 8));
      }
  const auto file = npy_file(
      numpy_header("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }", 20), to_hex(f_bytes));
  const NDArray a = npy::decode(shared(file));
  EXPECT_EQ(a, NDArray::from_span<std::int16_t>(c_order, {2, 3, 4}));
  // Fortran order of a 1-d array is C order: still a view.
  const auto f1 =
      npy_file(numpy_header("{'descr': '<i2', 'fortran_order': True, 'shape': (2,), }", 20), "01000200");
  const NDArray b = npy::decode(shared(f1));
  EXPECT_TRUE(b.is_view());
  EXPECT_EQ(b.view<std::int16_t>()[1], 2);
}

void expect_decode_error(const std::vector<std::byte>& bytes, const std::string& needle) {
  try {
    (void)npy::decode(shared(bytes));
    ADD_FAILURE() << "no DecodeError, expected one mentioning: " << needle;
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Npy, MalformedPrefixes) {
  const auto good = npy::encode(NDArray::from_span<float>(std::vector<float>{1, 2, 3}));
  expect_decode_error({}, "truncated");
  expect_decode_error(std::vector<std::byte>(good.begin(), good.begin() + 9), "truncated");
  auto bad = good;
  bad[1] = std::byte{'n'};
  expect_decode_error(bad, "magic");
  bad = good;
  bad[6] = std::byte{4};
  expect_decode_error(bad, "version 4.0");
  bad = good;
  bad[7] = std::byte{1};
  expect_decode_error(bad, "version 1.1");
  bad = good;
  bad[6] = std::byte{0};
  expect_decode_error(bad, "version 0.0");
  bad = good;
  bad[8] = std::byte{0xff};
  bad[9] = std::byte{0xff};
  expect_decode_error(bad, "header length 65535");
  expect_decode_error(from_hex("934e554d5059020076000000"), "header length");
  expect_decode_error(from_hex("934e554d50590200ffffffff"), "header length 4294967295");
  expect_decode_error(from_hex("934e554d505902007600"), "truncated");
  // Truncation anywhere in a valid file fails cleanly.
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_THROW(npy::decode(shared(std::vector<std::byte>(good.begin(), good.begin() + cut))), DecodeError)
        << cut;
  }
}

TEST(Npy, MalformedHeaders) {
  struct Case {
    const char* header;
    const char* data_hex;
    const char* needle;
  };
  const Case cases[] = {
      {"['descr', '<f4']\n", "", "dict"},
      {"{'descr': '<f4', 'fortran_order': False}\n", "", "lacks key 'shape'"},
      {"{'descr': '<f4', 'shape': (1,)}\n", "00000000", "lacks key 'fortran_order'"},
      {"{'fortran_order': False, 'shape': (1,)}\n", "00000000", "lacks key 'descr'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n", "00000000", "duplicate"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}\n", "00000000", "unexpected key"},
      {"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", "0000000000000000",
       "object arrays are not supported"},
      {"{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }\n", "000000", "unsupported dtype"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", "00000000", "structured"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,), }\n", "00000000", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1), }\n", "00000000", "must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1], }\n", "00000000", "must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", "", "negative dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,,), }\n", "00000000", "integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }\n", "00000000", "integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }\n", "00000000", "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", "", "too large"},
      {"{'descr: '<f4', 'fortran_order': False, 'shape': (1,), }\n", "00000000", "expected ':'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x\n", "00000000", "after the header dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), \n", "00000000", "expected a quoted key"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }\n", "00000000", "expected ',' or '}'"},
      {"{'descr': '<f4\\x', 'fortran_order': False, 'shape': (1,), }\n", "00000000", "escape"},
      {"{'descr': '<f4", "", "unterminated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\xe9\n", "00000000", "non-ASCII"},
      {"", "", "dict"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    expect_decode_error(npy_file(c.header, c.data_hex), c.needle);
  }
  // 65 dimensions.
  std::string dims;
  for (int i = 0; i < 65; ++i) dims += "1, ";
  expect_decode_error(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }\n", "00"),
                      "more than 64");
}

TEST(Npy, DataLengthMustMatchShapeAndHugeShapesFailFast) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
  expect_decode_error(npy_file(dict, "0000803f00000040000040"), "data is 11 bytes");
  expect_decode_error(npy_file(dict, "0000803f000000400000404000"), "data is 13 bytes");
  const auto start = std::chrono::steady_clock::now();
  expect_decode_error(
      npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }\n",
               "00112233445566778899"),
      "overflows");
  expect_decode_error(
      npy_file("{'descr': '|u1', 'fortran_order': True, 'shape': (1152921504606846976, 2), }\n",
               "00112233445566778899"),
      "needs 2305843009213693952");
  expect_decode_error(
      npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n", "00"),
      "overflows");
  expect_decode_error(
      npy_file("{'descr': '|S268435456', 'fortran_order': False, 'shape': (1099511627776,), }\n", "00"),
      "overflows");
  expect_decode_error(
      npy_file("{'descr': '|S268435456', 'fortran_order': False, 'shape': (1024,), }\n", "00"),
      "needs 274877906944");
  // No allocation or scan happened (correctness, not a timing assertion: the
  // bound is generous enough to only catch an attempt to touch 2^62 bytes).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // A zero-size dimension makes any other dimension irrelevant.
  EXPECT_EQ(
      npy::decode(shared(npy_file(
                      "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 9223372036854775807), }\n", "")))
          .size(),
      0u);
}

TEST(Compact, Malformed) {
  auto err = [](const std::string& hex, const std::string& needle) {
    try {
      (void)compact::decode(shared(from_hex(hex)));
      ADD_FAILURE() << "no DecodeError for " << hex;
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  err("", "empty");
  err("00", "length is 0");
  err("033c66", "truncated");
  err("033c6634", "truncated");
  err("033c6633 00 00000000", "unsupported dtype");
  err("027c4f 00 0000000000000000", "object arrays are not supported");
  err("033c6634 41", "ndim 65");
  err("033c6634 02 0100000000000000", "truncated: shape");
  err("033c6634 01 ffffffffffffffff", "negative dimension");
  err("033c6634 01 0100000000000000 000000", "data is 3 bytes");
  err("033c6634 01 0100000000000000 0000000000", "data is 5 bytes");
  err("033c6634 02 ffffffffffffff3f ffffffffffffff3f 00", "overflows");
  // Truncation anywhere fails cleanly.
  const auto good = compact::encode(NDArray::from_span<float>(std::vector<float>{1, 2, 3}));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_THROW(compact::decode(shared(std::vector<std::byte>(good.begin(), good.begin() + cut))),
                 DecodeError);
  }
}

// Golden shard written by Python atdata: every sample's features array, found
// by its .npy magic inside the msgpack bin16 value, decodes to the expected
// dtype/shape/values/digests, and re-encoding reproduces numpy's bytes.
TEST(Npy, GoldenShardArrays) {
  std::ifstream tar_in(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar", std::ios::binary);
  ASSERT_TRUE(tar_in);
  std::string tar((std::istreambuf_iterator<char>(tar_in)), std::istreambuf_iterator<char>());
  std::ifstream json_in(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.expected.json");
  ASSERT_TRUE(json_in);
  std::string json_text((std::istreambuf_iterator<char>(json_in)), std::istreambuf_iterator<char>());
  const auto expected = boost::json::parse(json_text).as_object();
  const auto& samples = expected.at("samples").as_array();
  ASSERT_EQ(samples.size(), 50u);
  const SharedBytes whole = SharedBytes::copy_of(tar);
  std::size_t pos = 0;
  for (const auto& sv : samples) {
    const auto& f = sv.as_object().at("fields").as_object().at("features").as_object();
    const auto& npy_info = f.at("npy").as_object();
    pos = tar.find("\x93NUMPY", pos);
    ASSERT_NE(pos, std::string::npos);
    ASSERT_EQ(static_cast<unsigned char>(tar[pos - 3]), 0xc5);  // bin16
    const std::size_t len =
        static_cast<unsigned char>(tar[pos - 2]) << 8 | static_cast<unsigned char>(tar[pos - 1]);
    ASSERT_EQ(len, static_cast<std::size_t>(npy_info.at("len").as_int64()));
    const SharedBytes bytes = whole.slice(pos, len);
    EXPECT_EQ(test::sha256_hex(bytes.span()), npy_info.at("sha256").as_string());
    const NDArray a = npy::decode(bytes);
    EXPECT_TRUE(a.is_view());
    EXPECT_EQ(a.bytes().data(), bytes.data() + npy_info.at("data_offset").as_int64());
    EXPECT_EQ(a.dtype().str(), f.at("dtype").as_string());
    EXPECT_EQ(a.dtype().name(), f.at("dtype_name").as_string());
    const auto& shape = f.at("shape").as_array();
    ASSERT_EQ(a.ndim(), shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) EXPECT_EQ(a.shape()[i], shape[i].as_int64());
    EXPECT_EQ(test::sha256_hex(a.bytes()), f.at("sha256").as_string());
    std::vector<float> values(a.size());
    a.convert_into<float>(values);  // the view is unaligned inside the tar: conversion handles it
    const auto& first = f.at("first").as_array();
    for (std::size_t i = 0; i < first.size(); ++i)
      EXPECT_EQ(values[i], static_cast<float>(first[i].as_double()));
    // Our writer reproduces numpy's bytes exactly, header included.
    const auto re = npy::encode(a);
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(re.data()) + 10, npy_info.at("header_len").as_int64()),
        npy_info.at("header").as_string());
    EXPECT_EQ(re.size(), len);
    EXPECT_TRUE(std::equal(re.begin(), re.end(), bytes.data()));
    pos += len;
  }
}

// Deterministic mutation fuzzing of both formats: every outcome is either a
// valid array whose bytes lie inside the input, or a DecodeError. Any other
// exception type, a crash or a sanitizer report fails the test.
TEST(ArrayDecoding, RandomMutationsOnlyEverThrowDecodeError) {
  std::vector<std::vector<std::byte>> seeds;
  seeds.push_back(npy::encode(patterned(Dtype::of<float>(), {3})));
  seeds.push_back(npy::encode(patterned(Dtype::parse(">i2"), {2, 3, 4})));
  seeds.push_back(npy::encode(patterned(Dtype::parse("<U2"), {2})));
  seeds.push_back(npy::encode(NDArray::zeros(Dtype::of<double>(), {})));
  seeds.push_back(npy_file(numpy_header("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", 20),
                           "010002000300040005000600"));
  seeds.push_back(compact::encode(patterned(Dtype::of<std::uint8_t>(), {2, 2})));
  seeds.push_back(compact::encode(patterned(Dtype::parse("<c8"), {1})));
  const std::string_view alphabet = "(),:' 0123456789-L{}[]TrueFals<>|fiucbSUO\n\"\x93";
  std::mt19937 rng(20261125);
  int decoded = 0, rejected = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::vector<std::byte> b = seeds[rng() % seeds.size()];
    const int muts = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < muts && !b.empty(); ++m) {
      const std::size_t pos = rng() % b.size();
      switch (rng() % 5) {
        case 0:
          b[pos] = static_cast<std::byte>(rng());
          break;
        case 1:
          b[pos] = static_cast<std::byte>(alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          b.resize(pos);
          break;
        case 3:
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos),
                   static_cast<std::byte>(alphabet[rng() % alphabet.size()]));
          break;
        default:
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(pos));
          break;
      }
    }
    const SharedBytes in = shared(b);
    try {
      const NDArray a = decode_array(in);
      ASSERT_LE(a.nbytes(), b.size());
      if (a.is_view() && a.nbytes()) {
        ASSERT_GE(a.bytes().data(), in.data());
        ASSERT_LE(a.bytes().data() + a.nbytes(), in.data() + in.size());
      }
      ++decoded;
    } catch (const DecodeError&) {
      ++rejected;
    }
  }
  // Both outcomes occur, so the mutations exercise the parsers, not just the magic check.
  EXPECT_GT(decoded, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace atdata
