// Sessions against the real PDS: login, wrong password, export/import,
// proactive and reactive token refresh, single-flight refresh.

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdlib>
#include <vector>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::PdsEnv;
using test::run_io;
namespace asio = boost::asio;

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + sep.size();
  }
}

TEST(PdsSession, LoginTakesIdentityFromCreateSessionAndFollowsDidDoc) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  EXPECT_FALSE(c.is_authenticated());
  EXPECT_THROW(c.did(), AuthError);
  EXPECT_THROW(c.export_session(), AuthError);
  int changes = 0;
  c.on_session_change([&](const Session& s) {
    ++changes;
    EXPECT_EQ(s.did, alice.did);
  });
  run_io(io, c.login(alice.handle, alice.password));
  EXPECT_TRUE(c.is_authenticated());
  EXPECT_EQ(c.did(), alice.did);
  EXPECT_EQ(c.handle(), alice.handle);
  EXPECT_EQ(changes, 1);
  // The harness returns the didDoc with the session: calls move to the PDS it
  // names (http://localhost:PORT) from the base URL (http://127.0.0.1:PORT).
  EXPECT_EQ(c.service_url(), env.public_url);
  auto fields = split(c.export_session(), ":::");
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0], alice.handle);
  EXPECT_EQ(fields[1], alice.did);
  EXPECT_EQ(fields[4], env.public_url);
  EXPECT_TRUE(jwt_expiry(fields[2]).has_value());
  // Logging in with the DID works too.
  AtmosphereClient c2(io.get_executor(), env.client_options());
  run_io(io, c2.login(alice.did, alice.password));
  EXPECT_EQ(c2.handle(), alice.handle);
}

TEST(PdsSession, WrongPasswordIsTheServersXrpcError) {
  const auto& env = PdsEnv::get();
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  const std::string password = "not-the-password-9f1c";
  try {
    run_io(io, c.login("alice.test", password));
    FAIL() << "login with a wrong password succeeded";
  } catch (const XrpcError& e) {
    EXPECT_TRUE(e.error() == "AuthenticationRequired" || e.error() == "AuthFactorTokenRequired") << e.what();
    EXPECT_EQ(e.status(), 401);
    EXPECT_EQ(e.message(), "Invalid identifier or password");
    EXPECT_EQ(e.nsid(), "com.atproto.server.createSession");
    EXPECT_EQ(std::string(e.what()).find(password), std::string::npos);
  }
  EXPECT_FALSE(c.is_authenticated());
}

TEST(PdsSession, ExportedSessionWorksInANewClient) {
  const auto& env = PdsEnv::get();
  const auto& bob = env.accounts.at("bob");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  run_io(io, c.login(bob.handle, bob.password));
  const std::string exported = c.export_session();

  // A client that never saw the base URL: the endpoint comes from the string.
  AtmosphereClientOptions o;
  o.identity.plc_url = env.plc_url;
  AtmosphereClient d(io.get_executor(), o);
  run_io(io, d.login_with_session(exported));
  EXPECT_TRUE(d.is_authenticated());
  EXPECT_EQ(d.did(), bob.did);
  EXPECT_EQ(d.handle(), bob.handle);
  EXPECT_EQ(d.service_url(), env.public_url);
  EXPECT_EQ(d.export_session(), exported);
  auto ref = run_io(io, d.create_record(test::unique_collection("imported"), {{"n", 1}}));
  EXPECT_EQ(ref.uri.rfind("at://" + bob.did + "/", 0), 0u) << ref.uri;

  // Garbage tokens: the import fails and leaves the client logged out.
  AtmosphereClient e(io.get_executor(), o);
  EXPECT_THROW(run_io(io, e.login_with_session(bob.handle + ":::" + bob.did +
                                               ":::garbage:::garbage:::" + env.public_url)),
               XrpcError);
  EXPECT_FALSE(e.is_authenticated());
  EXPECT_THROW(run_io(io, e.login_with_session("a:::b")), AuthError);
}

TEST(PdsSession, ExplicitRefreshRotatesAndNotifies) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  run_io(io, c.login(alice.handle, alice.password));
  auto before = *c.session();
  std::vector<Session> seen;
  c.on_session_change([&](const Session& s) { seen.push_back(s); });
  run_io(io, c.refresh_session());
  EXPECT_EQ(c.refresh_count(), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].refresh_jwt, before.refresh_jwt);  // refresh tokens carry a fresh jti
  EXPECT_EQ(seen[0].refresh_jwt, c.session()->refresh_jwt);
  EXPECT_EQ(c.did(), alice.did);
  auto v = run_io(io, c.query("com.atproto.server.getSession"));
  EXPECT_EQ(v.at("did").as_string(), alice.did);
}

TEST(PdsSession, ExpiredAccessTokenIsRefreshedBeforeTheCall) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  run_io(io, c.login(alice.handle, alice.password));
  auto s = *c.session();
  s.access_jwt = test::mint_access_token(env, alice.did, -100);

  AtmosphereClient d(io.get_executor(), env.client_options());
  int changes = 0;
  d.on_session_change([&](const Session&) { ++changes; });
  run_io(io, d.login_with_session(format_session_string(s)));
  EXPECT_EQ(d.refresh_count(), 1u);
  EXPECT_NE(d.session()->access_jwt, s.access_jwt);
  EXPECT_GT(*jwt_expiry(d.session()->access_jwt), *jwt_expiry(s.access_jwt));
  EXPECT_EQ(changes, 2);  // the rotation, then the completed import
}

// 8 writes race with an expired token; they must share one refresh.
void race_with_expired_token(std::chrono::seconds margin) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  run_io(io, c.login(alice.handle, alice.password));
  auto s = *c.session();
  s.access_jwt = test::mint_access_token(env, alice.did, -100);

  auto opt = env.client_options();
  opt.refresh_margin = margin;
  AtmosphereClient d(io.get_executor(), opt);
  d.restore_session(s);
  EXPECT_EQ(d.did(), alice.did);
  int rotations = 0;
  d.on_session_change([&](const Session&) { ++rotations; });
  const auto coll = test::unique_collection("race");
  int done = 0;
  std::exception_ptr err;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          boost::json::object rec{{"i", i}};  // named: GCC 12 brace-init in co_await bug
          auto ref = co_await d.create_record(coll, std::move(rec));
          EXPECT_FALSE(ref.uri.empty());
          ++done;
        },
        [&](std::exception_ptr e) {
          if (e) err = e;
        });
  }
  io.restart();
  io.run();
  if (err) std::rethrow_exception(err);
  EXPECT_EQ(done, 8);
  EXPECT_EQ(d.refresh_count(), 1u);
  EXPECT_EQ(rotations, 1);
  EXPECT_NE(d.session()->access_jwt, s.access_jwt);
  auto page = run_io(io, d.list_records(coll));
  EXPECT_EQ(page.records.size(), 8u);
}

TEST(PdsSession, ConcurrentCallsShareOneProactiveRefresh) {
  race_with_expired_token(std::chrono::seconds(300));
}

// With a negative margin the client does not look at exp, so the PDS sees the
// expired token and answers ExpiredToken: the reactive path.
TEST(PdsSession, ExpiredTokenAnswerTriggersOneSharedRefresh) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  // The server really rejects the token with ExpiredToken.
  XrpcClient raw(c.http(), env.pds_url);
  try {
    XrpcCall call;
    call.bearer = test::mint_access_token(env, alice.did, -100);
    run_io(io, raw.query("com.atproto.server.getSession", {}, call));
    FAIL() << "expired token accepted";
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.error(), "ExpiredToken");
    EXPECT_EQ(e.message(), "Token has expired");
  }
  race_with_expired_token(std::chrono::seconds(-3600));
}

TEST(PdsSession, FromEnvironment) {
  const auto& env = PdsEnv::get();
  const auto& bob = env.accounts.at("bob");
  ::setenv("ATDATA_PDS_URL", env.pds_url.c_str(), 1);
  ::setenv("ATDATA_PLC_URL", env.plc_url.c_str(), 1);
  ::unsetenv("ATDATA_SESSION");
  ::unsetenv("ATDATA_HANDLE");
  ::unsetenv("ATDATA_PASSWORD");
  asio::io_context io;
  EXPECT_THROW(run_io(io, AtmosphereClient::from_env(io.get_executor())), AuthError);
  ::setenv("ATDATA_HANDLE", bob.handle.c_str(), 1);
  ::setenv("ATDATA_PASSWORD", bob.password.c_str(), 1);
  auto c = run_io(io, AtmosphereClient::from_env(io.get_executor()));
  EXPECT_EQ(c->did(), bob.did);
  EXPECT_EQ(c->options().identity.plc_url, env.plc_url);
  EXPECT_EQ(run_io(io, c->resolve_pds(bob.did)), env.public_url);
  // ATDATA_SESSION alone also works.
  const std::string exported = c->export_session();
  ::unsetenv("ATDATA_HANDLE");
  ::unsetenv("ATDATA_PASSWORD");
  ::setenv("ATDATA_SESSION", exported.c_str(), 1);
  auto d = run_io(io, AtmosphereClient::from_env(io.get_executor()));
  EXPECT_EQ(d->handle(), bob.handle);
  ::unsetenv("ATDATA_SESSION");
}

TEST(PdsSession, CallsWithoutLoginAreRefusedLocally) {
  const auto& env = PdsEnv::get();
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  try {
    run_io(io, c.create_record("ac.foundation.dataset.record", {{"a", 1}}));
    FAIL();
  } catch (const AuthError& e) {
    EXPECT_STREQ(e.what(), "Client must be authenticated to perform this operation");
  }
  EXPECT_THROW(run_io(io, c.upload_blob(SharedBytes::copy_of(std::string_view("x")))), AuthError);
  EXPECT_THROW(run_io(io, c.list_records("ac.foundation.dataset.record")), AuthError);
}

}  // namespace
}  // namespace atdata::atproto
