#pragma once
// Identity resolution: handle → DID → DID document → PDS endpoint, so a
// client reads another account's repository and blobs on *that* account's
// PDS (Python atdata 0.2 asked its own PDS, which only works when both
// accounts share one).
//
//  * handle → DID: com.atproto.identity.resolveHandle on a resolver service
//    (the caller's PDS by default), then https://<handle>/.well-known/atproto-did.
//    (The DNS TXT method needs a TXT resolver and is not implemented.)
//  * did:plc → GET <plc_url>/<did>;  did:web → https://<host>/.well-known/did.json.
// Results are cached for `ttl`; concurrent requests for the same key share
// one network request (request coalescing). Safe to use from several
// coroutines and threads.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "atdata/atproto/did_doc.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/http_client.hpp"

namespace atdata::atproto {

inline constexpr std::string_view kDefaultPlcUrl = "https://plc.directory";

struct IdentityOptions {
  IdentityOptions() = default;  // not an aggregate: see XrpcCall
  // The PLC directory did:plc documents are read from (empty = the default).
  // AtmosphereClient::options_from_env / from_env take it from ATDATA_PLC_URL.
  std::string plc_url{kDefaultPlcUrl};
  // A service answering com.atproto.identity.resolveHandle (any PDS or
  // AppView). Empty: only the .well-known method is used.
  std::string handle_resolver_url;
  std::chrono::seconds ttl{600};
  std::size_t max_cache_entries = 10'000;
  std::uint64_t max_document_bytes = 1024 * 1024;
  // did:web on localhost / 127.0.0.1 over plain http (test rigs only).
  bool did_web_allow_http_localhost = false;
};

class IdentityResolver {
 public:
  IdentityResolver(std::shared_ptr<net::HttpClient> http, IdentityOptions options = {});
  ~IdentityResolver();
  IdentityResolver(const IdentityResolver&) = delete;
  IdentityResolver& operator=(const IdentityResolver&) = delete;

  // Throws InvalidArgument for a malformed handle, atdata::Error
  // "Could not resolve handle <h>: …" when no method yields a DID.
  boost::asio::awaitable<std::string> resolve_handle(std::string handle);
  // Throws InvalidArgument for a malformed DID, DidResolutionError
  // "Could not resolve DID <did>: …" (with did(), resolver_url() and cause():
  // not_found, unreachable, http_error, bad_document, unsupported_method)
  // when no document is obtained.
  boost::asio::awaitable<DidDocument> resolve_did(std::string did);
  // DID or handle → PDS endpoint (no trailing "/"). Throws DidResolutionError
  // (bad_document) "Could not resolve PDS endpoint for <did>: …" when the
  // document names none, and what resolve_handle / resolve_did throw.
  boost::asio::awaitable<std::string> resolve_pds(std::string did_or_handle);
  // DID or handle → DID.
  boost::asio::awaitable<std::string> resolve_did_of(std::string did_or_handle);

  // Drops cached entries for this DID or handle (e.g. after a failed call on
  // the cached PDS); the next lookup goes to the network.
  void invalidate(std::string_view key);
  void set_handle_resolver_url(std::string url);
  const IdentityOptions& options() const noexcept;

  struct Stats {
    std::uint64_t network_lookups = 0;  // requests actually sent (after cache + coalescing)
    std::uint64_t cache_hits = 0;
    std::uint64_t coalesced = 0;  // callers that waited for another caller's request
  };
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata::atproto
