#pragma once
// The parts of a DID document an ATProto client uses (pure, no I/O).

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::atproto {

struct DidDocument {
  std::string id;                           // the DID
  std::vector<std::string> also_known_as;   // "at://alice.test", …
  std::optional<std::string> pds_endpoint;  // normalized: no trailing "/"
  // The document as served (JSON text), when it came from a resolver: its
  // verification methods hold the signing key (PublicKey::from_did_document).
  std::string raw;

  // The handle claimed by the document ("at://<handle>" in alsoKnownAs).
  std::optional<std::string> handle() const;
};

// Reads `id`, `alsoKnownAs` and the PDS service: the entry whose `id` is
// "#atproto_pds" or "<did>#atproto_pds" and whose `type` is
// "AtprotoPersonalDataServer", as the Python SDK picks it. A serviceEndpoint that is not
// an http(s) URL is ignored. Throws RecordError when `doc` is not an object with
// a string `id`. Accepts both the legacy and the Multikey key formats (keys are
// not read here).
DidDocument parse_did_document(const boost::json::value& doc);

// did:web:<host>[%3A<port>][:path…] → the did.json URL
// (https://<host>[:port]/.well-known/did.json, or …/<path>/did.json).
// `allow_http_localhost`: use http:// for localhost / 127.0.0.1 (test rigs).
// Throws InvalidArgument for anything else.
std::string did_web_document_url(std::string_view did, bool allow_http_localhost = false);

}  // namespace atdata::atproto
