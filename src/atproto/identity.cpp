#include "atdata/atproto/identity.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "atdata/atproto/session.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/atproto/xrpc_client.hpp"
#include "atdata/error.hpp"
#include "detail/async_event.hpp"

namespace asio = boost::asio;

namespace atdata::atproto {

namespace {

using Clock = std::chrono::steady_clock;

template <class T>
struct Cached {
  T value;
  Clock::time_point expires;
};

// RFC 6761/2606 special-use names never resolve on the public DNS: looking
// them up would only leak queries (and tests use *.test handles).
bool is_special_use(std::string_view handle) {
  for (std::string_view tld : {".test", ".local", ".localhost", ".invalid", ".example", ".internal"}) {
    if (handle.size() > tld.size() && handle.substr(handle.size() - tld.size()) == tld) return true;
  }
  return false;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

struct IdentityResolver::Impl {
  std::shared_ptr<net::HttpClient> http;
  IdentityOptions opt;
  mutable std::mutex mu;
  std::map<std::string, Cached<DidDocument>, std::less<>> docs;
  std::map<std::string, Cached<std::string>, std::less<>> handles;
  std::map<std::string, std::shared_ptr<detail::Flight<DidDocument>>, std::less<>> doc_flights;
  std::map<std::string, std::shared_ptr<detail::Flight<std::string>>, std::less<>> handle_flights;
  Stats stats;

  template <class T>
  void store(std::map<std::string, Cached<T>, std::less<>>& cache, const std::string& key, const T& value) {
    auto now = Clock::now();
    if (cache.size() >= opt.max_cache_entries) {
      std::erase_if(cache, [&](const auto& kv) { return kv.second.expires <= now; });
      // Still full: drop an arbitrary entry (lookups are cheap to repeat).
      if (!cache.empty() && cache.size() >= opt.max_cache_entries) cache.erase(cache.begin());
    }
    if (opt.max_cache_entries > 0) cache[key] = Cached<T>{value, now + opt.ttl};
  }

  // Cache lookup, else join an in-flight request for `key`, else make one.
  template <class T, class Fetch>
  asio::awaitable<T> coalesced(
      std::map<std::string, Cached<T>, std::less<>>& cache,
      std::map<std::string, std::shared_ptr<detail::Flight<T>>, std::less<>>& flights, std::string key,
      Fetch fetch) {
    std::shared_ptr<detail::Flight<T>> flight;
    bool leader = false;
    {
      std::lock_guard lock(mu);
      if (auto it = cache.find(key); it != cache.end()) {
        if (it->second.expires > Clock::now()) {
          ++stats.cache_hits;
          co_return it->second.value;
        }
        cache.erase(it);
      }
      if (auto f = flights.find(key); f != flights.end()) {
        flight = f->second;
        ++stats.coalesced;
      } else {
        flight = std::make_shared<detail::Flight<T>>(co_await asio::this_coro::executor);
        flights.emplace(key, flight);
        leader = true;
        ++stats.network_lookups;
      }
    }
    if (!leader) {
      co_await flight->done.async_wait(asio::use_awaitable);
      if (flight->error) std::rethrow_exception(flight->error);
      co_return flight->value;
    }
    try {
      flight->value = co_await fetch();
    } catch (...) {
      flight->error = std::current_exception();
    }
    {
      std::lock_guard lock(mu);
      flights.erase(key);
      if (!flight->error) store(cache, key, flight->value);
    }
    flight->done.set();
    if (flight->error) std::rethrow_exception(flight->error);
    co_return flight->value;
  }

  // GET a small document; throws NetworkError / HttpError.
  asio::awaitable<std::string> fetch_text(std::string url) {
    net::HttpRequest req;
    req.url = std::move(url);
    auto resp = co_await http->open(std::move(req));
    co_await resp.throw_if_error();
    auto body = co_await resp.read_all(opt.max_document_bytes);
    co_return std::string(body.as_string_view());
  }

  std::string plc_base() const {
    // normalize_service_url maps "" to the default PDS, not to a PLC.
    return opt.plc_url.empty() ? std::string(kDefaultPlcUrl) : normalize_service_url(opt.plc_url);
  }

  // What resolving `did` asks: the PLC directory for did:plc, the document
  // URL for did:web, nothing for other methods.
  std::string resolver_for(const std::string& did) const {
    if (did.rfind("did:plc:", 0) == 0) return plc_base();
    if (did.rfind("did:web:", 0) == 0) return did_web_document_url(did, opt.did_web_allow_http_localhost);
    return {};
  }

  [[noreturn]] static void fail_did(DidResolutionError::Cause cause, const std::string& did,
                                    const std::string& resolver, const std::string& detail, int status = 0) {
    std::string msg = "Could not resolve DID " + did + ": " + detail;
    if (did.rfind("did:plc:", 0) == 0) {
      // A client left on the default directory fails this way against a
      // private PLC (test rigs, other networks): say where to change it.
      msg +=
          ". To use another PLC directory, set AtmosphereClientOptions::identity.plc_url "
          "(IdentityOptions::plc_url; default " +
          std::string(kDefaultPlcUrl) +
          ") or, with AtmosphereClient::from_env / options_from_env, the ATDATA_PLC_URL environment "
          "variable";
    }
    throw DidResolutionError(cause, did, resolver, msg, status);
  }

  asio::awaitable<DidDocument> fetch_did(std::string did) {
    using Cause = DidResolutionError::Cause;
    const bool plc = did.rfind("did:plc:", 0) == 0;
    if (!plc && did.rfind("did:web:", 0) != 0) {
      fail_did(Cause::unsupported_method, did, {}, "only did:plc and did:web are supported");
    }
    const std::string resolver = resolver_for(did);
    const std::string url = plc ? resolver + "/" + did : resolver;  // did:plc ids are base32: URL-safe
    const std::string where = plc ? "the PLC directory " + resolver : url;
    std::string text;
    std::string failure;
    int status = 0;
    try {
      text = co_await fetch_text(url);
    } catch (const HttpError& e) {
      status = e.status();
      failure = e.what();
    } catch (const NetworkError& e) {
      failure = e.what();
    } catch (const InvalidArgument& e) {  // an unusable plc_url
      failure = e.what();
    }
    if (status == 404 || status == 410) {
      fail_did(Cause::not_found, did, resolver,
               (plc ? "not found in " : "not found at ") + where + " (" + failure + ")", status);
    }
    if (status != 0) fail_did(Cause::http_error, did, resolver, where + " answered " + failure, status);
    if (!failure.empty()) {
      fail_did(Cause::unreachable, did, resolver, where + " is unreachable (" + failure + ")");
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec) fail_did(Cause::bad_document, did, resolver, "the document from " + url + " is not JSON");
    DidDocument doc;
    try {
      doc = parse_did_document(v);
    } catch (const RecordError& e) {
      fail_did(Cause::bad_document, did, resolver,
               "the document from " + url + " is not a DID document: " + e.what());
    }
    if (doc.id != did) {
      fail_did(Cause::bad_document, did, resolver,
               "the document from " + url + " is for " + doc.id.substr(0, 200));
    }
    doc.raw = std::move(text);
    co_return doc;
  }

  asio::awaitable<std::string> fetch_handle(std::string handle) {
    std::string why;
    std::string resolver;
    {
      std::lock_guard lock(mu);
      resolver = opt.handle_resolver_url;
    }
    if (!resolver.empty()) {
      std::string did;
      try {
        XrpcClient x(http, resolver);
        QueryParams params{{"handle", handle}};  // not inline: GCC 12 brace-init in co_await bug
        auto v = co_await x.query("com.atproto.identity.resolveHandle", std::move(params));
        if (const auto* o = v.if_object()) {
          if (const auto* d = o->if_contains("did"); d && d->is_string()) did = std::string(d->as_string());
        }
        if (!is_valid_did(did)) {
          why = "resolveHandle answered without a valid DID";
          did.clear();
        }
      } catch (const XrpcError& e) {
        why = std::string("resolveHandle: ") + e.what();
      } catch (const NetworkError& e) {
        why = std::string("resolveHandle: ") + e.what();
      }
      if (!did.empty()) co_return did;
    }
    if (is_special_use(handle)) {
      throw Error("Could not resolve handle " + handle + ": " + (why.empty() ? "no resolver service" : why) +
                  " (special-use domain: no .well-known lookup)");
    }
    std::string text, failure;
    try {
      text = co_await fetch_text("https://" + handle + "/.well-known/atproto-did");
    } catch (const NetworkError& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      throw Error("Could not resolve handle " + handle + ": " + (why.empty() ? "" : why + "; ") + failure);
    }
    std::string_view t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\n')) t.remove_prefix(1);
    if (!is_valid_did(t))
      throw Error("Could not resolve handle " + handle + ": .well-known/atproto-did is not a DID");
    co_return std::string(t);
  }
};

IdentityResolver::IdentityResolver(std::shared_ptr<net::HttpClient> http, IdentityOptions options)
    : impl_(std::make_shared<Impl>()) {
  if (!http) throw InvalidArgument("IdentityResolver: no HttpClient");
  impl_->http = std::move(http);
  impl_->opt = std::move(options);
}
IdentityResolver::~IdentityResolver() = default;

const IdentityOptions& IdentityResolver::options() const noexcept {
  return impl_->opt;
}

void IdentityResolver::set_handle_resolver_url(std::string url) {
  std::lock_guard lock(impl_->mu);
  impl_->opt.handle_resolver_url = std::move(url);
}

IdentityResolver::Stats IdentityResolver::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

void IdentityResolver::invalidate(std::string_view key) {
  std::lock_guard lock(impl_->mu);
  auto k = lower(std::string(key));
  if (auto it = impl_->handles.find(k); it != impl_->handles.end()) {
    impl_->docs.erase(it->second.value);
    impl_->handles.erase(it);
  }
  if (auto it = impl_->docs.find(key); it != impl_->docs.end()) impl_->docs.erase(it);
}

asio::awaitable<std::string> IdentityResolver::resolve_handle(std::string handle) {
  handle = lower(std::move(handle));
  if (handle.rfind("at://", 0) == 0) handle.erase(0, 5);
  if (!is_valid_handle(handle)) throw InvalidArgument("not a valid handle: '" + handle.substr(0, 260) + "'");
  auto impl = impl_;
  // The lambda is named: GCC 12 double-destroys class temporaries with
  // non-trivial destructors inside co_await expressions.
  auto fetch = [impl, handle]() { return impl->fetch_handle(handle); };
  co_return co_await impl->coalesced(impl->handles, impl->handle_flights, handle, std::move(fetch));
}

asio::awaitable<DidDocument> IdentityResolver::resolve_did(std::string did) {
  if (!is_valid_did(did)) throw InvalidArgument("not a valid DID: '" + did.substr(0, 200) + "'");
  auto impl = impl_;
  auto fetch = [impl, did]() { return impl->fetch_did(did); };  // named: see resolve_handle
  co_return co_await impl->coalesced(impl->docs, impl->doc_flights, did, std::move(fetch));
}

asio::awaitable<std::string> IdentityResolver::resolve_did_of(std::string did_or_handle) {
  if (did_or_handle.rfind("did:", 0) == 0) co_return did_or_handle;
  co_return co_await resolve_handle(std::move(did_or_handle));
}

asio::awaitable<std::string> IdentityResolver::resolve_pds(std::string did_or_handle) {
  auto did = co_await resolve_did_of(std::move(did_or_handle));
  auto doc = co_await resolve_did(did);
  if (!doc.pds_endpoint) {
    throw DidResolutionError(DidResolutionError::Cause::bad_document, did, impl_->resolver_for(did),
                             "Could not resolve PDS endpoint for " + did +
                                 ": its DID document names no AtprotoPersonalDataServer service");
  }
  co_return *doc.pds_endpoint;
}

}  // namespace atdata::atproto
