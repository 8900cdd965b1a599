#include "atdata/atproto/did_doc.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

// The Multikey form the harness PLC serves (and plc.directory today).
constexpr const char* kModern = R"({
  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
  "id": "did:plc:avpwnke6ldampc2bkivku3oi",
  "alsoKnownAs": ["at://alice.test"],
  "verificationMethod": [{"id": "did:plc:avpwnke6ldampc2bkivku3oi#atproto", "type": "Multikey",
    "controller": "did:plc:avpwnke6ldampc2bkivku3oi",
    "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}],
  "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
               "serviceEndpoint": "http://localhost:33181/"}]
})";

// The legacy form (@did-plc/server 0.0.1), with the full-DID service id.
constexpr const char* kLegacy = R"({
  "id": "did:plc:abc",
  "alsoKnownAs": ["https://not-a-handle", "at://bob.test"],
  "verificationMethod": [{"id": "#atproto", "type": "EcdsaSecp256k1VerificationKey2019",
    "controller": "did:plc:abc", "publicKeyMultibase": "zabc"}],
  "service": [{"id": "#other", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://wrong.example"},
              {"id": "did:plc:abc#atproto_pds", "type": "AtprotoPersonalDataServer",
               "serviceEndpoint": "https://pds.example.com"}]
})";

TEST(DidDoc, ModernForm) {
  auto d = parse_did_document(boost::json::parse(kModern));
  EXPECT_EQ(d.id, "did:plc:avpwnke6ldampc2bkivku3oi");
  EXPECT_EQ(d.pds_endpoint, "http://localhost:33181");
  EXPECT_EQ(d.handle(), "alice.test");
}

TEST(DidDoc, LegacyFormAndServiceSelection) {
  auto d = parse_did_document(boost::json::parse(kLegacy));
  EXPECT_EQ(d.pds_endpoint, "https://pds.example.com");
  EXPECT_EQ(d.handle(), "bob.test");
}

TEST(DidDoc, NoUsablePds) {
  auto d = parse_did_document(boost::json::parse(R"J({"id":"did:plc:x","service":[
      {"id":"#atproto_pds","type":"Other","serviceEndpoint":"https://a.example"},
      {"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"javascript:alert(1)"},
      {"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":{"x":1}},
      "junk"]})J"));
  EXPECT_FALSE(d.pds_endpoint);
  EXPECT_FALSE(d.handle());
  EXPECT_THROW(parse_did_document(boost::json::parse("[]")), RecordError);
  EXPECT_THROW(parse_did_document(boost::json::parse(R"({"id":5})")), RecordError);
}

TEST(DidWeb, DocumentUrl) {
  EXPECT_EQ(did_web_document_url("did:web:example.com"), "https://example.com/.well-known/did.json");
  EXPECT_EQ(did_web_document_url("did:web:example.com:user:alice"),
            "https://example.com/user/alice/did.json");
  EXPECT_EQ(did_web_document_url("did:web:localhost%3A2583"), "https://localhost:2583/.well-known/did.json");
  EXPECT_EQ(did_web_document_url("did:web:localhost%3A2583", true),
            "http://localhost:2583/.well-known/did.json");
  EXPECT_EQ(did_web_document_url("did:web:example.com", true), "https://example.com/.well-known/did.json");
  for (auto bad : {"did:plc:abc", "did:web:", "did:web:exa_mple.com", "did:web:example.com%2Fx",
                   "did:web:example.com%3Aabc", "did:web:example.com::x", "did:web:a.com:..:b"}) {
    EXPECT_THROW(did_web_document_url(bad), InvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace atdata::atproto
