#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "atdata/core/ndarray.hpp"
#include "atdata/core/simd.hpp"

namespace atdata {
namespace {

template <class T>
std::vector<T> values_of(const NDArray& a) {
  if constexpr (std::is_same_v<T, bool>) {  // vector<bool> has no contiguous storage
    auto tmp = std::make_unique<bool[]>(a.size());
    a.convert_into<bool>(std::span(tmp.get(), a.size()));
    return std::vector<bool>(tmp.get(), tmp.get() + a.size());
  } else {
    std::vector<T> out(a.size());
    a.convert_into<T>(out);
    return out;
  }
}

TEST(NDArray, DefaultIsEmptyFloat64Vector) {
  const NDArray a;
  EXPECT_EQ(a.dtype(), Dtype::of<double>());
  ASSERT_EQ(a.ndim(), 1u);
  EXPECT_EQ(a.shape()[0], 0);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.nbytes(), 0u);
  EXPECT_TRUE(a.bytes().empty());
  EXPECT_FALSE(a.is_view());
}

TEST(NDArray, ZerosShapesAndSizes) {
  const NDArray s = NDArray::zeros(Dtype::of<float>(), {});
  EXPECT_EQ(s.ndim(), 0u);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.nbytes(), 4u);
  const NDArray e = NDArray::zeros(Dtype::of<float>(), {3, 0, 5});
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.nbytes(), 0u);
  const NDArray m = NDArray::zeros(Dtype::of<std::int16_t>(), {2, 3, 4, 5});
  EXPECT_EQ(m.size(), 120u);
  EXPECT_EQ(m.nbytes(), 240u);
  for (auto b : m.bytes()) ASSERT_EQ(b, std::byte{0});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m.bytes().data()) % NDArray::kAlignment, 0u);
  EXPECT_EQ(m.describe(), "int16 (2, 3, 4, 5)");
  const NDArray u = NDArray::empty(Dtype::of<double>(), {3, 5});
  EXPECT_EQ(u.nbytes(), 120u);
  EXPECT_FALSE(u.is_view());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(u.bytes().data()) % NDArray::kAlignment, 0u);
  EXPECT_THROW(NDArray::empty(Dtype::of<float>(), {-3}), InvalidArgument);
  // Ranks above the inline capacity use heap storage for the dims.
  std::vector<std::int64_t> dims(20, 1);
  dims[19] = 3;
  NDArray big = NDArray::zeros(Dtype::of<std::uint8_t>(), dims);
  EXPECT_EQ(big.ndim(), 20u);
  EXPECT_EQ(big.shape()[19], 3);
  const NDArray copy = big;
  big = NDArray();
  EXPECT_EQ(copy.ndim(), 20u);
  EXPECT_EQ(copy.shape()[19], 3);
}

TEST(NDArray, RejectsBadShapes) {
  EXPECT_THROW(NDArray::zeros(Dtype::of<float>(), {-1}), InvalidArgument);
  EXPECT_THROW(NDArray::zeros(Dtype::of<float>(), std::vector<std::int64_t>(65, 1)), InvalidArgument);
  EXPECT_THROW(NDArray::zeros(Dtype::of<float>(), {std::int64_t{1} << 62, 4}), InvalidArgument);
  EXPECT_THROW(NDArray::zeros(Dtype::of<double>(), {std::int64_t{1} << 61}), InvalidArgument);
  // 64 dims is allowed.
  EXPECT_EQ(NDArray::zeros(Dtype::of<float>(), std::vector<std::int64_t>(64, 1)).ndim(), 64u);
}

TEST(NDArray, ViewIsZeroCopyAndKeepsSourceAlive) {
  std::vector<std::byte> raw(1 + 12);
  const float v[] = {1.5f, -2.0f, 3.25f};
  std::memcpy(raw.data() + 1, v, 12);
  SharedBytes src = SharedBytes::adopt(std::move(raw));
  const std::byte* where = src.data() + 1;
  NDArray a = NDArray::view(Dtype::of<float>(), {3}, src.slice(1, 12));
  src = SharedBytes();  // the array alone keeps the buffer alive
  EXPECT_TRUE(a.is_view());
  EXPECT_EQ(a.bytes().data(), where);
  EXPECT_FALSE(a.is_aligned());
  // Unaligned typed access is refused rather than undefined.
  EXPECT_THROW(a.view<float>(), TypeError);
  EXPECT_EQ(values_of<float>(a), (std::vector<float>{1.5f, -2.0f, 3.25f}));
  const NDArray b = a.aligned();
  EXPECT_FALSE(b.is_view());
  EXPECT_EQ(b.view<float>()[2], 3.25f);
  EXPECT_EQ(a, b);
  EXPECT_THROW(NDArray::view(Dtype::of<float>(), {4}, SharedBytes::copy_of(std::span(where, 12))),
               InvalidArgument);
}

TEST(NDArray, TypedAccessChecksDtype) {
  const std::int32_t v[] = {1, 2, 3, 4, 5, 6};
  const NDArray a = NDArray::from_span<std::int32_t>(v, {2, 3});
  EXPECT_EQ(a.view<std::int32_t>()[5], 6);
  EXPECT_THROW(a.view<float>(), TypeError);
  EXPECT_THROW(a.view<std::uint32_t>(), TypeError);
  const NDArray be = a.to(Dtype::numeric(DtypeKind::Int32, ByteOrder::Big));
  EXPECT_THROW(be.view<std::int32_t>(), TypeError);
  EXPECT_EQ(be.to_native(), a);
  EXPECT_EQ(be.to<std::int32_t>(), a);
  EXPECT_THROW(NDArray::from_span<std::int32_t>(v, {4}), InvalidArgument);
}

TEST(NDArray, CopyOnWrite) {
  const std::uint8_t v[] = {1, 2, 3};
  NDArray a = NDArray::from_span<std::uint8_t>(v);
  NDArray b = a;  // shares
  EXPECT_EQ(a.bytes().data(), b.bytes().data());
  b.mutable_view<std::uint8_t>()[0] = 9;
  EXPECT_NE(a.bytes().data(), b.bytes().data());
  EXPECT_EQ(a.view<std::uint8_t>()[0], 1);
  EXPECT_EQ(b.view<std::uint8_t>()[0], 9);
  // A sole owner writes in place.
  const std::byte* before = b.bytes().data();
  b.mutable_bytes()[1] = std::byte{7};
  EXPECT_EQ(b.bytes().data(), before);
  // A view never writes into its source.
  auto src = SharedBytes::copy_of(std::string_view("\x01\x02\x03", 3));
  NDArray view = NDArray::view(Dtype::of<std::uint8_t>(), {3}, src);
  view.mutable_bytes()[0] = std::byte{42};
  EXPECT_FALSE(view.is_view());
  EXPECT_EQ(src.data()[0], std::byte{1});
  EXPECT_EQ(view.view<std::uint8_t>()[0], 42);
  // Handing out the bytes makes the next write copy.
  SharedBytes out = b.shared_bytes();
  b.mutable_bytes()[0] = std::byte{0};
  EXPECT_EQ(out.data()[0], std::byte{9});
}

TEST(NDArray, EqualityAndReshape) {
  const float v[] = {1, 2, 3, 4, 5, 6};
  const NDArray a = NDArray::from_span<float>(v, {2, 3});
  EXPECT_EQ(a, NDArray::from_span<float>(v, {2, 3}));
  EXPECT_NE(a, NDArray::from_span<float>(v, {3, 2}));
  EXPECT_EQ(a.reshape({3, 2}), NDArray::from_span<float>(v, {3, 2}));
  EXPECT_THROW(a.reshape({4}), InvalidArgument);
  EXPECT_NE(a, a.to<double>());
  const NDArray nan1 = NDArray::from_span<float>(std::vector<float>{std::nanf("")});
  EXPECT_EQ(nan1, nan1.to_owned());  // bitwise
}

TEST(NDArray, ConversionSemantics) {
  const float f[] = {1.9f, -1.9f, std::nanf(""), 1e10f, -1e10f, 0.5f, 255.5f};
  const NDArray a = NDArray::from_span<float>(f);
  EXPECT_EQ(values_of<std::int32_t>(a),
            (std::vector<std::int32_t>{1, -1, 0, std::numeric_limits<std::int32_t>::max(),
                                       std::numeric_limits<std::int32_t>::min(), 0, 255}));
  EXPECT_EQ(values_of<std::uint8_t>(a), (std::vector<std::uint8_t>{1, 0, 0, 255, 0, 0, 255}));
  EXPECT_EQ(values_of<std::int64_t>(a),
            (std::vector<std::int64_t>{1, -1, 0, 10000000000, -10000000000, 0, 255}));
  EXPECT_EQ(values_of<bool>(a), (std::vector<bool>{true, true, true, true, true, true, true}));
  const std::int16_t i[] = {300, -1, 0, 32767};
  const NDArray b = NDArray::from_span<std::int16_t>(i);
  EXPECT_EQ(values_of<std::uint8_t>(b), (std::vector<std::uint8_t>{44, 255, 0, 255}));
  EXPECT_EQ(values_of<std::uint32_t>(b), (std::vector<std::uint32_t>{300, 4294967295u, 0, 32767}));
  EXPECT_EQ(values_of<bool>(b), (std::vector<bool>{true, true, false, true}));
  const double d[] = {1e300, -1e300, 65504.0, 65520.0, 1.0 / 3};
  const NDArray c = NDArray::from_span<double>(d);
  const auto as_f = values_of<float>(c);
  EXPECT_TRUE(std::isinf(as_f[0]) && as_f[0] > 0);
  EXPECT_TRUE(std::isinf(as_f[1]) && as_f[1] < 0);
  EXPECT_EQ(as_f[4], static_cast<float>(1.0 / 3));
  const auto as_h = values_of<float16>(c);
  EXPECT_EQ(as_h[2].bits, 0x7bff);
  EXPECT_EQ(as_h[3].bits, 0x7c00);
  const bool bools[] = {true, false};
  EXPECT_EQ(values_of<double>(NDArray::from_span<bool>(bools)), (std::vector<double>{1.0, 0.0}));
  // Complex: only to complex; real -> complex gets imag 0.
  const std::complex<double> z[] = {{1, 2}, {-3.5, 0.25}};
  const NDArray zc = NDArray::from_span<std::complex<double>>(z);
  EXPECT_EQ(values_of<std::complex<float>>(zc), (std::vector<std::complex<float>>{{1, 2}, {-3.5f, 0.25f}}));
  EXPECT_THROW(zc.to<double>(), TypeError);
  EXPECT_THROW(zc.to<bool>(), TypeError);
  EXPECT_EQ(values_of<std::complex<double>>(b)[0], std::complex<double>(300, 0));
  // Strings only change byte order.
  const NDArray s = NDArray::zeros(Dtype::bytes(3), {2});
  EXPECT_THROW(s.to<float>(), TypeError);
  EXPECT_THROW(a.to(Dtype::bytes(4)), TypeError);
  // Output size is checked.
  std::vector<float> small(2);
  EXPECT_THROW(a.convert_into<float>(small), InvalidArgument);
}

TEST(NDArray, UnicodeByteSwapPerCodeUnit) {
  // '<U2' "ab" -> '>U2' swaps each 4-byte code unit.
  const char le[] = {'a', 0, 0, 0, 'b', 0, 0, 0};
  const NDArray a =
      NDArray::copy_of(Dtype::unicode(2, ByteOrder::Little), {1}, std::as_bytes(std::span(le, 8)));
  const NDArray b = a.to(Dtype::unicode(2, ByteOrder::Big));
  const char be[] = {0, 0, 0, 'a', 0, 0, 0, 'b'};
  EXPECT_EQ(std::memcmp(b.bytes().data(), be, 8), 0);
  EXPECT_EQ(b.to_native(), a);
}

// Every numeric pair: converting a value set and back through double agrees
// with a per-element reference computed here.
template <class T>
std::vector<T> sample_values() {
  std::vector<T> out;
  const double src[] = {0,   1,   -1,  2.5,   -2.5,  100, -100, 127, -128,
                        255, 256, 300, 65535, 65536, 1e9, -1e9, 1e19};
  for (double d : src) {
    if constexpr (std::is_same_v<T, bool>) {
      out.push_back(d != 0);
    } else if constexpr (std::is_same_v<T, float16>) {
      out.push_back(float16(d));
    } else if constexpr (std::is_integral_v<T>) {
      // wrap the integer part into T
      const auto w = static_cast<std::uint64_t>(static_cast<std::int64_t>(std::fmod(d, 9.2e18)));
      out.push_back(static_cast<T>(w));
    } else if constexpr (std::is_floating_point_v<T>) {
      out.push_back(static_cast<T>(d));
    } else {
      using R = typename T::value_type;
      out.push_back(T(static_cast<R>(d), static_cast<R>(-d / 2)));
    }
  }
  return out;
}

template <class D, class S>
D reference(S s) {
  if constexpr (std::is_same_v<S, float16>) {
    return reference<D>(static_cast<float>(s));
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);
  } else if constexpr (std::is_same_v<D, float16>) {
    return float16(static_cast<double>(s));
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    if (std::isnan(s)) return 0;
    const long double t = std::trunc(static_cast<long double>(s));
    if (t < static_cast<long double>(std::numeric_limits<D>::min())) return std::numeric_limits<D>::min();
    if (t > static_cast<long double>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(t);
  } else if constexpr (requires { typename D::value_type; }) {
    using R = typename D::value_type;
    if constexpr (requires { s.imag(); }) {
      return D(static_cast<R>(s.real()), static_cast<R>(s.imag()));
    } else {
      return D(static_cast<R>(s), R(0));
    }
  } else {
    return static_cast<D>(s);
  }
}

template <class T>
bool same_bits(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, float16>) {
    return a.bits == b.bits;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a == b;
  } else {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  }
}

template <class S, class D>
void check_pair() {
  const auto src = sample_values<S>();
  NDArray a;
  if constexpr (std::is_same_v<S, bool>) {
    std::vector<std::uint8_t> raw(src.begin(), src.end());
    a = NDArray::copy_of(Dtype::of<bool>(), {static_cast<std::int64_t>(raw.size())},
                         std::as_bytes(std::span(raw)));
  } else {
    a = NDArray::from_span<S>(src);
  }
  for (ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
    const NDArray in = a.to(a.dtype().with_byte_order(order));
    const NDArray out = in.to<D>();
    ASSERT_EQ(out.dtype(), Dtype::of<D>());
    for (std::size_t i = 0; i < src.size(); ++i) {
      const D want = reference<D>(src[i]);
      D got;
      std::memcpy(&got, out.bytes().data() + i * sizeof(D), sizeof(D));
      ASSERT_TRUE(same_bits(got, want)) << Dtype::of<S>().str() << " -> " << Dtype::of<D>().str()
                                        << " element " << i << " order " << static_cast<int>(order);
    }
  }
}

template <class S, class... Ds>
void check_from() {
  (check_pair<S, Ds>(), ...);
}

TEST(NDArray, EveryNumericPairAgainstReference) {
#define ATDATA_REAL_TYPES                                                                                  \
  bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t, std::uint16_t, std::uint32_t, \
      std::uint64_t, float16, float, double, std::complex<float>, std::complex<double>
  check_from<bool, ATDATA_REAL_TYPES>();
  check_from<std::int8_t, ATDATA_REAL_TYPES>();
  check_from<std::int16_t, ATDATA_REAL_TYPES>();
  check_from<std::int32_t, ATDATA_REAL_TYPES>();
  check_from<std::int64_t, ATDATA_REAL_TYPES>();
  check_from<std::uint8_t, ATDATA_REAL_TYPES>();
  check_from<std::uint16_t, ATDATA_REAL_TYPES>();
  check_from<std::uint32_t, ATDATA_REAL_TYPES>();
  check_from<std::uint64_t, ATDATA_REAL_TYPES>();
  check_from<float16, ATDATA_REAL_TYPES>();
  check_from<float, ATDATA_REAL_TYPES>();
  check_from<double, ATDATA_REAL_TYPES>();
  check_from<std::complex<float>, std::complex<float>, std::complex<double>>();
  check_from<std::complex<double>, std::complex<float>, std::complex<double>>();
#undef ATDATA_REAL_TYPES
}

// ---- SIMD kernels: every compiled variant this CPU runs vs the baseline ----

std::vector<const simd::Kernels*> runnable_variants() {
  std::vector<const simd::Kernels*> out;
  for (auto arch : {simd::Arch::Baseline, simd::Arch::AVX2, simd::Arch::AVX512}) {
    if (const auto* k = simd::kernels_for(arch)) out.push_back(k);
  }
  return out;
}

TEST(Simd, VariantsAvailable) {
  const auto v = runnable_variants();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0]->arch, simd::Arch::Baseline);
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    EXPECT_NE(simd::kernels_for(simd::Arch::AVX512), nullptr);
    EXPECT_EQ(simd::active_kernels().arch, simd::Arch::AVX512);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
    EXPECT_NE(simd::kernels_for(simd::Arch::AVX2), nullptr);
  }
  for (const auto* k : v) std::printf("[ simd ] %s runnable\n", k->name);
}

// Random bytes with special values sprinkled in, so every bit pattern class
// (NaN, inf, subnormal, extremes) passes through the kernels.
std::vector<std::byte> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

bool same_f32(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, 4) == 0;
}

using KernelPtr = void (*const simd::Kernels::*)(const void*, void*, std::size_t);

void check_to_f32(KernelPtr which, std::size_t in_size, const char* label) {
  const auto& base = *simd::kernels_for(simd::Arch::Baseline);
  for (const auto* k : runnable_variants()) {
    for (std::size_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 127, 129, 1000, 4099}) {
      for (std::size_t misalign : {0, 1, 3}) {
        auto src = random_bytes(n * in_size + misalign, static_cast<std::uint32_t>(n * 7 + misalign));
        if (in_size == 8 && n > 4) {  // f64 specials: NaN, inf, subnormal, huge
          const double sp[] = {std::nan(""), INFINITY, 5e-324, 1e300};
          std::memcpy(src.data() + misalign, sp, sizeof(sp));
        }
        std::vector<std::byte> want(n * 4 + 1), got(n * 4 + 1);
        (base.*which)(src.data() + misalign, want.data() + 1, n);
        (k->*which)(src.data() + misalign, got.data() + 1, n);
        for (std::size_t i = 0; i < n; ++i) {
          float w, g;
          std::memcpy(&w, want.data() + 1 + 4 * i, 4);
          std::memcpy(&g, got.data() + 1 + 4 * i, 4);
          ASSERT_TRUE(same_f32(w, g))
              << label << " " << k->name << " n=" << n << " i=" << i << " " << w << " vs " << g;
        }
      }
    }
  }
}

TEST(Simd, U8ToF32) {
  check_to_f32(&simd::Kernels::u8_to_f32, 1, "u8");
}
TEST(Simd, I16ToF32) {
  check_to_f32(&simd::Kernels::i16_to_f32, 2, "i16");
}
TEST(Simd, F16ToF32) {
  check_to_f32(&simd::Kernels::f16_to_f32, 2, "f16");
}
TEST(Simd, F64ToF32) {
  check_to_f32(&simd::Kernels::f64_to_f32, 8, "f64");
}
TEST(Simd, I32ToF32) {
  check_to_f32(&simd::Kernels::i32_to_f32, 4, "i32");
}

TEST(Simd, BaselineMatchesExactValues) {
  // The reference itself against independent expectations.
  const auto& base = *simd::kernels_for(simd::Arch::Baseline);
  const std::uint8_t u8[] = {0, 1, 128, 255};
  float out[4];
  base.u8_to_f32(u8, out, 4);
  EXPECT_EQ(out[3], 255.0f);
  const std::uint16_t h[] = {0x3c00, 0xc000, 0x7c00, 0x0001};
  base.f16_to_f32(h, out, 4);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_TRUE(std::isinf(out[2]));
  EXPECT_EQ(out[3], 5.960464477539063e-08f);
  const std::int32_t i32[] = {16777217, -16777217, 7, 0};
  base.i32_to_f32(i32, out, 4);
  EXPECT_EQ(out[0], 16777216.0f);  // round to nearest even
  EXPECT_EQ(out[1], -16777216.0f);
}

TEST(Simd, F16ToF32EveryBitPatternEveryVariant) {
  std::vector<std::uint16_t> all(65536);
  std::iota(all.begin(), all.end(), 0);
  for (const auto* k : runnable_variants()) {
    std::vector<float> out(all.size());
    k->f16_to_f32(all.data(), out.data(), all.size());
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const float want = static_cast<float>(float16::from_bits(static_cast<std::uint16_t>(b)));
      ASSERT_TRUE(same_f32(out[b], want)) << k->name << " bits " << std::hex << b;
      if (std::isnan(want)) {  // sign survives
        ASSERT_EQ(std::signbit(out[b]), std::signbit(want)) << k->name << " bits " << std::hex << b;
      }
    }
  }
}

void check_bswap(KernelPtr which, std::size_t size) {
  for (const auto* k : runnable_variants()) {
    for (std::size_t n : {0, 1, 2, 5, 15, 16, 17, 33, 64, 100, 1025}) {
      const auto src = random_bytes(n * size + 1, static_cast<std::uint32_t>(n + size));
      std::vector<std::byte> got(n * size + 2);
      (k->*which)(src.data() + 1, got.data() + 2, n);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < size; ++j) {
          ASSERT_EQ(got[2 + i * size + j], src[1 + i * size + (size - 1 - j)])
              << k->name << " size " << size << " n=" << n << " i=" << i;
        }
      }
      // In place.
      std::vector<std::byte> inplace(src.begin() + 1, src.end());
      (k->*which)(inplace.data(), inplace.data(), n);
      ASSERT_TRUE(std::equal(inplace.begin(), inplace.end(), got.begin() + 2)) << k->name;
    }
  }
}

TEST(Simd, ByteSwap) {
  check_bswap(&simd::Kernels::bswap16, 2);
  check_bswap(&simd::Kernels::bswap32, 4);
  check_bswap(&simd::Kernels::bswap64, 8);
}

TEST(NDArray, BigEndianSourcesThroughChunkedPath) {
  // Longer than the 16 KiB swap buffer, with a misaligned view, for each fast pair.
  const std::size_t n = 20000;
  std::vector<std::int16_t> i16(n);
  std::iota(i16.begin(), i16.end(), -10000);
  const NDArray a = NDArray::from_span<std::int16_t>(i16);
  const NDArray be = a.to(Dtype::numeric(DtypeKind::Int16, ByteOrder::Big));
  std::vector<std::byte> buf(be.nbytes() + 1);
  std::memcpy(buf.data() + 1, be.bytes().data(), be.nbytes());
  const auto holder = SharedBytes::adopt(std::move(buf));
  const NDArray view =
      NDArray::view(be.dtype(), {static_cast<std::int64_t>(n)}, holder.slice(1, be.nbytes()));
  const auto f = view.to<float>();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(f.view<float>()[i], static_cast<float>(i16[i]));
  EXPECT_EQ(view.to_native(), a);
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = i * 0.37 - 100;
  const NDArray ad = NDArray::from_span<double>(d).to(Dtype::parse(">f8"));
  const auto fd = ad.to<float>();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(fd.view<float>()[i], static_cast<float>(d[i]));
}

TEST(NDArray, LargeMatrixRoundTripThroughConversions) {
  const std::int64_t side = 1000;
  NDArray a = NDArray::zeros(Dtype::of<float>(), {side, side});
  auto v = a.mutable_view<float>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 9973) * 0.5f;
  EXPECT_EQ(a.to<double>().to<float>(), a);
  EXPECT_EQ(a.to(Dtype::parse(">f4")).to_native(), a);
}

}  // namespace
}  // namespace atdata
