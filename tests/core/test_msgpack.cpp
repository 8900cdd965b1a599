// msgpack Reader/Writer: byte-exact writer families (docs/format.md
// reference encodings), reader acceptance of every standard family, and
// hostile-input rejection.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "atdata/core/msgpack.hpp"
#include "support/hex.hpp"

using namespace atdata;
using atdata::test::from_hex;
using atdata::test::to_hex;

namespace {

template <class F>
std::string enc(F&& f) {
  std::vector<std::byte> out;
  msgpack::Writer w(out);
  f(w);
  return to_hex(out);
}

}  // namespace

TEST(MsgpackWriter, SpecReferenceEncodings) {
  EXPECT_EQ(enc([](auto& w) { w.write_double(1.5); }), "cb3ff8000000000000");
  EXPECT_EQ(enc([](auto& w) { w.write_int(-1); }), "ff");
  EXPECT_EQ(enc([](auto& w) { w.write_int(-33); }), "d0df");
  EXPECT_EQ(enc([](auto& w) { w.write_int(128); }), "cc80");
  EXPECT_EQ(enc([](auto& w) { w.write_int(std::int64_t{1} << 32); }), "cf0000000100000000");
  EXPECT_EQ(enc([](auto& w) { w.write_int(-(std::int64_t{1} << 31) - 1); }), "d3ffffffff7fffffff");
  EXPECT_EQ(enc([](auto& w) { w.write_int(300); }), "cd012c");
  EXPECT_EQ(enc([](auto& w) { w.write_int(-40); }), "d0d8");
  EXPECT_EQ(enc([](auto& w) { w.write_double(0.5); }), "cb3fe0000000000000");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(40, 'x')); }).substr(0, 4), "d928");
  EXPECT_EQ(enc([](auto& w) { w.write_bin(std::vector<std::byte>(300)); }).substr(0, 6), "c5012c");
  // {"split":"train","samples":10000}
  EXPECT_EQ(enc([](auto& w) {
              w.write_map_header(2);
              w.write_str("split");
              w.write_str("train");
              w.write_str("samples");
              w.write_int(10000);
            }),
            "82a573706c6974a5747261696ea773616d706c6573cd2710");
}

TEST(MsgpackWriter, IntegerFamilyBoundaries) {
  struct Case {
    std::int64_t v;
    const char* hex;
  };
  const Case cases[] = {
      {0, "00"},
      {127, "7f"},
      {255, "ccff"},
      {256, "cd0100"},
      {65535, "cdffff"},
      {65536, "ce00010000"},
      {4294967295LL, "ceffffffff"},
      {-32, "e0"},
      {-128, "d080"},
      {-129, "d1ff7f"},
      {-32768, "d18000"},
      {-32769, "d2ffff7fff"},
      {-2147483648LL, "d280000000"},
      {std::numeric_limits<std::int64_t>::min(), "d38000000000000000"},
      {std::numeric_limits<std::int64_t>::max(), "cf7fffffffffffffff"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(enc([&](auto& w) { w.write_int(c.v); }), c.hex) << c.v;
    // And the reader gets the value back from the exact bytes.
    const auto b = from_hex(c.hex);
    msgpack::Reader r(b);
    EXPECT_EQ(r.read_int<std::int64_t>(), c.v);
    EXPECT_TRUE(r.at_end());
  }
  EXPECT_EQ(enc([](auto& w) { w.write_uint(std::numeric_limits<std::uint64_t>::max()); }),
            "cfffffffffffffffff");
  EXPECT_EQ(enc([](auto& w) { w.write_integer(std::uint8_t{200}); }), "ccc8");
  EXPECT_EQ(enc([](auto& w) { w.write_integer(std::int8_t{-5}); }), "fb");
}

TEST(MsgpackWriter, OtherFamilies) {
  EXPECT_EQ(enc([](auto& w) { w.write_nil(); }), "c0");
  EXPECT_EQ(enc([](auto& w) { w.write_bool(false); }), "c2");
  EXPECT_EQ(enc([](auto& w) { w.write_bool(true); }), "c3");
  EXPECT_EQ(enc([](auto& w) { w.write_str(""); }), "a0");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(31, 'a')); }).substr(0, 2), "bf");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(32, 'a')); }).substr(0, 4), "d920");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(255, 'a')); }).substr(0, 4), "d9ff");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(256, 'a')); }).substr(0, 6), "da0100");
  EXPECT_EQ(enc([](auto& w) { w.write_str(std::string(65536, 'a')); }).substr(0, 10), "db00010000");
  EXPECT_EQ(enc([](auto& w) { w.write_bin({}); }), "c400");
  EXPECT_EQ(enc([](auto& w) { w.write_bin(std::vector<std::byte>(65536)); }).substr(0, 10), "c600010000");
  EXPECT_EQ(enc([](auto& w) { w.write_array_header(15); }), "9f");
  EXPECT_EQ(enc([](auto& w) { w.write_array_header(16); }), "dc0010");
  EXPECT_EQ(enc([](auto& w) { w.write_array_header(70000); }), "dd00011170");
  EXPECT_EQ(enc([](auto& w) { w.write_map_header(15); }), "8f");
  EXPECT_EQ(enc([](auto& w) { w.write_map_header(16); }), "de0010");
  EXPECT_EQ(enc([](auto& w) { w.write_map_header(70000); }), "df00011170");
}

TEST(MsgpackWriter, SpecialDoublesBitExact) {
  EXPECT_EQ(enc([](auto& w) { w.write_double(-0.0); }), "cb8000000000000000");
  EXPECT_EQ(enc([](auto& w) { w.write_double(std::numeric_limits<double>::infinity()); }),
            "cb7ff0000000000000");
  EXPECT_EQ(enc([](auto& w) { w.write_double(-std::numeric_limits<double>::infinity()); }),
            "cbfff0000000000000");
  const double nan = std::bit_cast<double>(std::uint64_t{0x7ff8000000000001});
  EXPECT_EQ(enc([&](auto& w) { w.write_double(nan); }), "cb7ff8000000000001");
  for (double v : {0.0, -0.0, 1e-300, 1e300, 3.14159}) {
    std::vector<std::byte> out;
    msgpack::Writer(out).write_double(v);
    msgpack::Reader r(out);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(r.read_double()), std::bit_cast<std::uint64_t>(v));
  }
}

TEST(MsgpackReader, AcceptsEveryFamily) {
  // uint8..64 / int8..64 that a Python writer would never choose are still read.
  EXPECT_EQ(msgpack::Reader(from_hex("cc05")).read_int<int>(), 5);
  EXPECT_EQ(msgpack::Reader(from_hex("cd0005")).read_int<int>(), 5);
  EXPECT_EQ(msgpack::Reader(from_hex("ce00000005")).read_int<int>(), 5);
  EXPECT_EQ(msgpack::Reader(from_hex("cf0000000000000005")).read_int<int>(), 5);
  EXPECT_EQ(msgpack::Reader(from_hex("d005")).read_int<int>(), 5);
  EXPECT_EQ(msgpack::Reader(from_hex("d1fffb")).read_int<int>(), -5);
  EXPECT_EQ(msgpack::Reader(from_hex("d2fffffffb")).read_int<int>(), -5);
  EXPECT_EQ(msgpack::Reader(from_hex("d3fffffffffffffffb")).read_int<int>(), -5);
  // float32 widened exactly.
  EXPECT_EQ(msgpack::Reader(from_hex("ca3fc00000")).read_double(), 1.5);
  EXPECT_EQ(msgpack::Reader(from_hex("cb3ff8000000000000")).read_double(), 1.5);
  // str families
  EXPECT_EQ(msgpack::Reader(from_hex("a3616263")).read_str(), "abc");
  EXPECT_EQ(msgpack::Reader(from_hex("d903616263")).read_str(), "abc");
  EXPECT_EQ(msgpack::Reader(from_hex("da0003616263")).read_str(), "abc");
  EXPECT_EQ(msgpack::Reader(from_hex("db00000003616263")).read_str(), "abc");
  // bin families
  EXPECT_EQ(to_hex(msgpack::Reader(from_hex("c4020102")).read_bin()), "0102");
  EXPECT_EQ(to_hex(msgpack::Reader(from_hex("c500020102")).read_bin()), "0102");
  EXPECT_EQ(to_hex(msgpack::Reader(from_hex("c6000000020102")).read_bin()), "0102");
  // array / map families
  EXPECT_EQ(msgpack::Reader(from_hex("920102")).read_array_header(), 2u);
  EXPECT_EQ(msgpack::Reader(from_hex("dc00020102")).read_array_header(), 2u);
  EXPECT_EQ(msgpack::Reader(from_hex("dd000000020102")).read_array_header(), 2u);
  EXPECT_EQ(msgpack::Reader(from_hex("81a16101")).read_map_header(), 1u);
  EXPECT_EQ(msgpack::Reader(from_hex("de0001a16101")).read_map_header(), 1u);
  EXPECT_EQ(msgpack::Reader(from_hex("df00000001a16101")).read_map_header(), 1u);
  EXPECT_TRUE(msgpack::Reader(from_hex("c3")).read_bool());
  EXPECT_FALSE(msgpack::Reader(from_hex("c2")).read_bool());
  const auto nb = from_hex("c0");
  msgpack::Reader nil(nb);
  EXPECT_TRUE(nil.next_is_nil());
  nil.read_nil();
  EXPECT_TRUE(nil.at_end());
}

TEST(MsgpackReader, ZeroCopyViews) {
  const auto sb =
      SharedBytes::copy_of(std::string_view("\xa3"
                                            "abc"
                                            "\xc4\x02\x01\x02",
                                            8));
  msgpack::Reader r(sb);
  const auto s = r.read_str();
  EXPECT_EQ(static_cast<const void*>(s.data()), static_cast<const void*>(sb.data() + 1));
  const auto bin = r.read_bin_shared();
  EXPECT_EQ(bin.data(), sb.data() + 6);
  EXPECT_EQ(bin.owner(), sb.owner());
  r.expect_end();
}

TEST(MsgpackReader, Uint64AndRangeChecks) {
  const auto ub = from_hex("cfffffffffffffffff");
  msgpack::Reader r(ub);
  const auto v = r.read_integer();
  EXPECT_FALSE(v.negative);
  EXPECT_EQ(v.bits, std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(v.as<std::int64_t>());
  EXPECT_THROW(msgpack::Reader(from_hex("cd012c")).read_int<std::int8_t>(), DecodeError);
  EXPECT_THROW(msgpack::Reader(from_hex("ff")).read_int<std::uint32_t>(), DecodeError);
  EXPECT_EQ(msgpack::Reader(from_hex("d080")).read_int<std::int8_t>(), -128);
  EXPECT_THROW(msgpack::Reader(from_hex("d1ff7f")).read_int<std::int8_t>(), DecodeError);
}

TEST(MsgpackReader, RejectsHostileInput) {
  auto fails = [](std::string_view hex, auto op) {
    const auto b = from_hex(hex);
    msgpack::Reader r(b);
    try {
      op(r);
    } catch (const DecodeError& e) {
      EXPECT_TRUE(e.offset().has_value()) << e.what();
      return;
    }
    ADD_FAILURE() << "no DecodeError for " << hex;
  };
  auto skip = [](msgpack::Reader& r) { r.skip(); };
  // Truncations of every multi-byte family.
  for (const char* hex : {"",
                          "cc",
                          "cd00",
                          "ce0000",
                          "cf00000000000000",
                          "d0",
                          "d1ff",
                          "d2ffffff",
                          "d3ffffffffffffff",
                          "ca000000",
                          "cb00000000000000",
                          "a2",
                          "a361",
                          "d9",
                          "d905",
                          "da0001",
                          "db000000",
                          "db00000001",
                          "c4",
                          "c40301",
                          "c5",
                          "c6000000",
                          "c6000000ff",
                          "dc00",
                          "dd000000",
                          "de00",
                          "df000000"}) {
    fails(hex, skip);
  }
  // Ext, fixext, timestamp, reserved.
  for (const char* hex : {"c1", "c70100", "c8000100", "c90000000100", "d40001", "d5000102", "d6ff00000000",
                          "d7ff0000000000000000",
                          "d800"
                          "00000000000000000000000000000000"}) {
    fails(hex, skip);
  }
  // Ext nested inside a map.
  fails("81a161d40001", skip);
  // Huge counts in few bytes fail before anything is allocated or iterated.
  fails("ddffffffff00000000", [](auto& r) { r.read_array_header(); });
  fails("dfffffffff00000000", [](auto& r) { r.read_map_header(); });
  fails(
      "dc0003"
      "0102",
      [](auto& r) { r.read_array_header(); });
  fails("83a16101a16202", skip);  // 3 entries claimed, 2 present
  fails("db7fffffff616263", [](auto& r) { r.read_str(); });
  fails("c6ffffffff0000", [](auto& r) { r.read_bin(); });
  // Deep nesting: 65 nested arrays.
  std::string deep(65 * 2, '9');
  for (std::size_t i = 1; i < deep.size(); i += 2) deep[i] = '1';
  deep += "c0";
  fails(deep, skip);
  // 64 levels is fine.
  {
    std::string ok;
    for (int i = 0; i < 64; ++i) ok += "91";
    ok += "c0";
    const auto b = from_hex(ok);
    msgpack::Reader r(b);
    r.skip();
    EXPECT_TRUE(r.at_end());
  }
  // Wrong types are errors with the offset of the offending value.
  const auto b = from_hex("92a16101");
  msgpack::Reader r(b);
  r.read_array_header();
  r.read_str();
  try {
    r.read_str();
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.offset(), 3u);
    EXPECT_NE(std::string(e.what()).find("expected str, got int"), std::string::npos) << e.what();
  }
  // Trailing bytes.
  const auto tb = from_hex("c0c0");
  msgpack::Reader t(tb);
  t.skip();
  EXPECT_THROW(t.expect_end(), DecodeError);
}

TEST(MsgpackReader, ReadRawAndSkipRoundTrip) {
  const auto b = from_hex("82a16192c0c3a162cb3ff8000000000000");
  msgpack::Reader r(b);
  EXPECT_EQ(r.peek(), msgpack::Type::map);
  const auto raw = r.read_raw();
  EXPECT_EQ(raw.size(), b.size());
  EXPECT_TRUE(r.at_end());
}
