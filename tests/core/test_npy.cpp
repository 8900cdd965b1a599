// .npy (format A) and compact (format B) byte-level tests: every example of
// wire-format §2.1 / §2.2, version 2/3 headers, Fortran order, and malformed
// inputs that must fail with DecodeError.

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/compact_array.hpp"
#include "atdata/core/npy.hpp"
#include "support/hex.hpp"

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

}  // namespace
}  // namespace atdata
