// RedisClient against a real redis-server (tools/redis/ctest-fixture.sh):
// binary-safe values, hashes, SCAN, MULTI/EXEC, error replies, concurrent
// callers sharing one pipelined connection, a 10,000-command pipeline,
// AUTH, a connection killed under in-flight requests, and a reply above the
// parser's limits. The server is shared with other tests (the local index
// uses dbs 1..15): every key here starts with a prefix unique to the test
// and the process, and is deleted afterwards.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"
#include "support/net_run.hpp"

namespace {

namespace asio = boost::asio;
using atdata::DecodeError;
using atdata::NetworkError;
using atdata::net::RedisClient;
using atdata::net::RedisConfig;
using atdata::net::RedisError;
using atdata::net::RedisRequest;
using atdata::net::RespLimits;
using atdata::net::RespValue;
using atdata::test::run_io;
using namespace std::string_literals;

std::string from_env_or_run_dir(const char* env, const char* file) {
  if (const char* e = std::getenv(env); e && *e) return e;
  // Lexically: storage-run itself need not exist for its sibling to.
  const auto path =
      (std::filesystem::path(ATDATA_STORAGE_RUN_DIR) / ".." / "redis-run" / file).lexically_normal();
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string redis_url() {
  return from_env_or_run_dir("ATDATA_REDIS_URL", "url");
}
std::string redis_auth_url() {
  return from_env_or_run_dir("ATDATA_REDIS_AUTH_URL", "auth_url");
}

asio::awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = redis_url();
    if (url_.empty()) {
      GTEST_SKIP()
          << "no redis-server: run through ctest (the redis fixture starts one) or set ATDATA_REDIS_URL";
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ =
        "atdata-test:redis-client:" + std::string(info->name()) + ":" + std::to_string(::getpid()) + ":";
    client_ = std::make_unique<RedisClient>(ioc_.get_executor(), RedisConfig::from_url(url_));
  }
  void TearDown() override {
    if (!client_) return;
    try {
      RedisClient cleaner(ioc_.get_executor(), RedisConfig::from_url(url_));
      std::string cursor = "0";
      do {
        RespValue r = run_io(ioc_, cleaner.command("SCAN", cursor, "MATCH", prefix_ + "*", "COUNT", 1000));
        cursor = std::string(r.array()[0].str());
        RedisRequest del;
        for (const auto& k : r.array()[1].array()) del.push("DEL", k.str());
        run_io(ioc_, cleaner.exec(del));
      } while (cursor != "0");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }

  std::string key(const std::string& name) const { return prefix_ + name; }

  asio::io_context ioc_;
  std::string url_, prefix_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(RedisClientTest, SetGetBinaryValuesWithNuls) {
  const std::string value = "a\0b\r\n\xff\x00z"s;
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  RedisRequest req;
  req.push("SET", key("bin"), value);
  req.push("SET", key("big"), big);
  req.push("GET", key("bin"));
  req.push("GET", key("big"));
  req.push("GET", key("missing"));
  std::vector<RespValue> r = run_io(ioc_, client_->exec(req));
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].str(), "OK");
  EXPECT_EQ(r[1].str(), "OK");
  EXPECT_EQ(r[2].str(), value);
  EXPECT_EQ(r[2].str().size(), 8u);
  EXPECT_TRUE(r[3].str() == big) << "1 MiB value differs";
  EXPECT_TRUE(r[4].is_null());
  // Raw bytes as an argument.
  const std::vector<std::byte> raw = {std::byte{0}, std::byte{1}, std::byte{0xfe}};
  RespValue set = run_io(ioc_, client_->command("SET", key("raw"), std::span<const std::byte>(raw)));
  EXPECT_EQ(set.str(), "OK");
  RespValue got = run_io(ioc_, client_->command("GET", key("raw")));
  EXPECT_EQ(got.str(), "\0\x01\xfe"s);
  EXPECT_EQ(client_->stats().connections_opened, 1u);
}

TEST_F(RedisClientTest, HsetAndHgetallOfManyFields) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (int i = 0; i < 300; ++i)
    fields.emplace_back("field" + std::to_string(i), "v\0"s + std::to_string(i * i));
  RedisRequest req;
  req.push_range("HSET", key("h"), fields);
  req.push("HGETALL", key("h"));
  req.push("HGET", key("h"), "field17");
  std::vector<RespValue> r = run_io(ioc_, client_->exec(req));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].integer(), 300);
  std::map<std::string, std::string> got;
  const auto& a = r[1].array();
  ASSERT_EQ(a.size(), 600u);
  for (std::size_t i = 0; i + 1 < a.size(); i += 2)
    got[std::string(a[i].str())] = std::string(a[i + 1].str());
  std::map<std::string, std::string> want(fields.begin(), fields.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(r[2].str(), "v\0"s + "289");
}

TEST_F(RedisClientTest, ScanMatchIteratesEveryKeyOnce) {
  RedisRequest req;
  std::set<std::string> want;
  for (int i = 0; i < 250; ++i) {
    want.insert(key("scan:" + std::to_string(i)));
    req.push("SET", key("scan:" + std::to_string(i)), i);
  }
  req.push("SET", key("other"), "not matched");
  run_io(ioc_, client_->exec(req));
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    RespValue r = run_io(ioc_, client_->command("SCAN", cursor, "MATCH", key("scan:*"), "COUNT", 50));
    ASSERT_EQ(r.array().size(), 2u);
    cursor = std::string(r.array()[0].str());
    for (const auto& k : r.array()[1].array()) seen.insert(std::string(k.str()));
    ++rounds;
  } while (cursor != "0" && rounds < 10'000);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), want);
  EXPECT_GT(rounds, 1);  // it really iterated
}

TEST_F(RedisClientTest, MultiExecInOnePipeline) {
  RedisRequest req;
  req.push("MULTI");
  req.push("SET", key("n"), 41);
  req.push("INCR", key("n"));
  req.push("HSET", key("h"), "a", "1", "b", "2");
  req.push("GET", key("n"));
  req.push("EXEC");
  std::vector<RespValue> r = run_io(ioc_, client_->exec(req));
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].str(), "OK");
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(r[i].str(), "QUEUED");
  ASSERT_TRUE(r[5].is_array());
  const auto& ex = r[5].array();
  ASSERT_EQ(ex.size(), 4u);
  EXPECT_EQ(ex[0].str(), "OK");
  EXPECT_EQ(ex[1].integer(), 42);
  EXPECT_EQ(ex[2].integer(), 2);
  EXPECT_EQ(ex[3].str(), "42");
}

TEST_F(RedisClientTest, ErrorReplyIsAValueInExecAndRedisErrorFromCommand) {
  RespValue s = run_io(ioc_, client_->command("SET", key("str"), "x"));
  EXPECT_EQ(s.str(), "OK");
  try {
    run_io(ioc_, client_->command("HGET", key("str"), "f"));
    FAIL() << "no RedisError";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.command(), "HGET");
    EXPECT_EQ(e.server_message(), "WRONGTYPE Operation against a key holding the wrong kind of value");
    EXPECT_NE(std::string(e.what()).find("HGET"), std::string::npos) << e.what();
  }
  RedisRequest req;
  req.push("GET", key("str"));
  req.push("HGET", key("str"), "f");
  req.push("NOSUCHCOMMAND");
  req.push("GET", key("str"));
  std::vector<RespValue> r = run_io(ioc_, client_->exec(req));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].str(), "x");
  EXPECT_TRUE(r[1].is_error());
  EXPECT_TRUE(r[1].str().starts_with("WRONGTYPE"));
  EXPECT_TRUE(r[2].is_error());
  EXPECT_THROW(r[2].throw_if_error("NOSUCHCOMMAND"), RedisError);
  EXPECT_EQ(r[3].str(), "x");
  EXPECT_EQ(client_->stats().connections_opened, 1u);  // errors do not cost the connection
}

// Alternates ECHO of a tag unique to (worker, i) and INCR of the worker's
// own counter; returns how many replies were not the ones expected.
asio::awaitable<int> echo_worker(RedisClient& client, std::string counter, int worker, int commands) {
  int wrong = 0;
  for (int i = 0; i < commands; ++i) {
    if (i % 2 == 0) {
      const std::string tag = "w" + std::to_string(worker) + ":" + std::to_string(i);
      RespValue v = co_await client.command("ECHO", tag);
      if (v.str() != tag) ++wrong;
    } else {
      RespValue v = co_await client.command("INCR", counter);
      if (v.integer() != (i + 1) / 2) ++wrong;
    }
  }
  co_return wrong;
}

TEST_F(RedisClientTest, ConcurrentCoroutinesShareOneConnectionAndGetTheirOwnReplies) {
  constexpr int kWorkers = 8, kCommands = 500;
  int finished = 0, wrong = 0;
  std::vector<std::string> errors;
  for (int w = 0; w < kWorkers; ++w) {
    auto done = [&](std::exception_ptr e, int bad) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          errors.push_back(x.what());
        }
      }
      wrong += bad;
      if (++finished == kWorkers) ioc_.stop();
    };
    asio::co_spawn(ioc_, echo_worker(*client_, key("ctr:" + std::to_string(w)), w, kCommands), done);
  }
  ioc_.restart();
  ioc_.run();
  EXPECT_EQ(finished, kWorkers);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(wrong, 0);
  const auto st = client_->stats();
  EXPECT_EQ(st.connections_opened, 1u);
  EXPECT_EQ(st.commands_sent, static_cast<std::uint64_t>(kWorkers * kCommands));
  RespValue last = run_io(ioc_, client_->command("GET", key("ctr:7")));
  EXPECT_EQ(last.str(), std::to_string(kCommands / 2));
}

TEST_F(RedisClientTest, TenThousandCommandPipelineRepliesInOrder) {
  RedisRequest req;
  for (int i = 0; i < 10'000; ++i) req.push("INCR", key("ctr"));
  ASSERT_EQ(req.size(), 10'000u);
  std::vector<RespValue> r = run_io(ioc_, client_->exec(req));
  ASSERT_EQ(r.size(), 10'000u);
  int out_of_order = 0;
  for (int i = 0; i < 10'000; ++i) out_of_order += r[i].integer() != i + 1;
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(client_->stats().requests_sent, 1u);
}

TEST_F(RedisClientTest, SelectsTheUrlsDatabase) {
  RedisClient db31(ioc_.get_executor(), RedisConfig::from_url(url_ + "/31"));
  try {
    RespValue s = run_io(ioc_, db31.command("SET", key("db"), "in 31"));
    EXPECT_EQ(s.str(), "OK");
  } catch (const RedisError& e) {
    if (e.command() == "SELECT") GTEST_SKIP() << "server has fewer than 32 databases: " << e.what();
    throw;
  }
  RespValue in0 = run_io(ioc_, client_->command("GET", key("db")));
  EXPECT_TRUE(in0.is_null());
  RespValue in31 = run_io(ioc_, db31.command("GET", key("db")));
  EXPECT_EQ(in31.str(), "in 31");
  run_io(ioc_, db31.command("DEL", key("db")));
}

TEST_F(RedisClientTest, AuthWithPasswordAndClearErrorForAWrongOne) {
  const std::string auth = redis_auth_url();
  if (auth.empty()) GTEST_SKIP() << "no auth_url (the redis fixture writes one)";
  RedisClient ok(ioc_.get_executor(), RedisConfig::from_url(auth));
  RespValue pong = run_io(ioc_, ok.command("PING"));
  EXPECT_EQ(pong.str(), "PONG");

  const std::string bad_password = "Wr0ngPassw0rd-xyzzy";
  std::string bad_url = auth;
  bad_url.replace(bad_url.find(":secret@"), 8, ":" + bad_password + "@");
  RedisClient bad(ioc_.get_executor(), RedisConfig::from_url(bad_url));
  try {
    run_io(ioc_, bad.command("PING"));
    FAIL() << "no error for a wrong password";
  } catch (const RedisError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.command(), "AUTH");
    EXPECT_TRUE(e.server_message().starts_with("WRONGPASS")) << what;
    EXPECT_NE(what.find("127.0.0.1:"), std::string::npos) << what;
    EXPECT_EQ(what.find(bad_password), std::string::npos) << what;
  }
  // No password at all: the server's NOAUTH is a RedisError of the command.
  RedisConfig no_password = RedisConfig::from_url(auth);
  no_password.password.clear();
  RedisClient anon(ioc_.get_executor(), no_password);
  try {
    run_io(ioc_, anon.command("GET", "x"));
    FAIL() << "no NOAUTH error";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.command(), "GET");
    EXPECT_TRUE(e.server_message().starts_with("NOAUTH")) << e.what();
  }
}

asio::awaitable<std::string> expect_network_error(RedisClient& c, RedisRequest req) {
  std::string what = "no error";
  try {
    co_await c.exec(std::move(req));
  } catch (const NetworkError& e) {
    what = e.what();
  } catch (const std::exception& e) {
    what = std::string("wrong exception: ") + e.what();
  }
  co_return what;
}

TEST_F(RedisClientTest, KilledConnectionFailsInFlightRequestsAndNextExecReconnects) {
  RespValue id = run_io(ioc_, client_->command("CLIENT", "ID"));
  RedisClient killer(ioc_.get_executor(), RedisConfig::from_url(url_));
  run_io(ioc_, killer.command("PING"));

  // A blocking BLPOP, and two requests queued behind it on the connection.
  std::vector<std::string> errors;
  int finished = 0;
  for (int i = 0; i < 3; ++i) {
    RedisRequest req;
    if (i == 0) {
      req.push("BLPOP", key("never"), 10);
    } else {
      req.push("GET", key("x"));
    }
    auto done = [&](std::exception_ptr, std::string what) {
      errors.push_back(std::move(what));
      ++finished;
    };
    asio::co_spawn(ioc_, expect_network_error(*client_, std::move(req)), done);
  }
  // Kill it (by id: other tests share the server) once all three are written.
  auto kill = [&]() -> asio::awaitable<RespValue> {
    for (int i = 0; i < 1000 && client_->stats().requests_sent < 4; ++i) co_await sleep_ms(2);
    co_await sleep_ms(50);
    RespValue n = co_await killer.command("CLIENT", "KILL", "ID", id.integer());
    for (int i = 0; i < 2500 && finished < 3; ++i) co_await sleep_ms(2);
    co_return n;
  };
  RespValue killed = run_io(ioc_, kill());
  EXPECT_EQ(killed.integer(), 1);
  ASSERT_EQ(finished, 3);
  const std::string where = url_.substr(std::string("redis://").size());
  for (const auto& e : errors) {
    EXPECT_NE(e.find("redis " + where), std::string::npos) << e;
    EXPECT_NE(e.find("reading replies"), std::string::npos) << e;
  }
  RespValue pong = run_io(ioc_, client_->command("PING"));
  EXPECT_EQ(pong.str(), "PONG");
  EXPECT_EQ(client_->stats().connections_opened, 2u);
}

TEST_F(RedisClientTest, ReplyAboveTheLimitsIsADecodeErrorAndTheClientRecovers) {
  const std::string big(2 << 20, 'b');
  run_io(ioc_, client_->command("SET", key("big"), big));
  RespLimits limits;
  limits.max_bulk_bytes = 1 << 20;
  RedisClient limited(ioc_.get_executor(), RedisConfig::from_url(url_).with_limits(limits));
  try {
    run_io(ioc_, limited.command("GET", key("big")));
    FAIL() << "no DecodeError";
  } catch (const DecodeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("reply to GET"), std::string::npos) << what;
    EXPECT_NE(what.find("exceeds the limit"), std::string::npos) << what;
    EXPECT_EQ(e.offset(), 0u);
  }
  RespValue len = run_io(ioc_, limited.command("STRLEN", key("big")));
  EXPECT_EQ(len.integer(), static_cast<std::int64_t>(big.size()));
  EXPECT_EQ(limited.stats().connections_opened, 2u);
}

TEST_F(RedisClientTest, DestroyedIdleClientLeavesNothingBehind) {
  {
    RedisClient c(ioc_.get_executor(), RedisConfig::from_url(url_));
    RespValue pong = run_io(ioc_, c.command("PING"));
    EXPECT_EQ(pong.str(), "PONG");
  }
  // Its reader loop sees the socket closed and ends; the context runs dry
  // apart from nothing (ASan would flag a use of the freed client).
  ioc_.restart();
  for (int i = 0; i < 100 && ioc_.poll() > 0; ++i) {
  }
  RespValue pong = run_io(ioc_, client_->command("PING"));
  EXPECT_EQ(pong.str(), "PONG");
}

}  // namespace
