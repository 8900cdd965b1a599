// Typed samples (Boost.Describe): byte-exact packing (docs/format.md's worked
// example), the decoding rules, zero-copy arrays, and malformed input.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample.hpp"
#include "support/hex.hpp"
#include "support/spec_examples.hpp"

using namespace atdata;
using atdata::test::from_hex;
using atdata::test::to_hex;

namespace tsample {

// The worked example's field list.
struct Worked {
  NDArray image;
  std::string label;
  double score = 0;
  bool ok = false;
  Bytes raw;
  std::vector<std::string> tags;
  std::optional<std::string> extra;
  std::int64_t count = 0;
  std::int64_t neg = 0;
};
BOOST_DESCRIBE_STRUCT(Worked, (), (image, label, score, ok, raw, tags, extra, count, neg))

struct Basic {
  NDArray features;
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(Basic, (), (features, label, source))

struct NameCount {
  std::string name;
  std::int64_t count = 0;
};
BOOST_DESCRIBE_STRUCT(NameCount, (), (name, count))

struct Small {
  std::int8_t i8 = 0;
  std::uint16_t u16 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
};
BOOST_DESCRIBE_STRUCT(Small, (), (i8, u16, u64, f))

struct Optionals {
  std::string required_field;
  std::optional<std::int64_t> optional_field;
  std::optional<NDArray> optional_array;
};
BOOST_DESCRIBE_STRUCT(Optionals, (), (required_field, optional_field, optional_array))

struct Lists {
  std::vector<std::string> str_list;
  std::vector<std::int64_t> int_list;
  std::vector<double> float_list;
  std::vector<bool> bool_list;
  std::vector<std::vector<std::int32_t>> nested;
};
BOOST_DESCRIBE_STRUCT(Lists, (), (str_list, int_list, float_list, bool_list, nested))

struct Prims {
  std::string s;
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
  std::vector<std::byte> by;
};
BOOST_DESCRIBE_STRUCT(Prims, (), (s, i, f, b, by))

struct Base {
  std::int64_t id = 0;
};
BOOST_DESCRIBE_STRUCT(Base, (), (id))
struct Derived : Base {
  std::string name;
};
BOOST_DESCRIBE_STRUCT(Derived, (Base), (name))

struct WithAny {
  std::string k;
  Value v;
};
BOOST_DESCRIBE_STRUCT(WithAny, (), (k, v))

}  // namespace tsample

using namespace tsample;

namespace {

Worked worked_sample() {
  Worked w;
  const float data[] = {1, 2, 3};
  w.image = NDArray::from_span(std::span<const float>(data));
  w.label = "cat";
  w.score = 0.5;
  w.ok = true;
  w.raw = Bytes::copy_of(std::string_view("\x00\x01", 2));
  w.tags = {"a", "b"};
  w.extra = std::nullopt;
  w.count = 300;
  w.neg = -40;
  return w;
}

SharedBytes shared(const std::vector<std::byte>& v) {
  return SharedBytes::copy_of(v);
}

template <class T, class F>
void expect_schema_error(const std::vector<std::byte>& packed, const std::string& field, F&& check_msg) {
  try {
    (void)unpack<T>(shared(packed));
    ADD_FAILURE() << "no SchemaError";
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
    check_msg(std::string(e.what()));
  }
}

std::vector<std::byte> pack_map(std::initializer_list<std::pair<const char*, Value>> kv) {
  Map m;
  for (const auto& [k, v] : kv) m.emplace_back(k, v);
  return msgpack::pack_value(Value(std::move(m)));
}

}  // namespace

TEST(Sample, WorkedExampleIsByteExact) {
  const auto packed = pack(worked_sample());
  EXPECT_EQ(packed.size(), 218u);
  EXPECT_EQ(to_hex(packed), test::worked_example_hex());
}

TEST(Sample, WorkedExampleDecodes) {
  const auto sb = SharedBytes::copy_of(from_hex(test::worked_example_hex()));
  const auto w = unpack<Worked>(sb);
  EXPECT_EQ(w.image.dtype(), Dtype::of<float>());
  ASSERT_EQ(w.image.shape().size(), 1u);
  EXPECT_EQ(w.image.shape()[0], 3);
  const auto v = w.image.to<float>();
  EXPECT_EQ(v.view<float>()[0], 1.0f);
  EXPECT_EQ(v.view<float>()[2], 3.0f);
  EXPECT_EQ(w.label, "cat");
  EXPECT_EQ(w.score, 0.5);
  EXPECT_TRUE(w.ok);
  EXPECT_EQ(to_hex(w.raw.span()), "0001");
  EXPECT_EQ(w.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(w.extra.has_value());
  EXPECT_EQ(w.count, 300);
  EXPECT_EQ(w.neg, -40);
  // Zero-copy: the array data and the bytes field point into the input.
  const auto* lo = sb.data();
  const auto* hi = sb.data() + sb.size();
  EXPECT_TRUE(w.image.bytes().data() >= lo && w.image.bytes().data() < hi);
  EXPECT_TRUE(w.image.is_view());
  EXPECT_EQ(w.raw.owner(), sb.owner());
  // Re-pack reproduces the bytes.
  EXPECT_EQ(to_hex(pack(w)), test::worked_example_hex());
}

TEST(Sample, UnpackFromSpanCopies) {
  auto bytes = from_hex(test::worked_example_hex());
  const auto w = unpack<Worked>(std::span<const std::byte>(bytes));
  const auto* lo = bytes.data();
  const auto* hi = bytes.data() + bytes.size();
  EXPECT_FALSE(w.image.bytes().data() >= lo && w.image.bytes().data() < hi);
  EXPECT_FALSE(w.raw.data() >= lo && w.raw.data() < hi);
  std::fill(bytes.begin(), bytes.end(), std::byte{0});  // source gone: values intact
  EXPECT_EQ(w.label, "cat");
  EXPECT_EQ(to_hex(w.raw.span()), "0001");
  EXPECT_EQ(w.image.to<float>().view<float>()[1], 2.0f);
}

TEST(Sample, MapOrderIsIrrelevant) {
  const auto packed = pack_map({{"count", 7}, {"name", "x"}});
  const auto s = unpack<NameCount>(shared(packed));
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.count, 7);
}

TEST(Sample, UnknownKeyMissingFieldAndMistype) {
  expect_schema_error<NameCount>(
      pack_map({{"name", "x"}, {"count", 1}, {"bogus", 2}}), "bogus",
      [](const std::string& m) { EXPECT_NE(m.find("unknown field"), std::string::npos); });
  // {"name":"test"} for {name, count}: count is missing.
  expect_schema_error<NameCount>(pack_map({{"name", "test"}}), "count", [](const std::string& m) {
    EXPECT_NE(m.find("missing"), std::string::npos);
  });
  expect_schema_error<NameCount>(pack_map({{"name", 5}, {"count", 1}}), "name", [](const std::string& m) {
    EXPECT_NE(m.find("expected str, got msgpack int"), std::string::npos) << m;
  });
  expect_schema_error<NameCount>(pack_map({{"name", "x"}, {"count", "1"}}), "count",
                                 [](const std::string& m) {
                                   EXPECT_NE(m.find("expected int, got msgpack str"), std::string::npos) << m;
                                 });
  expect_schema_error<NameCount>(
      pack_map({{"name", nullptr}, {"count", 1}}), "name",
      [](const std::string& m) { EXPECT_NE(m.find("nil"), std::string::npos) << m; });
  expect_schema_error<Worked>(pack_map({{"image", "notbytes"}}), "image",
                              [](const std::string& m) { EXPECT_NE(m.find("bin"), std::string::npos) << m; });
  expect_schema_error<Lists>(
      pack_map({{"str_list", List{Value("a"), Value(1)}}}), "str_list",
      [](const std::string& m) { EXPECT_NE(m.find("expected str"), std::string::npos) << m; });
}

TEST(Sample, IntegersAreRangeChecked) {
  auto small = [](Value i8, Value u16, Value u64, Value f) {
    return pack_map({{"i8", i8}, {"u16", u16}, {"u64", u64}, {"f", f}});
  };
  const auto ok = unpack<Small>(shared(small(-128, 65535, std::numeric_limits<std::uint64_t>::max(), 1.5)));
  EXPECT_EQ(ok.i8, -128);
  EXPECT_EQ(ok.u16, 65535);
  EXPECT_EQ(ok.u64, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(ok.f, 1.5f);
  // An int in a float field is accepted (Python stores whatever it is given).
  EXPECT_EQ(unpack<Small>(shared(small(0, 0, 0, 3))).f, 3.0f);
  expect_schema_error<Small>(small(128, 0, 0, 0.0), "i8", [](const std::string& m) {
    EXPECT_NE(m.find("128 does not fit in int8"), std::string::npos) << m;
  });
  expect_schema_error<Small>(small(0, -1, 0, 0.0), "u16", [](const std::string& m) {
    EXPECT_NE(m.find("uint16"), std::string::npos) << m;
  });
  expect_schema_error<Small>(small(0, 65536, 0, 0.0), "u16", [](const std::string&) {});
  expect_schema_error<Small>(small(0, 0, -5, 0.0), "u64", [](const std::string&) {});
  // Round trip of the extremes, including the uint64 family.
  Small s{-128, 65535, std::numeric_limits<std::uint64_t>::max(), -0.0f};
  const auto p = pack(s);
  EXPECT_EQ(to_hex(p), "84a26938d080a3753136cdffffa3753634cfffffffffffffffffa166cb8000000000000000");
  const auto back = unpack<Small>(shared(p));
  EXPECT_EQ(back.u64, s.u64);
  EXPECT_TRUE(std::signbit(back.f));
}

TEST(Sample, OptionalFields) {
  // Missing optional fields → nullopt (Python's `= None` defaults).
  const auto a = unpack<Optionals>(shared(pack_map({{"required_field", "r"}})));
  EXPECT_EQ(a.required_field, "r");
  EXPECT_FALSE(a.optional_field);
  EXPECT_FALSE(a.optional_array);
  // Explicit nil and present values.
  Optionals o;
  o.required_field = "x";
  EXPECT_EQ(to_hex(pack(o)).substr(0, 2), "83");
  EXPECT_NE(to_hex(pack(o)).find("c0"), std::string::npos);
  const std::int32_t arr[] = {1, 2, 3};
  o.optional_field = 42;
  o.optional_array = NDArray::from_span(std::span<const std::int32_t>(arr));
  const auto back = unpack<Optionals>(SharedBytes::adopt(pack(o)));
  EXPECT_EQ(back.optional_field, 42);
  ASSERT_TRUE(back.optional_array);
  EXPECT_EQ(*back.optional_array, *o.optional_array);
  // unpack_into resets fields that a later map lacks.
  Optionals reused = back;
  unpack_into(shared(pack_map({{"required_field", "y"}})), reused);
  EXPECT_EQ(reused.required_field, "y");
  EXPECT_FALSE(reused.optional_field);
  EXPECT_FALSE(reused.optional_array);
}

TEST(Sample, ListFieldsRoundTrip) {
  Lists l;
  for (int i = 0; i < 1000; ++i) {
    l.str_list.push_back("item-" + std::to_string(i));
    l.int_list.push_back(i);
    l.float_list.push_back(i * 0.5);
    l.bool_list.push_back(i % 3 == 0);
  }
  l.nested = {{1, 2}, {}, {-3}};
  const auto back = unpack<Lists>(SharedBytes::adopt(pack(l)));
  EXPECT_EQ(back.str_list[500], "item-500");
  EXPECT_EQ(back.int_list[999], 999);
  EXPECT_EQ(back.float_list, l.float_list);
  EXPECT_EQ(back.bool_list, l.bool_list);
  EXPECT_EQ(back.nested, l.nested);
  Lists empty;
  EXPECT_EQ(
      to_hex(pack(empty)),
      "85a87374725f6c69737490a8696e745f6c69737490aa666c6f61745f6c69737490a9626f6f6c5f6c69737490a66e6573746564"
      "90");
  EXPECT_TRUE(unpack<Lists>(SharedBytes::adopt(pack(empty))).str_list.empty());
}

TEST(Sample, PrimitivesRoundTrip) {
  // str, int, float, bool and bytes.
  Prims p{"hello world", 42, 3.14159, true, {}};
  for (int i = 0; i < 256; ++i) p.by.push_back(static_cast<std::byte>(i));
  auto back = unpack<Prims>(SharedBytes::adopt(pack(p)));
  EXPECT_EQ(back.s, p.s);
  EXPECT_EQ(back.i, 42);
  EXPECT_EQ(back.f, 3.14159);
  EXPECT_TRUE(back.b);
  EXPECT_EQ(back.by, p.by);
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1} << 62, -(std::int64_t{1} << 62),
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    p.i = v;
    EXPECT_EQ(unpack<Prims>(SharedBytes::adopt(pack(p))).i, v);
  }
  for (double v : {0.0, -0.0, 1e-300, 1e300, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    p.f = v;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(unpack<Prims>(SharedBytes::adopt(pack(p))).f),
              std::bit_cast<std::uint64_t>(v));
  }
  for (std::string s : {std::string(""), std::string("héllo wörld ✓ 日本語"), std::string(100 * 1024, 'x'),
                        std::string("a\nb\tc\r\nd\0e\"f'", 14)}) {
    p.s = s;
    EXPECT_EQ(unpack<Prims>(SharedBytes::adopt(pack(p))).s, s);
  }
}

TEST(Sample, InheritedFieldsComeFirst) {
  Derived d;
  d.id = 1;
  d.name = "n";
  EXPECT_EQ(to_hex(pack(d)), "82a2696401a46e616d65a16e");
  EXPECT_EQ(field_names<Derived>().size(), 2u);
  EXPECT_EQ(field_names<Derived>()[0], "id");
  const auto back = unpack<Derived>(SharedBytes::adopt(pack(d)));
  EXPECT_EQ(back.id, 1);
  EXPECT_EQ(back.name, "n");
}

TEST(Sample, AnyField) {
  const auto packed = pack_map({{"k", "x"}, {"v", List{Value(1), Value("two"), Value(nullptr)}}});
  const auto s = unpack<WithAny>(shared(packed));
  EXPECT_EQ(s.v.as_list().size(), 3u);
  EXPECT_EQ(s.v.as_list()[1].as_str(), "two");
  EXPECT_EQ(pack(s), packed);
  // Missing `any` field → null.
  EXPECT_TRUE(unpack<WithAny>(shared(pack_map({{"k", "x"}}))).v.is_null());
}

TEST(Sample, SchemaOfDescribedStruct) {
  const auto s = schema_of<Worked>();
  EXPECT_EQ(s.name(), "Worked");
  EXPECT_EQ(s.version(), "1.0.0");
  ASSERT_EQ(s.size(), 9u);
  EXPECT_EQ(s.field(0).name, "image");
  EXPECT_EQ(s.field(0).type.kind, FieldKind::ndarray);
  EXPECT_EQ(s.field(0).type.dtype, "float32");
  EXPECT_EQ(s.field(4).type.kind, FieldKind::bytes);
  EXPECT_EQ(s.field(5).type.describe(), "list[str]");
  EXPECT_TRUE(s.field(6).optional);
  EXPECT_EQ(s.field(6).type.kind, FieldKind::str);
  EXPECT_FALSE(s.field(7).optional);
  EXPECT_EQ(schema_of<Lists>("L", "2.0.0").field(4).type.describe(), "list[list[int]]");
}

TEST(Sample, MalformedInputs) {
  const auto good = from_hex(test::worked_example_hex());
  // Every truncation fails cleanly.
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW((void)unpack<Worked>(SharedBytes::copy_of(cut)), Error) << n;
  }
  auto decode_error = [](std::string_view hex) {
    EXPECT_THROW((void)unpack<NameCount>(SharedBytes::copy_of(from_hex(hex))), DecodeError) << hex;
  };
  decode_error("");                                  // nothing
  decode_error("92a16101");                          // not a map
  decode_error("82a46e616d65a178a5636f756e7401c0");  // trailing bytes
  decode_error("8201a178a5636f756e7401");            // key not a string
  decode_error("82a46e616d65d401a5636f756e7401");    // ext value
  decode_error("dfffffffff");                        // huge map count
  decode_error("82a46e616d65dbffffffff61");          // str length beyond the end
  // Not msgpack at all.
  EXPECT_THROW((void)unpack<NameCount>(SharedBytes::copy_of(std::string_view("not valid msgpack data"))),
               DecodeError);
  // Corrupt .npy inside the bin → DecodeError naming the field.
  auto bad = good;
  bad[10] = std::byte{0x00};  // inside the .npy magic
  try {
    (void)unpack<Worked>(SharedBytes::copy_of(bad));
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'image'"), std::string::npos) << e.what();
  }
  // Deeply nested value in an `any` field.
  std::string deep = "82a16ba178a176";
  for (int i = 0; i < 100; ++i) deep += "91";
  deep += "c0";
  EXPECT_THROW((void)unpack<WithAny>(SharedBytes::copy_of(from_hex(deep))), DecodeError);
}

TEST(Sample, ArrayHeaderMemoNeverConfusesArrays) {
  // Consecutive decodes hit the per-thread header memo; arrays whose headers
  // differ in any byte (shape, dtype, order) must still decode as themselves.
  std::vector<NDArray> arrays;
  const float f6[] = {1, 2, 3, 4, 5, 6};
  const auto base = NDArray::from_span(std::span<const float>(f6));
  arrays.push_back(base.reshape({2, 3}));
  arrays.push_back(base.reshape({3, 2}));
  arrays.push_back(base);
  arrays.push_back(base.to(Dtype::of<float>().with_byte_order(ByteOrder::Big)));
  arrays.push_back(base.to<std::int32_t>());
  arrays.push_back(base.reshape({2, 3}));
  arrays.push_back(NDArray::zeros(Dtype::of<float>(), {0}));
  arrays.push_back(base.reshape({2, 3}));
  for (int round = 0; round < 2; ++round) {
    for (const auto& a : arrays) {
      Basic s{a, 1, "x"};
      const auto back = unpack<Basic>(SharedBytes::adopt(pack(s)));
      EXPECT_EQ(back.features, a) << a.describe();
    }
  }
  // A cached header followed by too few / too many data bytes is still an error.
  Basic s{base.reshape({2, 3}), 1, "x"};
  (void)unpack<Basic>(SharedBytes::adopt(pack(s)));
  auto packed = pack(s);
  // Layout: 83, a8 "features", c4 <len>, .npy bytes, ...
  ASSERT_EQ(packed[10], std::byte{0xc4});
  auto shorter = packed;
  shorter[11] = static_cast<std::byte>(static_cast<unsigned>(shorter[11]) - 4);
  shorter.erase(shorter.begin() + 12 + static_cast<std::ptrdiff_t>(static_cast<unsigned>(shorter[11])),
                shorter.begin() + 12 + static_cast<std::ptrdiff_t>(static_cast<unsigned>(shorter[11])) + 4);
  EXPECT_THROW((void)unpack<Basic>(SharedBytes::copy_of(shorter)), DecodeError);
}

TEST(Sample, RandomCorruptionNeverCrashes) {
  // Deterministic mutations of a valid packed sample: every decoder either
  // succeeds or throws an atdata::Error (run under ATDATA_SANITIZE for the
  // memory-safety half of the claim).
  const auto good = from_hex(test::worked_example_hex());
  auto schema = std::make_shared<const SampleSchema>(schema_of<Worked>());
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto rnd = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int decoded = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    auto b = good;
    const int edits = 1 + static_cast<int>(rnd() % 3);
    for (int e = 0; e < edits; ++e) {
      const auto pos = rnd() % b.size();
      switch (rnd() % 3) {
        case 0:
          b[pos] = static_cast<std::byte>(rnd());
          break;
        case 1:
          b.resize(pos);
          break;
        default:
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::byte>(rnd()));
          break;
      }
      if (b.empty()) break;
    }
    const auto sb = SharedBytes::copy_of(b);
    try {
      (void)unpack<Worked>(sb);
      ++decoded;
    } catch (const Error&) {
    }
    try {
      (void)DynamicSample::unpack(schema, sb);
    } catch (const Error&) {
    }
    try {
      (void)DynamicSample::unpack(sb);
    } catch (const Error&) {
    }
  }
  EXPECT_LT(decoded, 3000);  // the corruption did something
}
