// DidResolutionError against a scripted loopback PLC directory: the answers
// the harness PLC never gives (500, garbage, another DID's document) and a
// PLC that is not there at all. The real PLC's "not found" is checked in
// tests/pds.

#include "atdata/atproto/identity.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <deque>
#include <string>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "net/mock_server.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::run_io;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Cause = DidResolutionError::Cause;

constexpr const char* kDid = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

std::string response(int status, const std::string& body, const std::string& type = "application/json") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string document(const std::string& did, const std::string& pds = "https://pds.example.com") {
  return R"({"id":")" + did + R"(","alsoKnownAs":["at://alice.test"],"service":[{"id":"#atproto_pds",)" +
         R"("type":"AtprotoPersonalDataServer","serviceEndpoint":")" + pds + R"("}]})";
}

using ScriptedPlc = test::ScriptedServer;

// A loopback port nobody listens on: bound, then closed.
std::string closed_port_url() {
  asio::io_context io;
  tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return "http://127.0.0.1:" + std::to_string(port);
}

struct IdentityMock : ::testing::Test {
  asio::io_context io;
  std::shared_ptr<net::HttpClient> http = std::make_shared<net::HttpClient>(io.get_executor());

  IdentityOptions options(const std::string& plc) {
    IdentityOptions o;
    o.plc_url = plc;
    return o;
  }

  // Resolves kDid and returns the error (fails the test when none is thrown).
  DidResolutionError resolve_error(IdentityResolver& r, const std::string& did = kDid) {
    try {
      run_io(io, r.resolve_did(did));
    } catch (const DidResolutionError& e) {
      return e;
    }
    ADD_FAILURE() << "expected DidResolutionError";
    return DidResolutionError(Cause::not_found, "", "", "");
  }
};

void expect_plc_hint(const DidResolutionError& e, const std::string& plc) {
  const std::string what = e.what();
  EXPECT_EQ(what.rfind("Could not resolve DID " + std::string(kDid) + ": ", 0), 0u) << what;
  EXPECT_NE(what.find(plc), std::string::npos) << what;
  EXPECT_NE(what.find("plc_url"), std::string::npos) << what;
  EXPECT_NE(what.find("ATDATA_PLC_URL"), std::string::npos) << what;
}

TEST_F(IdentityMock, NotFoundIn404) {
  ScriptedPlc plc(io,
                  {response(404, R"({"message":"DID not registered: did:plc:ewvi7nxzyoun6zhxrhs64oiz"})")});
  IdentityResolver r(http, options(plc.base()));
  auto e = resolve_error(r);
  EXPECT_EQ(e.cause(), Cause::not_found);
  EXPECT_EQ(e.did(), kDid);
  EXPECT_EQ(e.resolver_url(), plc.base());
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_NE(std::string(e.what()).find("not found in the PLC directory " + plc.base()), std::string::npos)
      << e.what();
  expect_plc_hint(e, plc.base());
  ASSERT_EQ(plc.seen.size(), 1u);
  EXPECT_EQ(plc.seen[0].head.rfind("GET /" + std::string(kDid) + " HTTP/1.1\r\n", 0), 0u) << plc.seen[0].head;
}

TEST_F(IdentityMock, ServerErrorIsHttpErrorAndNotCached) {
  ScriptedPlc plc(io, {response(500, R"({"message":"boom"})"), response(200, document(kDid))});
  IdentityResolver r(http, options(plc.base() + "/"));  // a trailing "/" is tolerated
  auto e = resolve_error(r);
  EXPECT_EQ(e.cause(), Cause::http_error);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_EQ(e.resolver_url(), plc.base());
  EXPECT_NE(std::string(e.what()).find("HTTP 500"), std::string::npos) << e.what();
  expect_plc_hint(e, plc.base());
  // A failure is not remembered: the next lookup asks again.
  EXPECT_EQ(run_io(io, r.resolve_pds(kDid)), "https://pds.example.com");
  EXPECT_EQ(plc.seen.size(), 2u);
}

TEST_F(IdentityMock, GarbageDocuments) {
  ScriptedPlc plc(io, {response(200, "<html>a login portal</html>", "text/html"), response(200, "[1, 2]"),
                       response(200, document("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")),
                       response(200, R"({"id":")" + std::string(kDid) + R"("})")});
  IdentityResolver r(http, options(plc.base()));
  auto not_json = resolve_error(r);
  EXPECT_EQ(not_json.cause(), Cause::bad_document);
  EXPECT_NE(std::string(not_json.what()).find("is not JSON"), std::string::npos) << not_json.what();
  expect_plc_hint(not_json, plc.base());

  auto not_doc = resolve_error(r);
  EXPECT_EQ(not_doc.cause(), Cause::bad_document);
  EXPECT_NE(std::string(not_doc.what()).find("is not a DID document"), std::string::npos) << not_doc.what();

  auto other = resolve_error(r);
  EXPECT_EQ(other.cause(), Cause::bad_document);
  EXPECT_NE(std::string(other.what()).find("is for did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos)
      << other.what();

  // A document without a PDS resolves, but names no PDS endpoint.
  EXPECT_EQ(run_io(io, r.resolve_did(kDid)).id, kDid);
  try {
    run_io(io, r.resolve_pds(kDid));
    FAIL() << "expected DidResolutionError";
  } catch (const DidResolutionError& e) {
    EXPECT_EQ(e.cause(), Cause::bad_document);
    EXPECT_EQ(e.did(), kDid);
    EXPECT_EQ(e.resolver_url(), plc.base());
    EXPECT_NE(std::string(e.what()).find("Could not resolve PDS endpoint for " + std::string(kDid)),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(plc.seen.size(), 4u);
}

TEST_F(IdentityMock, UnreachablePlcNamesItAndHowToSetAnother) {
  const std::string plc = closed_port_url();
  IdentityResolver r(http, options(plc));
  auto e = resolve_error(r);
  EXPECT_EQ(e.cause(), Cause::unreachable);
  EXPECT_EQ(e.resolver_url(), plc);
  EXPECT_EQ(e.http_status(), 0);
  EXPECT_NE(std::string(e.what()).find("the PLC directory " + plc + " is unreachable"), std::string::npos)
      << e.what();
  expect_plc_hint(e, plc);
}

TEST_F(IdentityMock, UnsupportedMethodAsksNobody) {
  ScriptedPlc plc(io, {});
  IdentityResolver r(http, options(plc.base()));
  auto e = resolve_error(r, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
  EXPECT_EQ(e.cause(), Cause::unsupported_method);
  EXPECT_EQ(e.resolver_url(), "");
  EXPECT_NE(std::string(e.what()).find("only did:plc and did:web"), std::string::npos) << e.what();
  EXPECT_EQ(plc.seen.size(), 0u);
  EXPECT_THROW(run_io(io, r.resolve_did("not a did")), InvalidArgument);
}

// A client configured with only base_url uses the public PLC directory; when
// the PLC it uses cannot be reached, the error says which one and how to
// choose another (here chosen through ATDATA_PLC_URL, as from_env does).
TEST_F(IdentityMock, ClientWithOnlyBaseUrlSaysWhichPlcItTried) {
  AtmosphereClient plain(io.get_executor(), std::string("http://127.0.0.1:9"));
  EXPECT_EQ(plain.options().identity.plc_url, kDefaultPlcUrl);
  EXPECT_EQ(kDefaultPlcUrl, "https://plc.directory");

  const std::string plc = closed_port_url();
  ::setenv("ATDATA_PLC_URL", plc.c_str(), 1);
  AtmosphereClientOptions base;
  base.base_url = "http://127.0.0.1:9";
  auto opts = AtmosphereClient::options_from_env(base);
  ::unsetenv("ATDATA_PLC_URL");
  EXPECT_EQ(opts.identity.plc_url, plc);
  AtmosphereClient c(io.get_executor(), opts);
  try {
    run_io(io, c.get_blob_url(kDid, "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"));
    FAIL() << "expected DidResolutionError";
  } catch (const DidResolutionError& e) {
    EXPECT_EQ(e.cause(), Cause::unreachable);
    EXPECT_EQ(e.did(), kDid);
    EXPECT_EQ(e.resolver_url(), plc);
    expect_plc_hint(e, plc);
    EXPECT_NE(std::string(e.what()).find("default https://plc.directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace atdata::atproto
