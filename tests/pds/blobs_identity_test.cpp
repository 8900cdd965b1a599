// Blobs and identity against the real PDS.

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::PdsEnv;
using test::run_io;
namespace asio = boost::asio;

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < n; i += 8) {
    auto x = rng();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) v[i + j] = static_cast<std::byte>(x >> (8 * j));
  }
  return v;
}

struct LoggedIn {
  asio::io_context io;
  AtmosphereClient client;
  LoggedIn() : client(io.get_executor(), PdsEnv::get().client_options()) {
    const auto& a = PdsEnv::get().accounts.at("alice");
    run_io(io, client.login(a.handle, a.password));
  }
  // The PDS keeps an uploaded blob only once a record references it.
  void reference(const BlobRef& ref) {
    auto coll = test::unique_collection("blobs");
    run_io(io, client.create_record(coll, {{"$type", coll}, {"archive", ref.to_json()}}));
  }
};

TEST(PdsBlobs, FourMegabyteRoundTripIsByteExact) {
  LoggedIn s;
  auto data = SharedBytes::adopt(random_bytes(4'000'000, 4));
  auto ref = run_io(s.io, s.client.upload_blob(data, "application/x-tar"));
  EXPECT_EQ(ref.cid, raw_cid(data.span()));
  EXPECT_EQ(ref.cid.rfind("bafkrei", 0), 0u);
  EXPECT_EQ(ref.size, 4'000'000u);
  s.reference(ref);

  auto back = run_io(s.io, s.client.get_blob(s.client.did(), ref.cid));
  EXPECT_TRUE(back == data);

  // Streamed: several chunks, verified at the end.
  auto stream = run_io(s.io, s.client.open_blob(s.client.did(), ref.cid));
  EXPECT_EQ(stream.content_length(), 4'000'000u);
  std::size_t chunks = 0, total = 0;
  for (;;) {
    auto c = run_io(s.io, stream.next());
    if (c.empty()) break;
    ++chunks;
    total += c.size();
  }
  EXPECT_GE(chunks, 2u);
  EXPECT_EQ(total, 4'000'000u);

  auto url = run_io(s.io, s.client.get_blob_url(s.client.did(), ref.cid));
  EXPECT_EQ(url, PdsEnv::get().public_url + "/xrpc/com.atproto.sync.getBlob?did=" + s.client.did() +
                     "&cid=" + ref.cid);
}

TEST(PdsBlobs, TwentyMegabyteFileWithTheRaisedLimit) {
  LoggedIn s;
  auto data = random_bytes(20'000'000, 20);
  auto path = std::filesystem::temp_directory_path() / ("atdata-blob-" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  BlobRef ref;
  try {
    ref = run_io(s.io, s.client.upload_blob_file(path.string(), "application/octet-stream"));
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  EXPECT_EQ(ref.size, 20'000'000u);
  EXPECT_EQ(ref.cid, raw_cid(std::span<const std::byte>(data)));
  s.reference(ref);
  auto back = run_io(s.io, s.client.get_blob(s.client.did(), ref.cid));
  ASSERT_EQ(back.size(), data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), back.data()));
}

TEST(PdsBlobs, MissingBlobAndBadCid) {
  LoggedIn s;
  auto absent = raw_cid(std::string_view("never uploaded"));
  try {
    run_io(s.io, s.client.get_blob(s.client.did(), absent));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.nsid(), "com.atproto.sync.getBlob");
    EXPECT_NE(e.message().find("Blob not found"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_io(s.io, s.client.get_blob(s.client.did(),
                                              "bafyreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu")),
               InvalidArgument);  // dag-cbor, not a blob
  EXPECT_THROW(run_io(s.io, s.client.get_blob(s.client.did(), "Qm123")), InvalidArgument);
}

TEST(PdsIdentity, HandleDidAndPds) {
  const auto& env = PdsEnv::get();
  const auto& bob = env.accounts.at("bob");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  EXPECT_EQ(run_io(io, c.resolve_handle("bob.test")), bob.did);
  EXPECT_EQ(run_io(io, c.resolve_handle("BOB.test")), bob.did);  // handles are case-insensitive
  auto doc = run_io(io, c.resolve_did(bob.did));
  EXPECT_EQ(doc.id, bob.did);
  EXPECT_EQ(doc.handle(), "bob.test");
  EXPECT_EQ(doc.pds_endpoint, env.public_url);
  EXPECT_EQ(run_io(io, c.resolve_pds("bob.test")), env.public_url);
  EXPECT_EQ(run_io(io, c.resolve_pds(bob.did)), env.public_url);

  try {
    run_io(io, c.resolve_handle("nobody.test"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Could not resolve handle nobody.test"), std::string::npos)
        << e.what();
  }
  try {
    run_io(io, c.resolve_did("did:example:123"));
    FAIL() << "expected DidResolutionError";
  } catch (const DidResolutionError& e) {
    EXPECT_EQ(e.cause(), DidResolutionError::Cause::unsupported_method);
  }
  EXPECT_THROW(run_io(io, c.resolve_did("did:plc:")), InvalidArgument);
  EXPECT_THROW(run_io(io, c.resolve_handle("not a handle")), InvalidArgument);
}

// The harness PLC directory has never heard of this DID: its 404 is
// DidResolutionError "not found", naming the DID and the PLC asked; every
// path that resolves (get_record of another repo, blobs) reports the same.
TEST(PdsIdentity, UnknownDidIsNotFound) {
  const auto& env = PdsEnv::get();
  const std::string unknown = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  auto check = [&](const DidResolutionError& e) {
    EXPECT_EQ(e.cause(), DidResolutionError::Cause::not_found);
    EXPECT_EQ(e.did(), unknown);
    EXPECT_EQ(e.resolver_url(), env.plc_url);
    EXPECT_EQ(e.http_status(), 404);
    const std::string what = e.what();
    EXPECT_NE(
        what.find("Could not resolve DID " + unknown + ": not found in the PLC directory " + env.plc_url),
        std::string::npos)
        << what;
    EXPECT_NE(what.find("ATDATA_PLC_URL"), std::string::npos) << what;
  };
  try {
    run_io(io, c.resolve_did(unknown));
    FAIL() << "expected DidResolutionError";
  } catch (const DidResolutionError& e) {
    check(e);
  }
  try {
    run_io(io, c.get_record(unknown, "app.bsky.feed.post", "self"));
    FAIL() << "expected DidResolutionError";
  } catch (const DidResolutionError& e) {
    check(e);
  }
}

TEST(PdsIdentity, CacheAndCoalescing) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), env.client_options());
  auto& id = c.identity();
  std::vector<std::string> got;
  for (int i = 0; i < 10; ++i) {
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { got.push_back(co_await id.resolve_pds(alice.did)); },
        asio::detached);
  }
  io.run();
  ASSERT_EQ(got.size(), 10u);
  for (const auto& g : got) EXPECT_EQ(g, env.public_url);
  auto st = id.stats();
  EXPECT_EQ(st.network_lookups, 1u);
  EXPECT_EQ(st.coalesced + st.cache_hits, 9u);
  // Cached now.
  EXPECT_EQ(run_io(io, id.resolve_pds(alice.did)), env.public_url);
  EXPECT_EQ(id.stats().network_lookups, 1u);
  id.invalidate(alice.did);
  EXPECT_EQ(run_io(io, id.resolve_pds(alice.did)), env.public_url);
  EXPECT_EQ(id.stats().network_lookups, 2u);
}

}  // namespace
}  // namespace atdata::atproto
