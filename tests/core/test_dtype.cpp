#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>

#include "atdata/core/dtype.hpp"
#include "atdata/core/float16.hpp"

namespace atdata {
namespace {

TEST(Dtype, ParseAndStrRoundTripEveryKind) {
  struct Case {
    const char* in;
    const char* str;
    const char* name;
    std::size_t itemsize;
    DtypeKind kind;
  };
  const Case cases[] = {
      {"|b1", "|b1", "bool", 1, DtypeKind::Bool},
      {"|i1", "|i1", "int8", 1, DtypeKind::Int8},
      {"<i2", "<i2", "int16", 2, DtypeKind::Int16},
      {"<i4", "<i4", "int32", 4, DtypeKind::Int32},
      {">i4", ">i4", "int32", 4, DtypeKind::Int32},
      {"<i8", "<i8", "int64", 8, DtypeKind::Int64},
      {"|u1", "|u1", "uint8", 1, DtypeKind::UInt8},
      {"<u2", "<u2", "uint16", 2, DtypeKind::UInt16},
      {">u4", ">u4", "uint32", 4, DtypeKind::UInt32},
      {"<u8", "<u8", "uint64", 8, DtypeKind::UInt64},
      {"<f2", "<f2", "float16", 2, DtypeKind::Float16},
      {"<f4", "<f4", "float32", 4, DtypeKind::Float32},
      {">f8", ">f8", "float64", 8, DtypeKind::Float64},
      {"<c8", "<c8", "complex64", 8, DtypeKind::Complex64},
      {"<c16", "<c16", "complex128", 16, DtypeKind::Complex128},
      {">c16", ">c16", "complex128", 16, DtypeKind::Complex128},
      {"|S5", "|S5", "bytes40", 5, DtypeKind::Bytes},
      {"<U3", "<U3", "str96", 12, DtypeKind::Unicode},
      {">U3", ">U3", "str96", 12, DtypeKind::Unicode},
      // Accepted spellings that normalise.
      {"<u1", "|u1", "uint8", 1, DtypeKind::UInt8},
      {">b1", "|b1", "bool", 1, DtypeKind::Bool},
      {"=f4", "<f4", "float32", 4, DtypeKind::Float32},
      {"f8", "<f8", "float64", 8, DtypeKind::Float64},
      {"S2", "|S2", "bytes16", 2, DtypeKind::Bytes},
  };
  static_assert(std::endian::native == std::endian::little, "expectations assume a little-endian host");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    const Dtype d = Dtype::parse(c.in);
    EXPECT_EQ(d.str(), c.str);
    EXPECT_EQ(d.name(), c.name);
    EXPECT_EQ(d.itemsize(), c.itemsize);
    EXPECT_EQ(d.kind(), c.kind);
    EXPECT_EQ(Dtype::parse(d.str()), d);
    EXPECT_EQ(Dtype::try_parse(c.in), d);
  }
}

TEST(Dtype, ByteOrderAndNative) {
  EXPECT_TRUE(Dtype::parse("<f4").is_native());
  EXPECT_FALSE(Dtype::parse(">f4").is_native());
  EXPECT_TRUE(Dtype::parse("|u1").is_native());
  EXPECT_EQ(Dtype::parse("|u1").byte_order(), ByteOrder::NotApplicable);
  EXPECT_EQ(Dtype::parse(">i8").native(), Dtype::parse("<i8"));
  EXPECT_EQ(Dtype::parse("<i8").with_byte_order(ByteOrder::Big).str(), ">i8");
  EXPECT_EQ(Dtype::parse("|S4").with_byte_order(ByteOrder::Big).str(), "|S4");
  EXPECT_EQ(Dtype::parse(">U2").native().str(), "<U2");
  EXPECT_NE(Dtype::parse("<f4"), Dtype::parse(">f4"));
}

TEST(Dtype, RejectsGarbageWithDecodeError) {
  for (const char* bad : {"", "<", "<f", "<f3", "<i16", "<x4", "f4 ", "<f-4", "<c4", "|b2", "<S0", "<U0",
                          "<U99999999999", "<f4<", "float32", "[('a', '<f4')]"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(Dtype::parse(bad), DecodeError);
    EXPECT_FALSE(Dtype::try_parse(bad).has_value());
  }
}

TEST(Dtype, ObjectDtypeGetsAClearMessage) {
  try {
    Dtype::parse("|O");
    FAIL() << "no exception";
  } catch (const DecodeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("object arrays are not supported"), std::string::npos) << what;
    EXPECT_EQ(what.find("unpickl"), std::string::npos) << what;
  }
  EXPECT_THROW(Dtype::parse("<O8"), DecodeError);
}

TEST(Dtype, FromNameAndOf) {
  EXPECT_EQ(Dtype::from_name("float32"), Dtype::of<float>());
  EXPECT_EQ(Dtype::from_name("float64"), Dtype::of<double>());
  EXPECT_EQ(Dtype::from_name("float16"), Dtype::of<float16>());
  EXPECT_EQ(Dtype::from_name("bool"), Dtype::of<bool>());
  EXPECT_EQ(Dtype::from_name("int8"), Dtype::of<std::int8_t>());
  EXPECT_EQ(Dtype::from_name("int16"), Dtype::of<std::int16_t>());
  EXPECT_EQ(Dtype::from_name("int32"), Dtype::of<std::int32_t>());
  EXPECT_EQ(Dtype::from_name("int64"), Dtype::of<std::int64_t>());
  EXPECT_EQ(Dtype::from_name("int64"), Dtype::of<long long>());
  EXPECT_EQ(Dtype::from_name("uint8"), Dtype::of<std::uint8_t>());
  EXPECT_EQ(Dtype::from_name("uint16"), Dtype::of<std::uint16_t>());
  EXPECT_EQ(Dtype::from_name("uint32"), Dtype::of<std::uint32_t>());
  EXPECT_EQ(Dtype::from_name("uint64"), Dtype::of<std::uint64_t>());
  EXPECT_EQ(Dtype::from_name("complex64"), Dtype::of<std::complex<float>>());
  EXPECT_EQ(Dtype::from_name("complex128"), Dtype::of<std::complex<double>>());
  EXPECT_THROW(Dtype::from_name("float"), InvalidArgument);
  EXPECT_THROW(Dtype::from_name("<f4"), InvalidArgument);
  EXPECT_FALSE(Dtype::try_from_name("object").has_value());
  for (const char* n : {"bool", "int8", "uint64", "float16", "complex128"})
    EXPECT_EQ(Dtype::from_name(n).name(), n);
  static_assert(Dtype::of<float>().itemsize() == 4);
  static_assert(Dtype().kind() == DtypeKind::Float64);
}

TEST(Dtype, StringConstructors) {
  EXPECT_EQ(Dtype::bytes(7).str(), "|S7");
  EXPECT_EQ(Dtype::unicode(2, ByteOrder::Big).str(), ">U2");
  EXPECT_EQ(Dtype::unicode(2).itemsize(), 8u);
  EXPECT_THROW(Dtype::bytes(0), InvalidArgument);
  EXPECT_THROW(Dtype::numeric(DtypeKind::Bytes), InvalidArgument);
}

// float16: exhaustive check of half -> float -> half and of rounding.
TEST(Float16, EveryBitPatternRoundTripsThroughFloat) {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const float16 h = float16::from_bits(static_cast<std::uint16_t>(b));
    const float f = static_cast<float>(h);
    const bool is_nan = (b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0;
    if (is_nan) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_TRUE(std::isnan(static_cast<float>(float16(f))));
    } else {
      ASSERT_EQ(float16(f).bits, b) << std::hex << b;
      ASSERT_EQ(float16(static_cast<double>(f)).bits, b) << std::hex << b;
    }
  }
}

TEST(Float16, KnownValuesAndRounding) {
  EXPECT_EQ(float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(float16(-2.0f).bits, 0xc000);
  EXPECT_EQ(float16(65504.0f).bits, 0x7bff);
  EXPECT_EQ(float16(65520.0f).bits, 0x7c00);  // rounds to inf
  EXPECT_EQ(float16(65519.99f).bits, 0x7bff);
  EXPECT_EQ(float16(std::numeric_limits<float>::infinity()).bits, 0x7c00);
  EXPECT_EQ(float16(5.960464477539063e-08).bits, 0x0001);   // smallest subnormal
  EXPECT_EQ(float16(2.9802322387695312e-08).bits, 0x0000);  // exactly half: ties to even (0)
  EXPECT_EQ(float16(2.98023224e-08 * 1.0000001).bits, 0x0001);
  EXPECT_EQ(float16(1.0f + 1.0f / 2048).bits, 0x3c00);  // tie -> even
  EXPECT_EQ(float16(1.0f + 3.0f / 2048).bits, 0x3c02);  // tie -> even (up)
  EXPECT_EQ(float16(-0.0f).bits, 0x8000);
  EXPECT_EQ(float16(6.097555160522461e-05).bits, 0x03ff);  // largest subnormal
  EXPECT_EQ(float16(6.103515625e-05).bits, 0x0400);        // smallest normal
  // Rounding every float in a dense range agrees with the nearest candidate.
  for (std::uint32_t b = 0x33000000; b < 0x477fe000; b += 0x1f3) {
    const float f = std::bit_cast<float>(b);
    const float16 h(f);
    const float lo = static_cast<float>(h);
    const float next_up = static_cast<float>(float16::from_bits(static_cast<std::uint16_t>(h.bits + 1)));
    ASSERT_LE(std::fabs(f - lo), std::fabs(f - next_up)) << f;
    if (h.bits != 0) {
      const float next_dn = static_cast<float>(float16::from_bits(static_cast<std::uint16_t>(h.bits - 1)));
      ASSERT_LE(std::fabs(f - lo), std::fabs(f - next_dn)) << f;
    }
  }
}

}  // namespace
}  // namespace atdata
