#include "atdata/atproto/atmosphere_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdlib>
#include <mutex>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/did_doc.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/error.hpp"
#include "detail/async_event.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace atdata::atproto {

namespace {

constexpr std::string_view kNeedAuth = "Client must be authenticated to perform this operation";

const json::object& as_object(std::string_view nsid, const json::value& v) {
  const auto* o = v.if_object();
  if (!o) throw DecodeError(std::string(nsid) + ": response is not a JSON object");
  return *o;
}

std::string member_string(std::string_view nsid, const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) {
    throw DecodeError(std::string(nsid) + ": response member '" + std::string(key) +
                      "' missing or not a string");
  }
  return std::string(v->as_string());
}

std::string optional_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

void check_collection(std::string_view c) {
  if (!is_valid_nsid(c))
    throw InvalidArgument("not a valid collection NSID: '" + std::string(c.substr(0, 100)) + "'");
}
void check_rkey(std::string_view k) {
  if (!is_valid_rkey(k))
    throw InvalidArgument("not a valid record key: '" + std::string(k.substr(0, 100)) + "'");
}

Record parse_record(std::string_view nsid, const json::value& v) {
  const auto& o = as_object(nsid, v);
  Record r;
  r.uri = member_string(nsid, o, "uri");
  r.cid = optional_string(o, "cid");
  const auto* value = o.if_contains("value");
  if (!value) throw DecodeError(std::string(nsid) + ": record without 'value'");
  r.value = *value;
  return r;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Chunks of a streamed upload pass through here to be hashed on the way out.
struct UploadHash {
  std::mutex mu;
  std::optional<Sha256> h;
  std::uint64_t bytes = 0;
};

asio::awaitable<SharedBytes> hashed_read(std::shared_ptr<net::BodyChunkReader> reader,
                                         std::shared_ptr<UploadHash> hash) {
  auto chunk = co_await (*reader)();
  std::lock_guard lock(hash->mu);
  if (hash->h) hash->h->update(chunk.span());
  hash->bytes += chunk.size();
  co_return chunk;
}

}  // namespace

// ---------------------------------------------------------------------------
struct AtmosphereClient::Impl {
  AtmosphereClientOptions opt;
  std::shared_ptr<net::HttpClient> http;
  std::unique_ptr<IdentityResolver> identity;
  bool resolver_follows_pds = true;

  mutable std::mutex mu;
  std::optional<Session> session;
  bool export_with_xrpc = false;  // SDK quirk: "<base>/xrpc" when no didDoc named the PDS
  std::string service;
  std::shared_ptr<XrpcClient> pds;
  std::shared_ptr<detail::Flight<bool>> refresh_flight;
  std::function<void(const Session&)> on_change;
  std::uint64_t refreshes = 0;

  void init(std::shared_ptr<net::HttpClient> h, AtmosphereClientOptions o) {
    opt = std::move(o);
    http = std::move(h);
    resolver_follows_pds = opt.identity.handle_resolver_url.empty();
    identity = std::make_unique<IdentityResolver>(http, opt.identity);
    std::lock_guard lock(mu);
    set_service_locked(normalize_service_url(opt.base_url));
  }

  void set_service_locked(std::string url) {
    if (pds && url == service) return;
    service = std::move(url);
    auto previous = std::move(pds);
    pds = std::make_shared<XrpcClient>(http, service, opt.xrpc);
    // rate_limit() reports the latest headers seen, also across the move
    // from the login service to the account's PDS.
    if (previous) pds->seed_rate_limit(previous->rate_limit());
    if (resolver_follows_pds) identity->set_handle_resolver_url(service);
  }

  struct Snapshot {
    std::shared_ptr<XrpcClient> x;
    std::string token;
  };
  Snapshot snapshot(bool require_auth) const {
    std::lock_guard lock(mu);
    if (require_auth && !session) throw AuthError(std::string(kNeedAuth));
    return {pds, session ? session->access_jwt : std::string()};
  }

  std::string own_did() const {
    std::lock_guard lock(mu);
    if (!session) throw AuthError(std::string(kNeedAuth));
    return session->did;
  }

  bool is_own_repo(std::string_view repo) const {
    std::lock_guard lock(mu);
    return session && (repo == session->did || repo == session->handle);
  }

  void notify() {
    Session copy;
    std::function<void(const Session&)> fn;
    {
      std::lock_guard lock(mu);
      if (!session || !on_change) return;
      copy = *session;
      fn = on_change;
    }
    fn(copy);
  }

  // createSession / refreshSession answer → session (+ PDS switch). Caller holds mu.
  void adopt_locked(std::string_view nsid, const json::value& v, bool is_login) {
    const auto& o = as_object(nsid, v);
    Session s;
    s.access_jwt = member_string(nsid, o, "accessJwt");
    s.refresh_jwt = member_string(nsid, o, "refreshJwt");
    s.did = member_string(nsid, o, "did");
    s.handle = member_string(nsid, o, "handle");
    if (!is_valid_did(s.did)) throw DecodeError(std::string(nsid) + ": response 'did' is not a DID");
    if (!is_login && session && session->did != s.did) {
      throw AuthError(std::string(nsid) + ": the refreshed session belongs to another account");
    }
    std::optional<std::string> doc_pds;
    if (const auto* doc = o.if_contains("didDoc"); doc && opt.follow_did_doc_pds) {
      try {
        auto d = parse_did_document(*doc);
        if (d.id == s.did) doc_pds = d.pds_endpoint;
      } catch (const RecordError&) {
        // An unusable didDoc keeps the current PDS, as the Python SDK does.
      }
    }
    if (doc_pds) {
      set_service_locked(*doc_pds);
      export_with_xrpc = false;
    } else if (is_login) {
      export_with_xrpc = true;
    }
    s.pds_endpoint = service;
    session = std::move(s);
  }

  // Refreshes unless the access token already changed from `stale` (another
  // caller refreshed meanwhile). Concurrent callers share one request.
  asio::awaitable<void> refresh_from(std::string stale) {
    auto ex = co_await asio::this_coro::executor;
    std::shared_ptr<detail::Flight<bool>> flight;
    bool leader = false;
    {
      std::lock_guard lock(mu);
      if (!session) throw AuthError("Not authenticated");
      if (!stale.empty() && session->access_jwt != stale) co_return;
      if (refresh_flight) {
        flight = refresh_flight;
      } else {
        flight = std::make_shared<detail::Flight<bool>>(ex);
        refresh_flight = flight;
        leader = true;
      }
    }
    if (!leader) {
      co_await flight->done.async_wait(asio::use_awaitable);
      if (flight->error) std::rethrow_exception(flight->error);
      co_return;
    }
    try {
      std::shared_ptr<XrpcClient> x;
      XrpcCall call;
      {
        std::lock_guard lock(mu);
        if (!session) throw AuthError("Not authenticated");
        x = pds;
        call.bearer = session->refresh_jwt;
      }
      auto v = co_await x->procedure_empty("com.atproto.server.refreshSession", std::move(call));
      std::lock_guard lock(mu);
      ++refreshes;
      if (session) adopt_locked("com.atproto.server.refreshSession", v, false);
    } catch (...) {
      flight->error = std::current_exception();
    }
    {
      std::lock_guard lock(mu);
      refresh_flight.reset();
    }
    flight->done.set();
    if (flight->error) std::rethrow_exception(flight->error);
    notify();
  }

  // Proactive refresh: the access token expires within refresh_margin.
  asio::awaitable<void> ensure_fresh() {
    std::string token;
    {
      std::lock_guard lock(mu);
      if (!session) co_return;
      token = session->access_jwt;
    }
    auto exp = jwt_expiry(token);
    if (!exp) co_return;  // unknown lifetime: rely on the ExpiredToken answer
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (now + opt.refresh_margin.count() < *exp) co_return;
    co_await refresh_from(std::move(token));
  }

  // Runs `call` on the account's PDS with the access token; refreshes first
  // when due, and once more (then retries) if the server says ExpiredToken.
  template <class Call>
  asio::awaitable<json::value> authed(Call call, bool require_auth = true) {
    co_await ensure_fresh();
    auto s = snapshot(require_auth);
    std::optional<json::value> result;
    try {
      XrpcCall c;
      c.bearer = s.token;
      result = co_await call(*s.x, std::move(c));
    } catch (const XrpcError& e) {
      if (s.token.empty() || e.error() != "ExpiredToken") throw;
    }
    if (result) co_return std::move(*result);
    co_await refresh_from(s.token);
    auto s2 = snapshot(require_auth);
    XrpcCall c;
    c.bearer = s2.token;
    co_return co_await call(*s2.x, std::move(c));
  }

  // createRecord/putRecord: sends `body` with auth and reads the {uri, cid} reply.
  asio::awaitable<RecordRef> write_record(std::string_view nsid, json::object body) {
    std::string text = json::serialize(body);
    auto call = [&](XrpcClient& x, XrpcCall c) {
      return x.procedure_json(nsid, text, std::move(c));
    };  // named: see XrpcCall
    auto v = co_await authed(call);
    const auto& o = as_object(nsid, v);
    co_return RecordRef{member_string(nsid, o, "uri"), optional_string(o, "cid")};
  }

  // A read on the PDS hosting `repo`: own PDS (with auth) or the resolved one.
  template <class Call>
  asio::awaitable<json::value> read_repo(const std::string& repo, Call call) {
    if (is_own_repo(repo)) co_return co_await authed(std::move(call), false);
    auto endpoint = co_await identity->resolve_pds(repo);
    XrpcClient x(http, endpoint, opt.xrpc);
    co_return co_await call(x, XrpcCall{});
  }
};

// ---------------------------------------------------------------------------
AtmosphereClient::AtmosphereClient(asio::any_io_executor ex, AtmosphereClientOptions options)
    : impl_(std::make_shared<Impl>()) {
  auto http = std::make_shared<net::HttpClient>(std::move(ex), options.http);
  impl_->init(std::move(http), std::move(options));
}

namespace {
AtmosphereClientOptions with_base_url(std::string url) {
  AtmosphereClientOptions o;
  o.base_url = std::move(url);
  return o;
}
}  // namespace

AtmosphereClient::AtmosphereClient(asio::any_io_executor ex, std::string base_url)
    : AtmosphereClient(std::move(ex), with_base_url(std::move(base_url))) {}

AtmosphereClient::AtmosphereClient(std::shared_ptr<net::HttpClient> http, AtmosphereClientOptions options)
    : impl_(std::make_shared<Impl>()) {
  if (!http) throw InvalidArgument("AtmosphereClient: no HttpClient");
  impl_->init(std::move(http), std::move(options));
}

AtmosphereClient::~AtmosphereClient() = default;

AtmosphereClientOptions AtmosphereClient::options_from_env(AtmosphereClientOptions base) {
  if (const char* u = std::getenv("ATDATA_PDS_URL"); u && *u) base.base_url = u;
  if (const char* p = std::getenv("ATDATA_PLC_URL"); p && *p) base.identity.plc_url = p;
  return base;
}

namespace {
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}
}  // namespace

bool AtmosphereClient::env_has_credentials() {
  return (env_set("ATDATA_HANDLE") && env_set("ATDATA_PASSWORD")) || env_set("ATDATA_SESSION");
}

asio::awaitable<std::unique_ptr<AtmosphereClient>> AtmosphereClient::from_env(asio::any_io_executor ex,
                                                                              AtmosphereClientOptions base) {
  auto client = std::make_unique<AtmosphereClient>(std::move(ex), options_from_env(std::move(base)));
  if (env_set("ATDATA_HANDLE") && env_set("ATDATA_PASSWORD")) {
    co_await client->login(std::getenv("ATDATA_HANDLE"), std::getenv("ATDATA_PASSWORD"));
  } else if (env_set("ATDATA_SESSION")) {
    co_await client->login_with_session(std::getenv("ATDATA_SESSION"));
  } else {
    throw AuthError("AtmosphereClient::from_env: set ATDATA_HANDLE and ATDATA_PASSWORD (or ATDATA_SESSION)");
  }
  co_return client;
}

// ---- session ----------------------------------------------------------------
asio::awaitable<void> AtmosphereClient::login(std::string identifier, std::string password,
                                              std::string auth_factor_token) {
  static constexpr std::string_view kNsid = "com.atproto.server.createSession";
  if (identifier.empty()) throw InvalidArgument("login: empty identifier");
  json::object body{{"identifier", identifier}, {"password", password}};
  if (!auth_factor_token.empty()) body["authFactorToken"] = auth_factor_token;
  std::shared_ptr<XrpcClient> x;
  {
    std::lock_guard lock(impl_->mu);
    x = impl_->pds;
  }
  auto v = co_await x->procedure_json(kNsid, json::serialize(body));
  {
    std::lock_guard lock(impl_->mu);
    impl_->session.reset();
    impl_->adopt_locked(kNsid, v, true);
  }
  impl_->notify();
}

asio::awaitable<void> AtmosphereClient::login_with_session(std::string session_string) {
  auto s = parse_session_string(session_string);
  std::string_view raw = session_string;
  while (!raw.empty() && raw.back() == '/') raw.remove_suffix(1);
  {
    std::lock_guard lock(impl_->mu);
    impl_->set_service_locked(s.pds_endpoint);
    impl_->export_with_xrpc = ends_with(raw, "/xrpc");
    impl_->session = std::move(s);
  }
  std::exception_ptr failed;
  try {
    static constexpr std::string_view kNsid = "com.atproto.server.getSession";
    auto call = [](XrpcClient& x, XrpcCall c) {
      return x.query(kNsid, {}, std::move(c));
    };  // named: see XrpcCall
    auto v = co_await impl_->authed(call);
    const auto& o = as_object(kNsid, v);
    auto did = member_string(kNsid, o, "did");
    auto handle = member_string(kNsid, o, "handle");
    std::lock_guard lock(impl_->mu);
    if (!impl_->session || impl_->session->did != did) {
      throw AuthError("login_with_session: the session belongs to another account than its DID field says");
    }
    impl_->session->handle = handle;
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    std::lock_guard lock(impl_->mu);
    impl_->session.reset();
    std::rethrow_exception(failed);
  }
  impl_->notify();
}

void AtmosphereClient::restore_session(Session session) {
  if (session.handle.empty() || session.access_jwt.empty() || session.refresh_jwt.empty() ||
      session.pds_endpoint.empty() || !is_valid_did(session.did)) {
    throw AuthError("restore_session: incomplete session (empty field or invalid DID)");
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->set_service_locked(normalize_service_url(session.pds_endpoint));
    session.pds_endpoint = impl_->service;
    impl_->export_with_xrpc = false;
    impl_->session = std::move(session);
  }
}

std::string AtmosphereClient::export_session() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->session) throw AuthError("Not authenticated");
  Session s = *impl_->session;
  s.pds_endpoint = impl_->service;
  return format_session_string(s, impl_->export_with_xrpc);
}

asio::awaitable<void> AtmosphereClient::refresh_session() {
  co_await impl_->refresh_from({});
}

void AtmosphereClient::logout() {
  std::lock_guard lock(impl_->mu);
  impl_->session.reset();
}

bool AtmosphereClient::is_authenticated() const {
  std::lock_guard lock(impl_->mu);
  return impl_->session.has_value();
}
std::string AtmosphereClient::did() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->session) throw AuthError("Not authenticated");
  return impl_->session->did;
}
std::string AtmosphereClient::handle() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->session) throw AuthError("Not authenticated");
  return impl_->session->handle;
}
std::optional<Session> AtmosphereClient::session() const {
  std::lock_guard lock(impl_->mu);
  return impl_->session;
}
std::string AtmosphereClient::service_url() const {
  std::lock_guard lock(impl_->mu);
  return impl_->service;
}
void AtmosphereClient::on_session_change(std::function<void(const Session&)> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->on_change = std::move(callback);
}
std::uint64_t AtmosphereClient::refresh_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->refreshes;
}

// ---- generic ------------------------------------------------------------------
asio::awaitable<json::value> AtmosphereClient::query(std::string_view nsid, QueryParams params) {
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.query(nsid, params, std::move(c));
  };  // named: see XrpcCall
  co_return co_await impl_->authed(call, false);
}

asio::awaitable<json::value> AtmosphereClient::procedure(std::string_view nsid, json::value input) {
  std::string body = json::serialize(input);
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.procedure_json(nsid, body, std::move(c));
  };  // named: see XrpcCall
  co_return co_await impl_->authed(call, false);
}

// ---- records ----------------------------------------------------------------------
asio::awaitable<RecordRef> AtmosphereClient::create_record(std::string collection, json::object record,
                                                           CreateRecordOptions options) {
  static constexpr std::string_view kNsid = "com.atproto.repo.createRecord";
  check_collection(collection);
  if (!options.rkey.empty()) check_rkey(options.rkey);
  json::object body{{"repo", impl_->own_did()}, {"collection", collection}};
  if (!options.rkey.empty()) body["rkey"] = options.rkey;
  body["validate"] = options.validate;
  body["record"] = std::move(record);
  if (!options.swap_commit.empty()) body["swapCommit"] = options.swap_commit;
  co_return co_await impl_->write_record(kNsid, std::move(body));
}

asio::awaitable<RecordRef> AtmosphereClient::put_record(std::string collection, std::string rkey,
                                                        json::object record, PutRecordOptions options) {
  static constexpr std::string_view kNsid = "com.atproto.repo.putRecord";
  check_collection(collection);
  check_rkey(rkey);
  json::object body{{"repo", impl_->own_did()}, {"collection", collection}, {"rkey", rkey}};
  body["validate"] = options.validate;
  body["record"] = std::move(record);
  if (!options.swap_record.empty()) body["swapRecord"] = options.swap_record;
  if (!options.swap_commit.empty()) body["swapCommit"] = options.swap_commit;
  co_return co_await impl_->write_record(kNsid, std::move(body));
}

asio::awaitable<Record> AtmosphereClient::get_record(std::string repo, std::string collection,
                                                     std::string rkey) {
  static constexpr std::string_view kNsid = "com.atproto.repo.getRecord";
  if (!is_valid_did(repo) && !is_valid_handle(repo)) {
    throw InvalidArgument("get_record: repo is neither a DID nor a handle: '" + repo.substr(0, 100) + "'");
  }
  check_collection(collection);
  check_rkey(rkey);
  QueryParams params{{"repo", repo}, {"collection", collection}, {"rkey", rkey}};
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.query(kNsid, params, std::move(c));
  };  // named: see XrpcCall
  auto v = co_await impl_->read_repo(repo, call);
  co_return parse_record(kNsid, v);
}

asio::awaitable<void> AtmosphereClient::delete_record(std::string collection, std::string rkey,
                                                      std::string swap_record, std::string swap_commit) {
  static constexpr std::string_view kNsid = "com.atproto.repo.deleteRecord";
  check_collection(collection);
  check_rkey(rkey);
  json::object body{{"repo", impl_->own_did()}, {"collection", collection}, {"rkey", rkey}};
  if (!swap_record.empty()) body["swapRecord"] = swap_record;
  if (!swap_commit.empty()) body["swapCommit"] = swap_commit;
  std::string text = json::serialize(body);
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.procedure_json(kNsid, text, std::move(c));
  };  // named: see XrpcCall
  co_await impl_->authed(call);
}

asio::awaitable<RecordPage> AtmosphereClient::list_records(std::string collection,
                                                           ListRecordsOptions options) {
  static constexpr std::string_view kNsid = "com.atproto.repo.listRecords";
  check_collection(collection);
  if (options.limit < 1 || options.limit > 100) {
    throw InvalidArgument("list_records: limit must be 1..100, got " + std::to_string(options.limit));
  }
  std::string repo = options.repo.empty() ? impl_->own_did() : options.repo;
  if (!is_valid_did(repo) && !is_valid_handle(repo)) {
    throw InvalidArgument("list_records: repo is neither a DID nor a handle: '" + repo.substr(0, 100) + "'");
  }
  QueryParams params{{"repo", repo}, {"collection", collection}, {"limit", std::to_string(options.limit)}};
  if (!options.cursor.empty()) params.emplace_back("cursor", options.cursor);
  if (options.reverse) params.emplace_back("reverse", "true");
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.query(kNsid, params, std::move(c));
  };  // named: see XrpcCall
  auto v = co_await impl_->read_repo(repo, call);
  const auto& o = as_object(kNsid, v);
  RecordPage page;
  const auto* recs = o.if_contains("records");
  if (!recs || !recs->is_array())
    throw DecodeError(std::string(kNsid) + ": response without a 'records' array");
  page.records.reserve(recs->as_array().size());
  for (const auto& r : recs->as_array()) page.records.push_back(parse_record(kNsid, r));
  if (const auto* c = o.if_contains("cursor"); c && c->is_string() && !c->as_string().empty()) {
    page.cursor = std::string(c->as_string());
  }
  co_return page;
}

RecordPager AtmosphereClient::list_all_records(std::string collection, ListRecordsOptions options) {
  check_collection(collection);
  return RecordPager(this, std::move(collection), std::move(options));
}

asio::awaitable<std::optional<RecordPage>> RecordPager::next() {
  if (done_) co_return std::nullopt;
  auto page = co_await client_->list_records(collection_, opt_);
  if (page.records.empty()) {
    done_ = true;
    co_return std::nullopt;
  }
  // No cursor, or the same cursor again (a server bug would loop forever).
  if (!page.cursor || *page.cursor == opt_.cursor) {
    done_ = true;
  } else {
    opt_.cursor = *page.cursor;
  }
  co_return page;
}

asio::awaitable<std::vector<WriteResult>> AtmosphereClient::apply_writes(std::span<const WriteOp> ops,
                                                                         bool validate,
                                                                         ApplyWritesLimits limits) {
  static constexpr std::string_view kNsid = "com.atproto.repo.applyWrites";
  for (const auto& op : ops) {
    check_collection(op.collection);
    if (!op.rkey.empty() || op.action != WriteOp::Action::create) check_rkey(op.rkey);
  }
  auto bodies = build_apply_writes_bodies(impl_->own_did(), ops, validate, limits);
  std::vector<WriteResult> out;
  out.reserve(ops.size());
  for (const auto& body : bodies) {
    auto call = [&](XrpcClient& x, XrpcCall c) {
      return x.procedure_json(kNsid, body, std::move(c));
    };  // named: see XrpcCall
    auto v = co_await impl_->authed(call);
    const auto* o = v.if_object();
    const auto* results = o ? o->if_contains("results") : nullptr;
    if (!results || !results->is_array()) continue;  // older PDSs answer without results
    for (const auto& r : results->as_array()) {
      const auto* ro = r.if_object();
      out.push_back(ro ? WriteResult{optional_string(*ro, "uri"), optional_string(*ro, "cid")}
                       : WriteResult{});
    }
  }
  co_return out;
}

// ---- blobs ------------------------------------------------------------------------------
asio::awaitable<BlobRef> AtmosphereClient::upload_blob(SharedBytes data, std::string mime_type) {
  static constexpr std::string_view kNsid = "com.atproto.repo.uploadBlob";
  impl_->own_did();  // auth check before hashing
  const std::string expected = raw_cid(data.span());
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.procedure_bytes(kNsid, net::RequestBody(data), mime_type, std::move(c));
  };  // named: see XrpcCall
  auto v = co_await impl_->authed(call);
  auto ref = BlobRef::from_json(v);
  if (ref.cid != expected || ref.size != data.size()) {
    throw Error("uploadBlob: the PDS stored " + std::to_string(ref.size) + " bytes with CID " + ref.cid +
                ", sent " + std::to_string(data.size()) + " bytes with CID " + expected);
  }
  co_return ref;
}

asio::awaitable<BlobRef> AtmosphereClient::upload_blob_file(std::string path, std::string mime_type) {
  static constexpr std::string_view kNsid = "com.atproto.repo.uploadBlob";
  impl_->own_did();
  auto file = net::RequestBody::from_file(path);
  const auto* stream = std::get_if<net::RequestBody::Stream>(&file.variant());
  if (!stream) throw Error("upload_blob_file: " + path + " did not open as a stream");
  auto hash = std::make_shared<UploadHash>();
  // Each attempt reopens the file and restarts the hash.
  auto body =
      net::RequestBody::from_stream(stream->length, [open = stream->open, hash]() -> net::BodyChunkReader {
        {
          std::lock_guard lock(hash->mu);
          hash->h.emplace();
          hash->bytes = 0;
        }
        auto reader = std::make_shared<net::BodyChunkReader>(open());
        return [reader, hash]() { return hashed_read(reader, hash); };
      });
  auto call = [&](XrpcClient& x, XrpcCall c) {
    return x.procedure_bytes(kNsid, body, mime_type, std::move(c));
  };  // named: see XrpcCall
  auto v = co_await impl_->authed(call);
  auto ref = BlobRef::from_json(v);
  std::string local;
  std::uint64_t sent = 0;
  {
    std::lock_guard lock(hash->mu);
    if (hash->h) local = cid_v1_sha256(kCodecRaw, hash->h->finish());
    hash->h.reset();
    sent = hash->bytes;
  }
  if (ref.cid != local || ref.size != sent) {
    throw Error("uploadBlob " + path + ": the PDS stored " + std::to_string(ref.size) + " bytes with CID " +
                ref.cid + ", sent " + std::to_string(sent) + " bytes with CID " + local);
  }
  co_return ref;
}

struct BlobStream::Impl {
  explicit Impl(BlobCidCheck c) : check(std::move(c)) {}
  net::HttpResponseStream resp;
  BlobCidCheck check;
  bool finished = false;
};

BlobStream::BlobStream() = default;
BlobStream::BlobStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobStream::BlobStream(BlobStream&&) noexcept = default;
BlobStream& BlobStream::operator=(BlobStream&&) noexcept = default;
BlobStream::~BlobStream() = default;

std::optional<std::uint64_t> BlobStream::content_length() const noexcept {
  return impl_ ? impl_->resp.content_length() : std::optional<std::uint64_t>(0);
}
std::uint64_t BlobStream::bytes_read() const noexcept {
  return impl_ ? impl_->resp.bytes_read() : 0;
}
const std::string& BlobStream::url() const noexcept {
  static const std::string kNone;
  return impl_ ? impl_->resp.url() : kNone;
}

asio::awaitable<SharedBytes> BlobStream::next() {
  if (!impl_ || impl_->finished) co_return SharedBytes{};
  auto chunk = co_await impl_->resp.next();
  if (!chunk.empty()) {
    impl_->check.update(chunk.span());
    co_return chunk;
  }
  impl_->finished = true;
  if (auto m = impl_->check.mismatch(); !m.empty()) throw Error("getBlob " + impl_->resp.url() + ": " + m);
  co_return chunk;
}

asio::awaitable<BlobStream> AtmosphereClient::open_blob(std::string did, std::string cid) {
  if (!is_valid_did(did)) throw InvalidArgument("get_blob: not a valid DID: '" + did.substr(0, 100) + "'");
  auto check = BlobCidCheck::for_cid(cid);
  if (!check) {
    throw InvalidArgument("get_blob: not a raw sha2-256 CIDv1 (bafkrei…): '" + cid.substr(0, 100) + "'");
  }
  auto endpoint = co_await impl_->identity->resolve_pds(did);
  XrpcClient x(impl_->http, endpoint, impl_->opt.xrpc);
  auto impl = std::make_unique<BlobStream::Impl>(std::move(*check));
  // (a named QueryParams: GCC 12 miscompiles brace-init lists inside co_await)
  QueryParams params{{"did", did}, {"cid", cid}};
  impl->resp = co_await x.query_stream("com.atproto.sync.getBlob", std::move(params));
  co_return BlobStream(std::move(impl));
}

asio::awaitable<SharedBytes> AtmosphereClient::get_blob(std::string did, std::string cid) {
  auto stream = co_await open_blob(did, cid);
  const auto limit = impl_->opt.max_blob_bytes;
  if (auto n = stream.content_length(); n && *n > limit) {
    throw NetworkError("getBlob " + stream.url() + ": blob of " + std::to_string(*n) +
                       " bytes exceeds the limit of " + std::to_string(limit));
  }
  std::vector<std::byte> out;
  if (auto n = stream.content_length()) out.reserve(static_cast<std::size_t>(*n));
  for (;;) {
    auto chunk = co_await stream.next();
    if (chunk.empty()) break;
    if (out.size() + chunk.size() > limit) {
      throw NetworkError("getBlob " + stream.url() + ": blob exceeds the limit of " + std::to_string(limit) +
                         " bytes");
    }
    out.insert(out.end(), chunk.data(), chunk.data() + chunk.size());
  }
  co_return SharedBytes::adopt(std::move(out));
}

asio::awaitable<std::string> AtmosphereClient::get_blob_url(std::string did, std::string cid) {
  if (!is_valid_did(did))
    throw InvalidArgument("get_blob_url: not a valid DID: '" + did.substr(0, 100) + "'");
  if (!base32_decode(cid.size() > 1 ? std::string_view(cid).substr(1) : std::string_view("!")) ||
      cid[0] != 'b') {
    throw InvalidArgument("get_blob_url: not a base32 CID: '" + cid.substr(0, 100) + "'");
  }
  auto endpoint = co_await impl_->identity->resolve_pds(did);
  co_return endpoint + "/xrpc/com.atproto.sync.getBlob?did=" + did + "&cid=" + cid;
}

// ---- identity / plumbing ----------------------------------------------------------------------
IdentityResolver& AtmosphereClient::identity() noexcept {
  return *impl_->identity;
}
asio::awaitable<std::string> AtmosphereClient::resolve_handle(std::string handle) {
  co_return co_await impl_->identity->resolve_handle(std::move(handle));
}
asio::awaitable<DidDocument> AtmosphereClient::resolve_did(std::string did) {
  co_return co_await impl_->identity->resolve_did(std::move(did));
}
asio::awaitable<std::string> AtmosphereClient::resolve_pds(std::string did_or_handle) {
  co_return co_await impl_->identity->resolve_pds(std::move(did_or_handle));
}

RateLimitInfo AtmosphereClient::rate_limit() const {
  std::shared_ptr<XrpcClient> x;
  {
    std::lock_guard lock(impl_->mu);
    x = impl_->pds;
  }
  return x->rate_limit();
}
const std::shared_ptr<net::HttpClient>& AtmosphereClient::http() const noexcept {
  return impl_->http;
}
const AtmosphereClientOptions& AtmosphereClient::options() const noexcept {
  return impl_->opt;
}

}  // namespace atdata::atproto
