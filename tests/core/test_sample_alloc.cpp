// The zero-allocation claim of the typed decode hot path, checked by counting
// global operator new calls (deterministic; no timing). Replacing operator
// new affects this whole test binary but only adds a relaxed counter.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "atdata/core/sample.hpp"

namespace {
std::atomic<std::uint64_t> g_news{0};
}

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
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
