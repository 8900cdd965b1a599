#pragma once
// AtmosphereClient: an ATProto account session on its PDS — login, portable
// session strings, token refresh, records, blobs and identity resolution —
// the C++ counterpart of atdata's Python AtmosphereClient, as coroutines on
// one io_context.
//
// Sessions: login() uses com.atproto.server.createSession and takes did and
// handle from its answer; when the answer carries a DID document, calls move
// to the PDS it names. Access tokens are refreshed (refreshSession) before
// they expire (refresh_margin) and when the server answers ExpiredToken; any
// number of concurrent calls share one refresh, and on_session_change
// callbacks see every rotation so the session can be persisted.
//
// Reads of another account (get_record / list_records with a repo, blobs)
// go to that account's own PDS, found through IdentityResolver.
//
// Thread safety: all members may be called concurrently from coroutines on
// any threads of the executor. The client must outlive its operations.
// Secrets (password, tokens) never appear in exceptions or logs.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/atproto/apply_writes.hpp"
#include "atdata/atproto/identity.hpp"
#include "atdata/atproto/rate_limit.hpp"
#include "atdata/atproto/records.hpp"
#include "atdata/atproto/session.hpp"
#include "atdata/atproto/xrpc_client.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/http_client.hpp"
#include "atdata/net/http_options.hpp"

namespace atdata::atproto {

struct AtmosphereClientOptions {
  AtmosphereClientOptions() = default;  // not an aggregate: see XrpcCall
  // Where login() goes first. Empty = https://bsky.social; "/xrpc" suffix allowed.
  std::string base_url{kDefaultService};
  // Refresh the access token when it expires within this margin. (The Python
  // SDK uses 15 min of a 2 h token; 5 min refreshes less often and is still
  // far above any clock skew or request latency.)
  std::chrono::seconds refresh_margin{300};
  // Follow the PDS named in the DID document of createSession/refreshSession.
  bool follow_did_doc_pds = true;
  XrpcOptions xrpc;
  net::HttpClientOptions http;
  // plc_url, cache TTL, …; handle_resolver_url defaults to the current PDS.
  IdentityOptions identity;
  // Upper bound of get_blob() (whole blob in memory); open_blob() streams.
  std::uint64_t max_blob_bytes = 1024ull * 1024 * 1024;
};

class AtmosphereClient;

// Async generator over every listRecords page: each next() fetches one page.
class RecordPager {
 public:
  // The next page; nullopt once the listing is exhausted.
  boost::asio::awaitable<std::optional<RecordPage>> next();
  bool done() const noexcept { return done_; }

 private:
  friend class AtmosphereClient;
  RecordPager(AtmosphereClient* c, std::string collection, ListRecordsOptions o)
      : client_(c), collection_(std::move(collection)), opt_(std::move(o)) {}
  AtmosphereClient* client_;
  std::string collection_;
  ListRecordsOptions opt_;
  bool done_ = false;
};

// A blob download read chunk by chunk. The raw-codec sha256 CID of the bytes
// is recomputed as they arrive; the final next() (the one returning an empty
// chunk) throws atdata::Error if it does not equal the requested CID, so a
// consumer that reads to the end never accepts corrupted data.
class BlobStream {
 public:
  BlobStream();  // an empty, finished stream
  BlobStream(BlobStream&&) noexcept;
  BlobStream& operator=(BlobStream&&) noexcept;
  ~BlobStream();

  boost::asio::awaitable<SharedBytes> next();
  std::optional<std::uint64_t> content_length() const noexcept;
  std::uint64_t bytes_read() const noexcept;
  const std::string& url() const noexcept;

 private:
  friend class AtmosphereClient;
  struct Impl;
  explicit BlobStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class AtmosphereClient {
 public:
  explicit AtmosphereClient(boost::asio::any_io_executor ex, AtmosphereClientOptions options = {});
  AtmosphereClient(boost::asio::any_io_executor ex, std::string base_url);
  // Shares an existing HttpClient (connection pools) with other components.
  AtmosphereClient(std::shared_ptr<net::HttpClient> http, AtmosphereClientOptions options = {});
  ~AtmosphereClient();
  AtmosphereClient(const AtmosphereClient&) = delete;
  AtmosphereClient& operator=(const AtmosphereClient&) = delete;

  // Options from the environment: ATDATA_PDS_URL (base_url), ATDATA_PLC_URL.
  static AtmosphereClientOptions options_from_env(AtmosphereClientOptions base = {});
  // A logged-in client from ATDATA_HANDLE + ATDATA_PASSWORD (or ATDATA_SESSION,
  // a session string) and the options above. Throws AuthError naming the
  // missing variables.
  // True when the environment holds what from_env logs in with.
  static bool env_has_credentials();
  static boost::asio::awaitable<std::unique_ptr<AtmosphereClient>> from_env(
      boost::asio::any_io_executor ex, AtmosphereClientOptions base = {});

  // ---- session ----------------------------------------------------------
  // createSession with a handle, DID or e-mail and an (app) password. Errors:
  // XrpcError as the server says (AuthenticationRequired, AuthFactorTokenRequired, …).
  boost::asio::awaitable<void> login(std::string identifier, std::string password,
                                     std::string auth_factor_token = {});
  // Imports a Python-SDK session string (see session.hpp), refreshes it if
  // due, and checks it with com.atproto.server.getSession (which also sets
  // the current handle). On failure the client stays unauthenticated.
  boost::asio::awaitable<void> login_with_session(std::string session_string);
  // Installs a session persisted earlier (e.g. from on_session_change) without
  // a server call; calls go to its pds_endpoint, and the first one refreshes
  // the tokens if due. Throws AuthError if a field is empty or did is no DID.
  void restore_session(Session session);
  // The session string; AuthError("Not authenticated") when logged out.
  std::string export_session() const;
  // Refreshes now (single-flight with any refresh already running).
  boost::asio::awaitable<void> refresh_session();
  // Forgets the session locally (no server call).
  void logout();

  bool is_authenticated() const;
  std::string did() const;     // AuthError("Not authenticated") when logged out
  std::string handle() const;  // AuthError("Not authenticated") when logged out
  std::optional<Session> session() const;
  // The PDS calls go to now (base_url before login).
  std::string service_url() const;
  // Called after every login, import and token rotation (on the thread that
  // did it, outside any lock). Replaces the previous callback.
  void on_session_change(std::function<void(const Session&)> callback);
  std::uint64_t refresh_count() const;  // refreshSession calls made

  // ---- generic authenticated XRPC on the account's PDS -------------------
  boost::asio::awaitable<boost::json::value> query(std::string_view nsid, QueryParams params = {});
  boost::asio::awaitable<boost::json::value> procedure(std::string_view nsid, boost::json::value input);

  // ---- records (own repo for writes) --------------------------------------
  boost::asio::awaitable<RecordRef> create_record(std::string collection, boost::json::object record,
                                                  CreateRecordOptions options = {});
  boost::asio::awaitable<RecordRef> put_record(std::string collection, std::string rkey,
                                               boost::json::object record, PutRecordOptions options = {});
  // Reads from the PDS hosting `repo` (DID or handle). RecordNotFound → XrpcError.
  boost::asio::awaitable<Record> get_record(std::string repo, std::string collection, std::string rkey);
  // Deleting a missing record succeeds (the PDS answers 200).
  boost::asio::awaitable<void> delete_record(std::string collection, std::string rkey,
                                             std::string swap_record = {}, std::string swap_commit = {});
  // One page (default: own repo, newest first).
  boost::asio::awaitable<RecordPage> list_records(std::string collection, ListRecordsOptions options = {});
  // Every page, one request per next().
  RecordPager list_all_records(std::string collection, ListRecordsOptions options = {});
  // Writes in order, split into calls of ≤ limits.max_ops ops and
  // ≤ limits.max_body_bytes of JSON. Each call is atomic, the whole is not.
  boost::asio::awaitable<std::vector<WriteResult>> apply_writes(std::span<const WriteOp> ops,
                                                                bool validate = false,
                                                                ApplyWritesLimits limits = {});

  // ---- blobs ---------------------------------------------------------------
  // Uploads and checks that the CID the PDS computed equals the local one.
  // The PDS keeps a blob only if a record references it soon afterwards.
  boost::asio::awaitable<BlobRef> upload_blob(SharedBytes data,
                                              std::string mime_type = "application/octet-stream");
  // Streams the file (never held whole in memory).
  boost::asio::awaitable<BlobRef> upload_blob_file(std::string path,
                                                   std::string mime_type = "application/octet-stream");
  // com.atproto.sync.getBlob on the PDS of `did`, streamed and CID-verified.
  boost::asio::awaitable<BlobStream> open_blob(std::string did, std::string cid);
  // The whole blob (≤ options.max_blob_bytes), CID-verified.
  boost::asio::awaitable<SharedBytes> get_blob(std::string did, std::string cid);
  // "<pds>/xrpc/com.atproto.sync.getBlob?did=<did>&cid=<cid>", concatenated as
  // Python atdata does (no percent-encoding).
  boost::asio::awaitable<std::string> get_blob_url(std::string did, std::string cid);

  // ---- identity --------------------------------------------------------------
  IdentityResolver& identity() noexcept;
  boost::asio::awaitable<std::string> resolve_handle(std::string handle);
  boost::asio::awaitable<DidDocument> resolve_did(std::string did);
  boost::asio::awaitable<std::string> resolve_pds(std::string did_or_handle);

  // ---- plumbing ----------------------------------------------------------------
  // The latest RateLimit-* headers seen (from the PDS, or from the login
  // service until the PDS has answered).
  RateLimitInfo rate_limit() const;
  const std::shared_ptr<net::HttpClient>& http() const noexcept;
  const AtmosphereClientOptions& options() const noexcept;

 private:
  friend class RecordPager;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata::atproto
