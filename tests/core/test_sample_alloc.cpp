// The zero-allocation claim of the typed decode hot path, checked by counting
// global operator new calls (deterministic; no timing). Replacing operator
// new affects this whole test binary but only adds a relaxed counter.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "atdata/core/sample.hpp"
#include "atdata/core/value.hpp"

namespace {
std::atomic<std::uint64_t> g_news{0};
std::atomic<std::uint64_t> g_new_bytes{0};
}  // namespace

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  g_new_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC's mismatch check pairs `new` with `free` without seeing that the
// operator new above is malloc-based.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace talloc {
struct Basic {
  atdata::NDArray features;
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(Basic, (), (features, label, source))

struct Strings {
  std::vector<std::string> items;
};
BOOST_DESCRIBE_STRUCT(Strings, (), (items))
}  // namespace talloc

TEST(SampleAlloc, TypedDecodeIntoDoesNotAllocate) {
  using talloc::Basic;
  std::vector<float> f(128, 0.5f);
  Basic s{atdata::NDArray::from_span(std::span<const float>(f)), 7, "imagenet"};
  std::vector<atdata::SharedBytes> packed;
  for (int i = 0; i < 4; ++i) {
    s.label = i;
    s.source = i % 2 ? "cifar10" : "imagenet";
    packed.push_back(atdata::SharedBytes::adopt(atdata::pack(s)));
  }
  Basic out;
  atdata::unpack_into(packed[0], out);  // warm up (string capacity, header memo)
  const auto before = g_news.load();
  for (int round = 0; round < 100; ++round) {
    for (const auto& p : packed) atdata::unpack_into(p, out);
  }
  EXPECT_EQ(g_news.load() - before, 0u);
  EXPECT_EQ(out.label, 3);
  EXPECT_EQ(out.source, "cifar10");
  EXPECT_TRUE(out.features.is_view());

  // Packing into a reserved buffer does not allocate either.
  std::vector<std::byte> buf;
  buf.reserve(4096);
  const auto before_pack = g_news.load();
  for (int i = 0; i < 100; ++i) {
    buf.clear();
    atdata::pack_into(out, buf);
  }
  EXPECT_EQ(g_news.load() - before_pack, 0u);
  EXPECT_EQ(buf.size(), packed[3].size());
}

TEST(SampleAlloc, HostileListCountDoesNotOverAllocate) {
  // {"items": array32 of 1M elements} where the elements are ints, not str:
  // the count is plausible (1M bytes follow) but decoding must not reserve
  // 1M std::strings (32 MB) before finding out.
  constexpr std::size_t kN = 1 << 20;
  std::vector<std::byte> b;
  atdata::msgpack::Writer w(b);
  w.write_map_header(1);
  w.write_str("items");
  w.write_array_header(kN);
  b.resize(b.size() + kN, std::byte{0x01});
  const auto sb = atdata::SharedBytes::adopt(std::move(b));
  const auto before = g_new_bytes.load();
  EXPECT_THROW((void)atdata::unpack<talloc::Strings>(sb), atdata::SchemaError);
  EXPECT_LT(g_new_bytes.load() - before, std::uint64_t{1} << 20);

  // Same for the Value DOM: 1M elements claimed, the first one is invalid.
  std::vector<std::byte> d;
  atdata::msgpack::Writer dw(d);
  dw.write_array_header(kN);
  d.resize(d.size() + kN, std::byte{0xc1});
  const auto dsb = atdata::SharedBytes::adopt(std::move(d));
  const auto before_dom = g_new_bytes.load();
  EXPECT_THROW((void)atdata::msgpack::unpack_value(dsb), atdata::DecodeError);
  EXPECT_LT(g_new_bytes.load() - before_dom, std::uint64_t{1} << 20);
}
