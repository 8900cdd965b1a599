// The CLI's shared option parser and progress bar.
#include <gtest/gtest.h>

#include <sstream>

#include "args.hpp"
#include "progress.hpp"

namespace atdata::cli {
namespace {

TEST(CliArgs, PositionalValuesFlagsAndRepeats) {
  auto p = parse_args({"a", "--name", "n1", "--tag=x", "--tag", "y", "--blobs", "-", "--", "--not-an-option"},
                      {"--name", "--tag"}, {"--blobs"});
  EXPECT_EQ(p.positional, (std::vector<std::string>{"a", "-", "--not-an-option"}));
  EXPECT_EQ(p.required("--name"), "n1");
  EXPECT_EQ(p.all("--tag"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(p.flag("--blobs"));
  EXPECT_FALSE(p.help);
  EXPECT_EQ(p.value_or("--missing", "d"), "d");
}

TEST(CliArgs, ErrorsSayWhatIsWrong) {
  auto msg = [](auto f) {
    try {
      f();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg([] { parse_args({"--bogus"}, {}, {}); }), "unknown option '--bogus'");
  EXPECT_EQ(msg([] { parse_args({"--name"}, {"--name"}, {}); }), "--name needs a value");
  EXPECT_EQ(msg([] { parse_args({"--blobs=1"}, {}, {"--blobs"}); }), "unknown option '--blobs=1'");
  EXPECT_EQ(msg([] { parse_args({}, {"--name"}, {}).required("--name"); }), "--name is required");
  EXPECT_EQ(msg([] {
              parse_args({"--n", "0"}, {"--n"}, {}).integer("--n", 4, 1, 64);
            }),
            "--n needs an integer in [1, 64], got '0'");
  EXPECT_EQ(msg([] {
              parse_args({"--n", "3x"}, {"--n"}, {}).integer("--n", 4, 1, 64);
            }),
            "--n needs an integer in [1, 64], got '3x'");
  EXPECT_EQ(parse_args({"--n", "64"}, {"--n"}, {}).integer("--n", 4, 1, 64), 64u);
  EXPECT_EQ(parse_args({}, {"--n"}, {}).integer("--n", 4, 1, 64), 4u);
  EXPECT_TRUE(parse_args({"-h"}, {}, {}).help);
}

TEST(ProgressBar, RenderShowsCountsPercentRateAndEta) {
  EXPECT_EQ(ProgressBar::render("publishing", "records", 0, 2000, 0, 0.0, 10),
            "publishing [----------] 0/2000 records   0%");
  EXPECT_EQ(ProgressBar::render("publishing", "records", 1000, 2000, 0, 2.0, 10),
            "publishing [#####-----] 1000/2000 records  50% 500/s ETA 2s");
  // Records already present count as done but not towards the rate.
  EXPECT_EQ(ProgressBar::render("publishing", "records", 2000, 2000, 1500, 1.0, 10),
            "publishing [##########] 2000/2000 records 100% (1500 already present) 500/s");
  EXPECT_EQ(ProgressBar::render("uploading", "shards", 0, 0, 0, 0.0, 4), "uploading [####] 0/0 shards 100%");
}

TEST(ProgressBar, LogModePrintsOneLinePerTenPercent) {
  std::ostringstream s;
  ProgressBar bar(s, "publishing", "records", false);
  for (std::size_t i = 0; i <= 1000; ++i) bar.update(i, 1000);
  bar.finish();
  const std::string text = s.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 11);  // 0 %, 10 %, …, 100 %
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("1000/1000 records 100%"), std::string::npos);
}

TEST(ProgressBar, TerminalModeRedrawsInPlaceAndEndsTheLine) {
  std::ostringstream s;
  ProgressBar bar(s, "uploading", "shards", true);
  bar.update(1, 3);
  bar.update(3, 3);  // the final state is always drawn
  bar.finish();
  bar.finish();
  const std::string text = s.str();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_NE(text.find("3/3 shards 100%"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace atdata::cli
