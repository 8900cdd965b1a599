#include "atdata/atproto/firehose.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <unordered_map>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "detail/backoff.hpp"
#include "detail/firehose_translate.hpp"

namespace atdata::atproto {

namespace asio = boost::asio;

// ---- sans-I/O translation ----------------------------------------------------

namespace detail {

bool collection_matches(const std::vector<std::string>& patterns, std::string_view collection) noexcept {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (p.size() >= 2 && p.ends_with(".*")) {
      if (collection.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
    } else if (collection == p) {
      return true;
    }
  }
  return false;
}

namespace {

// A definite-length CBOR reader over a prefix that may end anywhere: every
// step reports running out instead of reading past the end.
struct PrefixReader {
  std::span<const std::byte> b;
  std::size_t at = 0;

  bool head(unsigned& major, std::uint64_t& arg) {
    if (at >= b.size()) return false;
    const auto ib = static_cast<unsigned>(b[at++]);
    major = ib >> 5;
    const unsigned info = ib & 0x1f;
    if (info < 24) {
      arg = info;
      return true;
    }
    if (info > 27) return false;  // indefinite lengths are not DAG-CBOR
    const std::size_t n = std::size_t{1} << (info - 24);
    if (b.size() - at < n) return false;
    arg = 0;
    for (std::size_t i = 0; i < n; ++i) arg = (arg << 8) | static_cast<unsigned>(b[at++]);
    return true;
  }
  bool skip(int depth = 0) {
    unsigned major = 0;
    std::uint64_t arg = 0;
    if (depth > 64 || !head(major, arg)) return false;
    switch (major) {
      case 2:
      case 3:
        if (b.size() - at < arg) return false;
        at += static_cast<std::size_t>(arg);
        return true;
      case 4:
        for (std::uint64_t i = 0; i < arg; ++i)
          if (!skip(depth + 1)) return false;
        return true;
      case 5:
        for (std::uint64_t i = 0; i < arg; ++i)
          if (!skip(depth + 1) || !skip(depth + 1)) return false;
        return true;
      case 6:
        return skip(depth + 1);
      default:
        return true;  // integers and simple values: the head was all
    }
  }
  bool text(std::string_view& out) {
    unsigned major = 0;
    std::uint64_t arg = 0;
    if (!head(major, arg) || major != 3 || b.size() - at < arg) return false;
    out = std::string_view(reinterpret_cast<const char*>(b.data() + at), static_cast<std::size_t>(arg));
    at += static_cast<std::size_t>(arg);
    return true;
  }
};

// What one walk over a frame's bytes finds, without building its value
// tree: what peek_frame reports of a prefix, and whether a whole frame is a
// commit that can be queued for its cursor alone.
struct FrameScan {
  std::string_view type;  // header `t`
  std::optional<std::int64_t> op;
  std::optional<std::int64_t> seq;
  std::string_view did, rev, time;  // `repo` (commits) or `did` (the others)
  bool ops = false;                 // an `ops` array was read whole
  bool wanted_op = false;           // one of its paths is in the collections
  bool complete = false;            // read to the last byte, nothing left over
};

FrameScan scan_frame(std::span<const std::byte> bytes, const std::vector<std::string>& collections) {
  FrameScan s;
  PrefixReader r{bytes};
  unsigned major = 0;
  std::uint64_t n = 0, arg = 0;
  if (!r.head(major, n) || major != 5) return s;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!r.text(key)) return s;
    const std::size_t value_at = r.at;
    if (key == "t" && r.text(s.type)) continue;
    r.at = value_at;
    if (key == "op" && r.head(major, arg) && (major == 0 || major == 1) && arg < std::uint64_t(INT64_MAX)) {
      s.op = major == 0 ? static_cast<std::int64_t>(arg) : -1 - static_cast<std::int64_t>(arg);
      continue;
    }
    r.at = value_at;
    if (!r.skip()) return s;
  }
  if (!r.head(major, n) || major != 5) return s;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!r.text(key)) return s;
    const std::size_t value_at = r.at;
    if (key == "seq" && r.head(major, arg) && major == 0 && arg <= std::uint64_t(INT64_MAX)) {
      s.seq = static_cast<std::int64_t>(arg);
      continue;
    }
    r.at = value_at;
    if (((key == "repo" || key == "did") && r.text(s.did)) || (key == "rev" && r.text(s.rev)) ||
        (key == "time" && r.text(s.time))) {
      continue;
    }
    r.at = value_at;
    if (key == "ops" && r.head(major, arg) && major == 4) {
      for (std::uint64_t k = 0; k < arg; ++k) {
        std::uint64_t fields = 0;
        if (!r.head(major, fields) || major != 5) return s;
        for (std::uint64_t f = 0; f < fields; ++f) {
          std::string_view name, path;
          if (!r.text(name)) return s;
          if (name != "path") {
            if (!r.skip()) return s;
          } else if (r.text(path)) {
            s.wanted_op = s.wanted_op || collection_matches(collections, path.substr(0, path.find('/')));
          } else {
            return s;
          }
        }
      }
      s.ops = true;
      continue;
    }
    r.at = value_at;
    if (!r.skip()) return s;
  }
  s.complete = r.at == bytes.size();
  return s;
}

}  // namespace

FramePeek peek_frame(std::span<const std::byte> prefix) noexcept {
  static const std::vector<std::string> kNone;
  const FrameScan s = scan_frame(prefix, kNone);
  FramePeek p;
  p.type = std::string(s.type);
  p.seq = s.seq;
  p.did = std::string(s.did);
  return p;
}

namespace {

std::string too_big(std::size_t size, std::size_t limit) {
  return "frame of " + std::to_string(size) + " bytes exceeds max_frame_bytes (" + std::to_string(limit) +
         "; raise FirehoseConfig::max_frame_bytes to accept it)";
}

}  // namespace

FrameOutcome FirehoseTranslator::oversized(std::span<const std::byte> prefix, std::size_t size,
                                           std::optional<std::int64_t> after) const {
  const FramePeek peek = peek_frame(prefix);
  if (peek.seq && after && *peek.seq <= *after) {
    FrameOutcome o;
    o.kind = FrameOutcome::Kind::skip;
    o.seq = peek.seq;
    return o;
  }
  std::string what = too_big(size, max_frame_bytes_);
  if (!peek.type.empty()) what = peek.type + " " + what;
  return rejected(peek.seq, peek.did, "size", what + (peek.seq ? "" : "; its seq is not in the bytes read"));
}

FirehoseTranslator::FirehoseTranslator(std::string source, std::vector<std::string> collections, bool verify,
                                       VerifierOptions verifier, std::size_t max_frame_bytes)
    : source_(std::move(source)),
      collections_(std::move(collections)),
      verify_(verify),
      verifier_(verifier),
      max_frame_bytes_(max_frame_bytes) {}

RepoEvent FirehoseTranslator::base(RepoEvent::Kind kind) const {
  RepoEvent e;
  e.kind = kind;
  e.source = source_;
  return e;
}

RepoEvent FirehoseTranslator::commit_event(std::int64_t seq, std::string_view repo, std::string_view rev,
                                           std::string_view time) const {
  RepoEvent e = base(RepoEvent::Kind::commit);
  e.cursor = seq;
  e.did = std::string(repo);
  e.rev = std::string(rev);
  e.time = std::string(time);
  return e;
}

FrameOutcome FirehoseTranslator::rejected(std::optional<std::int64_t> seq, std::string did, std::string check,
                                          std::string message) const {
  FrameOutcome o;
  o.kind = FrameOutcome::Kind::deliver;
  o.seq = seq;
  o.event = base(RepoEvent::Kind::rejected);
  o.event.cursor = seq.value_or(0);
  o.event.did = did;
  o.did = std::move(did);
  o.event.error_check = std::move(check);
  o.event.message = std::move(message);
  return o;
}

FrameOutcome FirehoseTranslator::translate(std::span<const std::byte> bytes, const KeyLookup& key,
                                           std::optional<std::int64_t> after) const {
  if (bytes.size() > max_frame_bytes_) {
    return rejected(std::nullopt, {}, "size", too_big(bytes.size(), max_frame_bytes_));
  }
  // Most of a relay's commits touch no wanted collection and only their
  // cursor is kept: read them straight from the bytes. Anything unusual
  // takes the full decode below, and its error reports.
  if (!collections_.empty()) {
    const FrameScan u = scan_frame(bytes, collections_);
    if (u.complete && u.type == "#commit" && u.op == 1 && u.ops && !u.wanted_op && u.seq && !u.did.empty()) {
      FrameOutcome o;
      o.seq = u.seq;
      if (after && *u.seq <= *after) {
        o.kind = FrameOutcome::Kind::skip;
        return o;
      }
      o.did = std::string(u.did);
      o.event = commit_event(*u.seq, u.did, u.rev, u.time);
      return o;
    }
  }
  FrameOptions fo;
  fo.max_frame_bytes = max_frame_bytes_;
  EventFrame frame;
  try {
    frame = decode_event_frame(bytes, fo);
  } catch (const DecodeError& e) {
    return rejected(std::nullopt, {}, "decode", e.what());
  }
  FrameOutcome o;
  o.seq = frame.seq();
  if (o.seq && after && *o.seq <= *after) {
    o.kind = FrameOutcome::Kind::skip;
    return o;
  }
  if (const auto* err = std::get_if<ErrorFrame>(&frame.event)) {
    o.error_name = std::string(err->error);
    o.message = err->message ? std::string(*err->message) : std::string();
    o.kind = o.error_name == "FutureCursor" ? FrameOutcome::Kind::fatal : FrameOutcome::Kind::reconnect;
    o.event = base(RepoEvent::Kind::info);
    o.event.info_name = o.error_name;
    o.event.message = o.message;
    return o;
  }
  if (const auto* info = std::get_if<InfoEvent>(&frame.event)) {
    o.event = base(RepoEvent::Kind::info);
    o.event.info_name = std::string(info->name);
    if (info->message) o.event.message = std::string(*info->message);
    return o;
  }
  if (const auto* id = std::get_if<IdentityEvent>(&frame.event)) {
    o.event = base(RepoEvent::Kind::identity);
    o.event.cursor = id->seq;
    o.did = o.event.did = std::string(id->did);
    o.event.time = std::string(id->time);
    if (id->handle) o.event.handle = std::string(*id->handle);
    return o;
  }
  if (const auto* acct = std::get_if<AccountEvent>(&frame.event)) {
    o.event = base(RepoEvent::Kind::account);
    o.event.cursor = acct->seq;
    o.did = o.event.did = std::string(acct->did);
    o.event.time = std::string(acct->time);
    o.event.active = acct->active;
    if (acct->status) o.event.status = std::string(*acct->status);
    return o;
  }
  if (const auto* sync = std::get_if<SyncEvent>(&frame.event)) {
    o.did = std::string(sync->did);
    const PublicKey* k = nullptr;
    if (verify_) {
      k = key(sync->did);
      if (!k) {
        o.kind = FrameOutcome::Kind::need_key;
        return o;
      }
    }
    try {
      if (k) {
        (void)verifier_.verify_sync(frame, *k);
      } else {
        (void)verifier_.verify_sync_unsigned(frame);
      }
    } catch (const VerifyError& e) {
      return rejected(o.seq, o.did, VerifyError::check_name(e.check()), e.what());
    } catch (const DecodeError& e) {
      return rejected(o.seq, o.did, "decode", e.what());
    }
    o.event = base(RepoEvent::Kind::sync);
    o.event.cursor = sync->seq;
    o.event.did = o.did;
    o.event.rev = std::string(sync->rev);
    o.event.time = std::string(sync->time);
    return o;
  }
  if (const auto* commit = std::get_if<CommitEvent>(&frame.event)) {
    o.did = std::string(commit->repo);
    o.event = commit_event(commit->seq, commit->repo, commit->rev, commit->time);
    bool wanted = false;
    for (const auto& op : commit->ops) wanted = wanted || collection_matches(collections_, op.collection());
    // Nothing of this commit will be applied: queue it for its cursor only.
    if (!wanted) return o;
    const PublicKey* k = nullptr;
    if (verify_) {
      k = key(commit->repo);
      if (!k) {
        o.kind = FrameOutcome::Kind::need_key;
        return o;
      }
    }
    try {
      const VerifiedCommit v =
          k ? verifier_.verify_commit(frame, *k) : verifier_.verify_commit_unsigned(frame);
      for (const auto& op : v.ops) {
        if (!collection_matches(collections_, op.collection())) continue;
        RecordChange c;
        c.action = op.action;
        c.collection = std::string(op.collection());
        c.rkey = std::string(op.rkey());
        if (op.action != RepoOp::Action::remove) {
          c.cid = format_binary_cid(op.cid);
          boost::json::value rec = dag_cbor_to_json(dag_cbor_decode(op.record));
          if (!rec.is_object()) {
            return rejected(o.seq, o.did, "decode", "record " + std::string(op.path) + " is not a map");
          }
          c.record = std::move(rec.as_object());
        }
        o.event.changes.push_back(std::move(c));
      }
    } catch (const VerifyError& e) {
      return rejected(o.seq, o.did, VerifyError::check_name(e.check()), e.what());
    } catch (const DecodeError& e) {
      return rejected(o.seq, o.did, "decode", e.what());
    }
    return o;
  }
  o.kind = FrameOutcome::Kind::skip;  // a message type this library does not know
  return o;
}

}  // namespace detail

// ---- status -------------------------------------------------------------------

std::string to_string(const FirehoseStatus& s) {
  switch (s.kind) {
    case FirehoseStatus::Kind::connected:
      return "connected to " + s.source + (s.cursor ? " after seq " + std::to_string(s.cursor) : " (live)");
    case FirehoseStatus::Kind::disconnected:
      return "disconnected from " + s.source + ": " + s.message;
    case FirehoseStatus::Kind::reconnecting:
      return "reconnecting to " + s.source + " in " + std::to_string(s.delay.count()) + " ms (attempt " +
             std::to_string(s.attempt) + ")";
    case FirehoseStatus::Kind::info:
      return s.source + ": " + s.message;
  }
  return s.message;
}

// ---- the run loop ----------------------------------------------------------------

struct Firehose::Impl {
  asio::any_io_executor ex;
  FirehoseConfig cfg;
  std::shared_ptr<RepoEventQueue> queue;
  std::shared_ptr<IdentityResolver> identity;
  detail::FirehoseTranslator translator;
  std::unordered_map<std::string, PublicKey> keys;    // resolved: dropped on #identity, refreshed on failure
  std::unordered_map<std::string, PublicKey> pinned;  // add_key(): kept as given
  std::optional<std::int64_t> last;                   // the last seq queued
  FirehoseStats stats;
  net::WebSocket* ws = nullptr;
  asio::steady_timer backoff_timer;
  bool cancelled = false;
  bool running = false;

  Impl(asio::any_io_executor e, FirehoseConfig c, std::shared_ptr<RepoEventQueue> q,
       std::shared_ptr<IdentityResolver> id)
      : ex(e),
        cfg(std::move(c)),
        queue(std::move(q)),
        identity(std::move(id)),
        translator(cfg.host, cfg.collections, cfg.verify, cfg.verifier, cfg.max_frame_bytes),
        last(cfg.cursor),
        backoff_timer(e) {}

  void status(FirehoseStatus::Kind kind, std::string message, std::int64_t cursor = 0,
              std::chrono::milliseconds delay = {}, std::uint32_t attempt = 0) {
    if (!cfg.on_status) return;
    FirehoseStatus s;
    s.kind = kind;
    s.source = cfg.host;
    s.message = std::move(message);
    s.cursor = cursor;
    s.delay = delay;
    s.attempt = attempt;
    cfg.on_status(s);
  }

  std::string url() const {
    std::string u = net::websocket_to_http_url(cfg.host);
    const auto parsed = net::HttpUrl::parse(u);
    if (parsed.target == "/" && u.back() != '/') {
      u += "/xrpc/com.atproto.sync.subscribeRepos";
    } else if (parsed.target == "/") {
      u += "xrpc/com.atproto.sync.subscribeRepos";
    }
    if (last) u += (u.find('?') == std::string::npos ? "?cursor=" : "&cursor=") + std::to_string(*last);
    return u;
  }

  const PublicKey* cached(std::string_view did) const {
    const std::string d(did);
    if (auto p = pinned.find(d); p != pinned.end()) return &p->second;
    auto it = keys.find(d);
    return it == keys.end() ? nullptr : &it->second;
  }

  // The key from the DID document; throws what resolution throws.
  asio::awaitable<void> fetch_key(std::string did) {
    ++stats.key_lookups;
    const DidDocument doc = co_await identity->resolve_did(did);
    if (doc.raw.empty())
      throw DidResolutionError(DidResolutionError::Cause::bad_document, did, {}, did + ": no document");
    PublicKey k = PublicKey::from_did_document(boost::json::parse(doc.raw));
    if (keys.size() >= cfg.max_cached_keys) keys.clear();
    keys.insert_or_assign(did, std::move(k));
  }

  // One frame: translated, its key fetched when needed (and refreshed once
  // when a cached key no longer verifies), then queued.
  asio::awaitable<detail::FrameOutcome> process(const net::WebSocketMessage& m) {
    const std::span<const std::byte> frame = m.data.span();
    if (m.truncated) co_return translator.oversized(frame, m.size, last);
    const auto lookup = [this](std::string_view did) { return cached(did); };
    detail::FrameOutcome o = translator.translate(frame, lookup, last);
    bool fetched = false;
    if (o.kind == detail::FrameOutcome::Kind::need_key) {
      std::string failure;
      try {
        co_await fetch_key(o.did);
        fetched = true;
      } catch (const Error& e) {
        failure = e.what();
      }
      if (!failure.empty()) {
        detail::FrameOutcome r;
        r.kind = detail::FrameOutcome::Kind::deliver;
        r.seq = o.seq;
        r.did = o.did;
        r.event.kind = RepoEvent::Kind::rejected;
        r.event.source = cfg.host;
        r.event.cursor = o.seq.value_or(0);
        r.event.did = o.did;
        r.event.error_check = "identity";
        r.event.message = "no signing key for " + o.did + ": " + failure;
        co_return r;
      }
      o = translator.translate(frame, lookup);
    }
    if (!fetched && cfg.verify && o.event.kind == RepoEvent::Kind::rejected &&
        o.event.error_check == "signature" && keys.count(o.did) != 0) {
      // The key may have rotated without an #identity event reaching us.
      keys.erase(o.did);
      identity->invalidate(o.did);
      try {
        co_await fetch_key(o.did);
        o = translator.translate(frame, lookup);
      } catch (const Error&) {
        // Keep the signature failure as the reason.
      }
    }
    if (o.kind == detail::FrameOutcome::Kind::deliver && o.event.kind == RepoEvent::Kind::identity) {
      keys.erase(o.did);
      if (identity) identity->invalidate(o.did);
    }
    if (o.kind == detail::FrameOutcome::Kind::deliver && o.event.kind == RepoEvent::Kind::commit &&
        !o.event.changes.empty() && cfg.verify) {
      ++stats.verified;
    }
    co_return o;
  }

  // Queues one event; false when the queue was closed under us or cancel()
  // came while waiting for room.
  asio::awaitable<bool> push(RepoEvent ev) {
    bool queued = false;
    try {
      queued = co_await queue->push(std::move(ev), cancelled);
    } catch (const Error&) {
      if (!queue->closed()) throw;
    }
    co_return queued;
  }
};

Firehose::Firehose(asio::any_io_executor ex, FirehoseConfig config, std::shared_ptr<RepoEventQueue> queue,
                   std::shared_ptr<IdentityResolver> identity) {
  if (!queue) throw InvalidArgument("Firehose: queue is null");
  if (config.host.empty()) throw InvalidArgument("FirehoseConfig.host is empty");
  (void)net::HttpUrl::parse(net::websocket_to_http_url(config.host));  // InvalidArgument for a bad URL
  if (config.reconnect_initial.count() <= 0 || config.reconnect_max < config.reconnect_initial) {
    throw InvalidArgument("FirehoseConfig: reconnect delays must satisfy 0 < initial <= max");
  }
  if (config.max_frame_bytes == 0) throw InvalidArgument("FirehoseConfig.max_frame_bytes must be >= 1");
  if (config.cursor && *config.cursor < 0) throw InvalidArgument("FirehoseConfig.cursor must be >= 0");
  // A larger frame is read only up to the limit (the rest is discarded),
  // reported by the seq its first bytes name, and the stream goes on.
  config.websocket.max_message_bytes = config.max_frame_bytes;
  config.websocket.truncate_oversized = true;
  if (!identity && config.verify) {
    identity = std::make_shared<IdentityResolver>(std::make_shared<net::HttpClient>(ex));
  }
  impl_ = std::make_shared<Impl>(ex, std::move(config), std::move(queue), std::move(identity));
}

Firehose::~Firehose() {
  if (impl_ && impl_->ws) impl_->ws->abort();
}

void Firehose::cancel() {
  asio::post(impl_->ex, [s = impl_] {
    s->cancelled = true;
    s->backoff_timer.cancel();
    if (s->ws) s->ws->abort();
    s->queue->wake_producers();
  });
}

void Firehose::add_key(std::string did, PublicKey key) {
  impl_->pinned.insert_or_assign(std::move(did), std::move(key));
}
std::optional<std::int64_t> Firehose::cursor() const noexcept {
  return impl_->last;
}
const FirehoseConfig& Firehose::config() const noexcept {
  return impl_->cfg;
}
FirehoseStats Firehose::stats() const noexcept {
  return impl_->stats;
}

// (GCC 12: locals at function scope; no temporaries with destructors inside
// co_await expressions.)
asio::awaitable<void> Firehose::run() {
  std::shared_ptr<Impl> s = impl_;
  if (s->running) throw InvalidArgument("Firehose::run is already running");
  s->running = true;
  detail::Backoff backoff(s->cfg.reconnect_initial, s->cfg.reconnect_max, s->cfg.reconnect_jitter);
  bool queue_closed = false;
  std::optional<StreamError> fatal;
  while (!s->cancelled && !queue_closed && !fatal) {
    const std::string url = s->url();
    bool delivered = false;
    std::string why;
    try {
      net::WebSocket ws = co_await net::WebSocket::connect(s->ex, url, s->cfg.websocket);
      s->ws = &ws;
      ++s->stats.connections;
      s->status(FirehoseStatus::Kind::connected, {}, s->last.value_or(0));
      while (!s->cancelled) {
        net::WebSocketMessage m = co_await ws.read();
        if (m.closed) {
          why = "closed by the host (" + std::to_string(m.close_code) +
                (m.close_reason.empty() ? "" : " " + m.close_reason) + ")";
          break;
        }
        ++s->stats.frames;
        s->stats.bytes += m.size;
        detail::FrameOutcome o = co_await s->process(m);
        using K = detail::FrameOutcome::Kind;
        if (o.kind == K::fatal) {
          fatal.emplace(s->cfg.host, o.error_name, o.message);
          break;
        }
        if (o.kind == K::reconnect) {
          s->status(FirehoseStatus::Kind::info, o.error_name + (o.message.empty() ? "" : ": " + o.message));
          queue_closed = !co_await s->push(std::move(o.event));
          why = "the host ended the stream: " + o.error_name;
          break;
        }
        // Already queued before a reconnect (hosts may resend).
        if (o.seq && s->last && *o.seq <= *s->last) continue;
        if (o.kind == K::skip) {
          if (o.seq) s->last = o.seq;
          continue;
        }
        if (o.event.kind == RepoEvent::Kind::info) {
          s->status(FirehoseStatus::Kind::info,
                    o.event.info_name + (o.event.message.empty() ? "" : ": " + o.event.message));
        }
        const bool rejected = o.event.kind == RepoEvent::Kind::rejected;
        queue_closed = !co_await s->push(std::move(o.event));
        if (queue_closed) break;
        delivered = true;
        ++s->stats.events;
        if (rejected) ++s->stats.rejected;
        if (o.seq) s->last = o.seq;
      }
      s->ws = nullptr;
      if (!s->cancelled && !queue_closed) co_await ws.close();
    } catch (const NetworkError& e) {
      s->ws = nullptr;
      why = e.what();
    }
    if (s->cancelled || queue_closed || fatal) break;
    s->status(FirehoseStatus::Kind::disconnected, why.empty() ? "connection ended" : why);
    if (delivered) backoff.reset();
    const auto delay = backoff.next();
    s->status(FirehoseStatus::Kind::reconnecting, {}, 0, delay, backoff.attempt());
    boost::system::error_code ec;
    s->backoff_timer.expires_after(delay);
    co_await s->backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  s->ws = nullptr;
  s->running = false;
  if (fatal) throw *fatal;
}

}  // namespace atdata::atproto
