#include "atdata/io/shard_urls.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "atdata/error.hpp"

namespace {

using namespace atdata;
using V = std::vector<std::string>;

struct Case {
  const char* pattern;
  V expected;
};

// Every brace-expansion example of docs/format.md, plus corner cases of braceexpand 0.1.7's
// algorithm (traced by hand through its parse_pattern / parse_sequence).
TEST(BraceExpand, Table) {
  const Case cases[] = {
      // spec examples
      {"{a,b}{1,2}", {"a1", "a2", "b1", "b2"}},
      {"{000000..000009}",
       {"000000", "000001", "000002", "000003", "000004", "000005", "000006", "000007", "000008", "000009"}},
      {"{07..10}", {"07", "08", "09", "10"}},
      {"{4..1}", {"4", "3", "2", "1"}},
      {"{2..-1}", {"2", "1", "0", "-1"}},
      {"{1..10..3}", {"1", "4", "7", "10"}},
      {"{Z..a}", {"Z", "a"}},
      {"{a..c}", {"a", "b", "c"}},
      {"{a..g..2}", {"a", "c", "e", "g"}},
      {"x{,.bak}", {"x", "x.bak"}},
      {"{abc}", {"{abc}"}},
      {"{}", {"{}"}},
      {"python{2.{5..7},3.{2,3}}", {"python2.5", "python2.6", "python2.7", "python3.2", "python3.3"}},
      {"shards_test-{000000..000002}.tar",
       {"shards_test-000000.tar", "shards_test-000001.tar", "shards_test-000002.tar"}},
      // escapes: kept through parsing, removed at the end
      {"\\{a,b\\}", {"{a,b}"}},
      {"{a\\,b,c}", {"a,b", "c"}},
      {"a\\\\b", {"a\\b"}},
      {"x\\\ny", {"x\\\ny"}},  // '.' in Python's escape regex does not match "\n"
      {"end\\", {"end\\"}},
      // ranges
      {"{0..3}", {"0", "1", "2", "3"}},
      {"{-05..3}", {"-05", "-04", "-03", "-02", "-01", "000", "001", "002", "003"}},
      {"{-0..-3}", {"0", "-1", "-2", "-3"}},
      {"{9..11}", {"9", "10", "11"}},
      {"{10..1..4}", {"10", "6", "2"}},
      {"{1..5..-2}", {"1", "3", "5"}},
      {"{5..5}", {"5"}},
      {"{1..3..0}", {"1", "2", "3"}},
      {"{1..3\n}", {"1", "2", "3"}},  // Python's $ matches before a final newline
      {"{c..a}", {"c", "b", "a"}},
      {"{A..A}", {"A"}},
      {"{b..A}", {"b", "a", "Z", "Y", "X", "W", "V", "U", "T", "S", "R", "Q", "P", "O",
                  "N", "M", "L", "K", "J", "I", "H", "G", "F", "E", "D", "C", "B", "A"}},
      {"{z..A..10}", {"z", "p", "f", "V", "L", "B"}},
      {"{a..b..0}", {"a", "b"}},
      {"{1..3,5}", {"1..3", "5"}},
      {"{a..}", {"{a..}"}},
      // sequences and nesting
      {"{a,}", {"a", ""}},
      {"{,}", {"", ""}},
      {"a{b,c{d,e}f}g", {"abg", "acdfg", "acefg"}},
      {"{{a,b}}", {"{a}", "{b}"}},
      {"{a}{1,2}", {"{a}1", "{a}2"}},
      {"", {""}},
      {"plain.tar", {"plain.tar"}},
      // stray closing braces that the algorithm accepts
      {"}{", {"}{"}},
      {"{a}}{", {"{a}}{"}},
      {"}{{a}", {"}{{a}"}},
      {"}{}{a", {"}{}{a"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(brace_expand(c.pattern), c.expected) << "pattern: " << c.pattern;
  }
}

TEST(BraceExpand, UnbalancedIsAnError) {
  for (const char* p : {"{a", "a}", "{a}}", "{{a}", "x{1..3", "a\\{b}"}) {
    EXPECT_THROW(brace_expand(p), InvalidArgument) << p;
  }
}

TEST(BraceExpand, HugeExpansionsAreRefused) {
  EXPECT_THROW(brace_expand("{0..99999999999}"), InvalidArgument);
  EXPECT_THROW(brace_expand("{0..999}{0..999}{0..999}", 1000000), InvalidArgument);
  EXPECT_THROW(brace_expand("{0..99999999999999999999999}"), InvalidArgument);
  // Found by fuzz/fuzz_records: the default bound is 1 M URLs, and it holds
  // for the union of comma alternatives and across "::" parts, not only for
  // each range (each of these is small text a dataset record could carry).
  EXPECT_EQ(brace_expand("{0..999999}").size(), kMaxExpandedUrls);
  EXPECT_THROW(brace_expand("{0..1000000}"), InvalidArgument);
  EXPECT_THROW(brace_expand("{{0..999999},{0..999999}}"), InvalidArgument);
  EXPECT_EQ(brace_expand("{{0..2},{0..2}}", 6).size(), 6u);
  EXPECT_THROW(brace_expand("{{0..2},{0..2},x}", 6), InvalidArgument);
  EXPECT_THROW(expand_urls("a{0..599999}::b{0..599999}"), InvalidArgument);
  EXPECT_EQ(expand_urls("a{0..2}::b{0..2}", 6).size(), 6u);
  EXPECT_THROW(expand_urls("a{0..2}::b{0..2}::c", 6), InvalidArgument);
  try {
    expand_urls("data-{551615..000009}.tar::b-{a..c}{1..3}.tar", 1000);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1000 URLs"), std::string::npos) << e.what();
  }
}

TEST(ExpandUrls, DoubleColonAndEnvironment) {
  EXPECT_EQ(expand_urls("a.tar::b-{0..1}.tar"), (V{"a.tar", "b-0.tar", "b-1.tar"}));
  EXPECT_EQ(expand_urls("a::::b"), (V{"a", "", "b"}));
  ::setenv("WDS_ATDATA_TEST_ROOT", "/data/${INNER}", 1);
  ::setenv("WDS_INNER", "x{1,2}", 1);
  EXPECT_EQ(expand_urls("${ATDATA_TEST_ROOT}/s.tar"), (V{"/data/x1/s.tar", "/data/x2/s.tar"}));
  EXPECT_EQ(expand_urls("$ATDATA_TEST_ROOT"), (V{"$ATDATA_TEST_ROOT"}));
  ::unsetenv("WDS_ATDATA_MISSING");
  EXPECT_THROW(expand_urls("${ATDATA_MISSING}/s.tar"), InvalidArgument);
  ::unsetenv("WDS_ATDATA_TEST_ROOT");
  ::unsetenv("WDS_INNER");
}

TEST(Urls, Scheme) {
  EXPECT_EQ(url_scheme("/abs/x.tar"), "");
  EXPECT_EQ(url_scheme("rel/x.tar"), "");
  EXPECT_EQ(url_scheme("rel/a:b.tar"), "");
  EXPECT_EQ(url_scheme("file:///x.tar"), "file");
  EXPECT_EQ(url_scheme("FILE:/x.tar"), "file");
  EXPECT_EQ(url_scheme("https://h/x"), "https");
  EXPECT_EQ(url_scheme("s3://b/k"), "s3");
  EXPECT_EQ(url_scheme("1http://x"), "");
  EXPECT_EQ(url_scheme(":x"), "");
}

TEST(Urls, FileUrlToPath) {
  EXPECT_EQ(file_url_to_path("file:///abs/x.tar"), "/abs/x.tar");
  EXPECT_EQ(file_url_to_path("file://host/abs/x.tar"), "/abs/x.tar");
  EXPECT_EQ(file_url_to_path("file:/abs/x.tar"), "/abs/x.tar");
  EXPECT_EQ(file_url_to_path("file:rel/x.tar"), "rel/x.tar");
  EXPECT_EQ(file_url_to_path("file:///a%20b/%E2%82%AC.tar"), "/a b/\xE2\x82\xAC.tar");
  EXPECT_EQ(file_url_to_path("file:///a%zz%2.tar"), "/a%zz%2.tar");
  EXPECT_EQ(file_url_to_path("file:///x.tar?q=1#frag"), "/x.tar");
  EXPECT_EQ(file_url_to_path("file://host"), "");
  EXPECT_THROW(file_url_to_path("/abs/x.tar"), InvalidArgument);
}

TEST(Urls, ShardPattern) {
  EXPECT_EQ(format_shard_pattern("out-%06d.tar", 7), "out-000007.tar");
  EXPECT_EQ(format_shard_pattern("out-%d.tar", 12), "out-12.tar");
  EXPECT_EQ(format_shard_pattern("%5d", 12), "   12");
  EXPECT_EQ(format_shard_pattern("%-4d|", 1), "1   |");
  EXPECT_EQ(format_shard_pattern("100%%-%03i", 5), "100%-005");
  for (const char* bad : {"out.tar", "%s.tar", "%d-%d", "%", "%06", "%1000d"}) {
    EXPECT_THROW(format_shard_pattern(bad, 1), InvalidArgument) << bad;
  }
}

}  // namespace
