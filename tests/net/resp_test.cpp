// RESP2 without a socket: command encoding byte for byte, every reply type,
// every split of a multi-reply stream, and hostile input (huge declared
// lengths, deep nesting, endless lines, bad bytes) failing with DecodeError
// at the right offset, never with an allocation or a hang.

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"
#include "atdata/net/resp.hpp"

namespace {

using atdata::DecodeError;
using atdata::net::append_command;
using atdata::net::RedisError;
using atdata::net::RedisRequest;
using atdata::net::RespLimits;
using atdata::net::RespParser;
using atdata::net::RespValue;
using T = RespValue::Type;
using namespace std::string_literals;

std::vector<RespValue> parse_all(RespParser& p) {
  std::vector<RespValue> out;
  while (auto v = p.next()) out.push_back(std::move(*v));
  return out;
}

std::vector<RespValue> parse_all(std::string_view bytes, RespLimits limits = RespLimits()) {
  RespParser p(limits);
  p.feed(bytes);
  auto out = parse_all(p);
  EXPECT_TRUE(p.idle()) << "bytes left over";
  return out;
}

// The offset DecodeError reports for `bytes` fed in one piece (-1: none thrown).
long long error_offset(std::string_view bytes, RespLimits limits = RespLimits()) {
  RespParser p(limits);
  p.feed(bytes);
  try {
    parse_all(p);
  } catch (const DecodeError& e) {
    return e.offset() ? static_cast<long long>(*e.offset()) : -2;
  }
  return -1;
}

RespValue bulk(std::string s) {
  return RespValue::make_bulk_string(std::move(s));
}

TEST(RespEncode, CommandIsAnArrayOfBulkStrings) {
  std::string out;
  const std::array<std::string_view, 3> args = {"SET", "k", "v"};
  append_command(out, args);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST(RespEncode, ArgumentsAreBinarySafe) {
  std::string out;
  const std::string value("a\0\r\nb"s);
  const std::array<std::string_view, 2> args = {"ECHO", value};
  append_command(out, args);
  EXPECT_EQ(out, "*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n"s);
  const std::array<std::string_view, 2> empty = {"ECHO", ""};
  out.clear();
  append_command(out, empty);
  EXPECT_EQ(out, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
}

TEST(RespEncode, RequestPushEncodesStringsBytesAndIntegers) {
  RedisRequest req;
  const std::vector<std::byte> raw = {std::byte{0}, std::byte{0xff}};
  const std::string key = "key";
  req.push("SET", key, std::span<const std::byte>(raw));
  req.push("EXPIRE", std::string_view("key"), 60);
  req.push("PING");
  EXPECT_EQ(req.size(), 3u);
  EXPECT_EQ(req.payload(),
            "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n\0\xff\r\n"
            "*3\r\n$6\r\nEXPIRE\r\n$3\r\nkey\r\n$2\r\n60\r\n"
            "*1\r\n$4\r\nPING\r\n"s);
  EXPECT_EQ(req.commands(), (std::vector<std::string>{"SET", "EXPIRE", "PING"}));
}

TEST(RespEncode, PushRangeOfPairsAndOfValues) {
  RedisRequest req;
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("f1", "v1");
  fields.emplace_back("f2", "");
  req.push_range("HSET", "h", fields);
  std::vector<std::string> members = {"a", "b", "c"};
  req.push_range("SADD", "s", members);
  EXPECT_EQ(req.payload(),
            "*6\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$0\r\n\r\n"
            "*5\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  EXPECT_EQ(req.size(), 2u);
}

TEST(RespParse, EveryType) {
  auto v = parse_all(
      "+OK\r\n-ERR bad thing\r\n:42\r\n:-9223372036854775808\r\n$5\r\nhe\0lo\r\n$0\r\n\r\n"
      "$-1\r\n*-1\r\n*0\r\n*2\r\n:1\r\n$1\r\nx\r\n"s);
  ASSERT_EQ(v.size(), 10u);
  EXPECT_EQ(v[0].type(), T::simple_string);
  EXPECT_EQ(v[0].str(), "OK");
  EXPECT_TRUE(v[1].is_error());
  EXPECT_EQ(v[1].str(), "ERR bad thing");
  EXPECT_EQ(v[2].integer(), 42);
  EXPECT_EQ(v[3].integer(), INT64_MIN);
  EXPECT_EQ(v[4].type(), T::bulk_string);
  EXPECT_EQ(v[4].str(), "he\0lo"s);
  EXPECT_EQ(v[5].str(), "");
  EXPECT_TRUE(v[6].is_null());
  EXPECT_TRUE(v[7].is_null());
  ASSERT_TRUE(v[8].is_array());
  EXPECT_TRUE(v[8].array().empty());
  ASSERT_EQ(v[9].array().size(), 2u);
  EXPECT_EQ(v[9].array()[0].integer(), 1);
  EXPECT_EQ(v[9].array()[1].str(), "x");
}

TEST(RespParse, AccessorsRefuseOtherTypes) {
  auto v = parse_all(":1\r\n$-1\r\n+OK\r\n");
  EXPECT_THROW((void)v[0].str(), atdata::TypeError);
  EXPECT_THROW((void)v[1].str(), atdata::TypeError);  // null is not ""
  EXPECT_THROW((void)v[2].integer(), atdata::TypeError);
  EXPECT_THROW((void)v[2].array(), atdata::TypeError);
}

TEST(RespParse, ThrowIfErrorNamesCommandAndServerText) {
  auto v = parse_all("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n");
  try {
    v[0].throw_if_error("HGET");
    FAIL() << "no RedisError";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.command(), "HGET");
    EXPECT_EQ(e.server_message(), "WRONGTYPE Operation against a key holding the wrong kind of value");
    EXPECT_NE(std::string(e.what()).find("HGET: WRONGTYPE"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(v[1].throw_if_error("SET"));
}

TEST(RespParse, NestedArraysAsExecOfScanReturns) {
  // EXEC → [SCAN reply [cursor, [keys…]], null bulk, [[[]]]]
  auto v = parse_all("*3\r\n*2\r\n$1\r\n0\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n$-1\r\n*1\r\n*1\r\n*0\r\n");
  ASSERT_EQ(v.size(), 1u);
  const auto& a = v[0].array();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].array()[0].str(), "0");
  EXPECT_EQ(a[0].array()[1].array()[1].str(), "k2");
  EXPECT_TRUE(a[1].is_null());
  EXPECT_TRUE(a[2].array()[0].array()[0].array().empty());
}

// A stream of several replies split into two pieces at every byte, and fed
// one byte at a time, parses to the same values as in one piece.
TEST(RespParse, EverySplitPointGivesTheSameReplies) {
  const std::string stream =
      "+OK\r\n*3\r\n$3\r\nfoo\r\n*2\r\n:7\r\n$-1\r\n-ERR x\r\n$6\r\na\r\nb\0c\r\n:-1\r\n*-1\r\n$0\r\n\r\n"s;
  const auto whole = parse_all(stream);
  ASSERT_EQ(whole.size(), 6u);
  EXPECT_EQ(whole[2].str(), "a\r\nb\0c"s);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    RespParser p;
    std::vector<RespValue> got;
    p.feed(std::string_view(stream).substr(0, cut));
    for (auto v = p.next(); v; v = p.next()) got.push_back(std::move(*v));
    p.feed(std::string_view(stream).substr(cut));
    for (auto v = p.next(); v; v = p.next()) got.push_back(std::move(*v));
    EXPECT_EQ(got, whole) << "split at " << cut;
    EXPECT_TRUE(p.idle());
  }
  RespParser p;
  std::vector<RespValue> got;
  for (char c : stream) {
    auto span = p.prepare(1);
    span[0] = c;
    p.commit(1);
    while (auto v = p.next()) got.push_back(std::move(*v));
  }
  EXPECT_EQ(got, whole);
  EXPECT_EQ(p.bytes_fed(), stream.size());
}

TEST(RespParse, NeedsMoreIsNotAnError) {
  RespParser p;
  p.feed("$10\r\nabc");
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.idle());
  p.feed("defghij\r");
  EXPECT_FALSE(p.next());
  p.feed("\n");
  auto v = p.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->str(), "abcdefghij");
  EXPECT_TRUE(p.idle());
}

TEST(RespParse, PrepareCommitPartially) {
  RespParser p;
  auto span = p.prepare(64);
  const std::string_view part = ":12";
  std::copy(part.begin(), part.end(), span.begin());
  p.commit(part.size());
  EXPECT_FALSE(p.next());
  p.feed("3\r\n");
  auto v = p.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->integer(), 123);
}

TEST(RespParse, HugeDeclaredLengthsFailBeforeAllocating) {
  // 2^62 bytes / elements: rejected at the header, nothing reserved.
  EXPECT_EQ(error_offset(":1\r\n$4611686018427387904\r\nabc"), 4);
  EXPECT_EQ(error_offset("*4611686018427387904\r\n:1\r\n"), 0);
  EXPECT_EQ(error_offset("$99999999999999999999999\r\n"), 0);  // overflows int64
  RespLimits small;
  small.max_bulk_bytes = 10;
  small.max_array_elements = 3;
  EXPECT_EQ(parse_all("$10\r\n0123456789\r\n", small).size(), 1u);
  EXPECT_EQ(error_offset("$11\r\n01234567890\r\n", small), 0);
  EXPECT_EQ(parse_all("*3\r\n:1\r\n:2\r\n:3\r\n", small).size(), 1u);
  EXPECT_EQ(error_offset("+OK\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", small), 5);
  try {
    RespParser p(small);
    p.feed("$11\r\n");
    (void)p.next();
    FAIL() << "no DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("11 bytes exceeds the limit of 10"), std::string::npos) << e.what();
  }
}

TEST(RespParse, DeclaredArrayWithoutElementsDoesNotAllocatePerDeclaredElement) {
  // Within limits but never backed by bytes: only "needs more".
  RespParser p;
  p.feed("*16000000\r\n$67108864\r\n");
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.idle());
}

TEST(RespParse, NestingDepthIsBounded) {
  std::string ok, deep;
  for (int i = 0; i < 32; ++i) ok += "*1\r\n";
  ok += ":1\r\n";
  auto v = parse_all(ok);
  ASSERT_EQ(v.size(), 1u);
  for (int i = 0; i < 33; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_EQ(error_offset(deep), 32 * 4);
  // A million nested headers: rejected at the 33rd, no recursion.
  std::string hostile;
  for (int i = 0; i < 1'000'000; ++i) hostile += "*1\r\n";
  EXPECT_EQ(error_offset(hostile), 32 * 4);
}

TEST(RespParse, LineLengthIsBounded) {
  RespLimits l;
  l.max_line_bytes = 16;
  EXPECT_EQ(parse_all("+" + std::string(15, 'a') + "\r\n", l).size(), 1u);
  EXPECT_EQ(error_offset("+" + std::string(16, 'a') + "\r\n", l), 0);
  // Without a CRLF at all, fed a byte at a time: fails once the limit is
  // passed instead of waiting forever.
  RespParser p(l);
  p.feed(":1\r\n");
  ASSERT_TRUE(p.next());
  bool threw = false;
  for (int i = 0; i < 100 && !threw; ++i) {
    p.feed("x");
    try {
      (void)p.next();
    } catch (const DecodeError& e) {
      threw = true;
      EXPECT_EQ(e.offset(), 4u);
      EXPECT_LE(i, 18);
    }
  }
  EXPECT_TRUE(threw);
  // A megabyte line under the default 64 KiB limit, one piece.
  EXPECT_EQ(error_offset("-" + std::string(1 << 20, 'e')), 0);
}

TEST(RespParse, MalformedInputReportsTheOffendingByte) {
  EXPECT_EQ(error_offset("+OK\r\n?what\r\n"), 5);  // unknown type byte
  EXPECT_EQ(error_offset("+OK\n"), 3);             // LF without CR
  EXPECT_EQ(error_offset(":12a\r\n"), 0);          // bad integer
  EXPECT_EQ(error_offset(":\r\n"), 0);             // empty integer
  EXPECT_EQ(error_offset(":+1\r\n"), 0);           // no '+' in RESP
  EXPECT_EQ(error_offset("$-2\r\n"), 0);           // negative length
  EXPECT_EQ(error_offset("*-5\r\n"), 0);
  EXPECT_EQ(error_offset("$ 3\r\nabc\r\n"), 0);
  EXPECT_EQ(error_offset("$3\r\nabcd\r\n"), 7);            // body longer than declared
  EXPECT_EQ(error_offset("+OK\r\n\r\n"), 5);               // empty line
  EXPECT_EQ(error_offset("*2\r\n:1\r\n%1\r\n"), 8);        // RESP3 map inside an array
  EXPECT_EQ(error_offset("+OK\r\n+fine\r\n+OK\r\n"), -1);  // control: well-formed
}

TEST(RespParse, ParserStaysFailed) {
  RespParser p;
  p.feed("!bad\r\n+OK\r\n");
  EXPECT_THROW((void)p.next(), DecodeError);
  EXPECT_THROW((void)p.next(), DecodeError);
}

TEST(RespValue, MoveKeepsBytesAndDebugStringEscapes) {
  RespValue v = RespValue::make_bulk_string(std::string(1000, 'x'));
  const char* data = v.str().data();
  RespValue w = std::move(v);
  EXPECT_EQ(w.str().data(), data);
  std::vector<RespValue> elems;
  elems.push_back(bulk("a\nb"));
  elems.push_back(RespValue::make_integer(5));
  elems.push_back(RespValue::make_null());
  EXPECT_EQ(RespValue::make_array(std::move(elems)).debug_string(), "[\"a\\x0ab\", 5, null]");
  EXPECT_NE(RespValue::make_integer(1), RespValue::make_bulk_string("1"));
}

}  // namespace
