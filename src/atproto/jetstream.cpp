#include "atdata/atproto/jetstream.hpp"

#include <zstd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <ctime>
#include <fstream>
#include <iterator>

#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "atproto/detail/backoff.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace atdata::atproto {

// ---- decoding ---------------------------------------------------------------

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& what) {
  throw DecodeError(field, "Jetstream event: " + what, std::nullopt);
}

const json::value& need(const json::object& o, const std::string& prefix, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) bad_field(prefix + key, "missing");
  return *v;
}

std::string need_string(const json::object& o, const std::string& prefix, const char* key) {
  const json::value& v = need(o, prefix, key);
  if (!v.is_string()) bad_field(prefix + key, "should be a string");
  return std::string(v.get_string());
}

std::optional<std::string> opt_string(const json::object& o, const std::string& prefix, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) bad_field(prefix + key, "should be a string");
  return std::string(v->get_string());
}

const json::object& need_object(const json::object& o, const std::string& prefix, const char* key) {
  const json::value& v = need(o, prefix, key);
  if (!v.is_object()) bad_field(prefix + key, "should be an object");
  return v.get_object();
}

std::int64_t need_int(const json::object& o, const std::string& prefix, const char* key) {
  const json::value& v = need(o, prefix, key);
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  bad_field(prefix + key, "should be an integer");
}

// time_us as "2026-05-25T14:23:28.778123Z".
std::string iso_from_micros(std::int64_t us) {
  std::int64_t secs = us / 1'000'000;
  std::int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return {};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

}  // namespace

RepoEvent decode_jetstream_event(std::string_view text, std::string_view source) {
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) throw DecodeError("Jetstream event: invalid JSON: " + ec.message());
  if (!root.is_object()) throw DecodeError("Jetstream event: not a JSON object");
  const json::object& o = root.get_object();
  RepoEvent ev;
  ev.source = std::string(source);
  ev.did = need_string(o, "", "did");
  if (ev.did.rfind("did:", 0) != 0) bad_field("did", "not a DID: '" + ev.did.substr(0, 64) + "'");
  ev.cursor = need_int(o, "", "time_us");
  if (ev.cursor <= 0) bad_field("time_us", "should be positive");
  const std::string kind = need_string(o, "", "kind");
  if (kind == "commit") {
    ev.kind = RepoEvent::Kind::commit;
    const json::object& c = need_object(o, "", "commit");
    ev.rev = need_string(c, "commit.", "rev");
    ev.time = iso_from_micros(ev.cursor);
    RecordChange ch;
    const std::string op = need_string(c, "commit.", "operation");
    if (op == "create") {
      ch.action = RepoOp::Action::create;
    } else if (op == "update") {
      ch.action = RepoOp::Action::update;
    } else if (op == "delete") {
      ch.action = RepoOp::Action::remove;
    } else {
      bad_field("commit.operation", "unknown operation '" + op.substr(0, 32) + "'");
    }
    ch.collection = need_string(c, "commit.", "collection");
    ch.rkey = need_string(c, "commit.", "rkey");
    if (ch.collection.empty()) bad_field("commit.collection", "empty");
    if (ch.rkey.empty()) bad_field("commit.rkey", "empty");
    if (ch.action != RepoOp::Action::remove) {
      ch.record = need_object(c, "commit.", "record");
      ch.cid = need_string(c, "commit.", "cid");
    }
    ev.changes.push_back(std::move(ch));
  } else if (kind == "identity") {
    ev.kind = RepoEvent::Kind::identity;
    const json::object& i = need_object(o, "", "identity");
    ev.handle = opt_string(i, "identity.", "handle");
    ev.time = opt_string(i, "identity.", "time").value_or(iso_from_micros(ev.cursor));
  } else if (kind == "account") {
    ev.kind = RepoEvent::Kind::account;
    const json::object& a = need_object(o, "", "account");
    const json::value& active = need(a, "account.", "active");
    if (!active.is_bool()) bad_field("account.active", "should be a boolean");
    ev.active = active.get_bool();
    ev.status = opt_string(a, "account.", "status");
    ev.time = opt_string(a, "account.", "time").value_or(iso_from_micros(ev.cursor));
  } else {
    bad_field("kind", "unknown kind '" + kind.substr(0, 32) + "'");
  }
  return ev;
}

std::string make_jetstream_options_update(const std::vector<std::string>& wanted_collections,
                                          const std::vector<std::string>& wanted_dids,
                                          std::size_t max_message_size_bytes) {
  json::object payload;
  json::array cols, dids;
  for (const auto& c : wanted_collections) cols.emplace_back(c);
  for (const auto& d : wanted_dids) dids.emplace_back(d);
  payload["wantedCollections"] = std::move(cols);
  payload["wantedDids"] = std::move(dids);
  if (max_message_size_bytes != 0) payload["maxMessageSizeBytes"] = max_message_size_bytes;
  json::object msg;
  msg["type"] = "options_update";
  msg["payload"] = std::move(payload);
  return json::serialize(msg);
}

// ---- decompression ------------------------------------------------------------

struct JetstreamDecompressor::Impl {
  ZSTD_DCtx* dctx = nullptr;
  ZSTD_DDict* ddict = nullptr;
  ~Impl() {
    ZSTD_freeDCtx(dctx);
    ZSTD_freeDDict(ddict);
  }
};

JetstreamDecompressor::JetstreamDecompressor() : impl_(std::make_unique<Impl>()) {
  impl_->dctx = ZSTD_createDCtx();
  if (!impl_->dctx) throw Error("zstd: cannot create a decompression context");
  // Bounds the window (memory) a hostile frame can ask for: 128 MiB.
  ZSTD_DCtx_setParameter(impl_->dctx, ZSTD_d_windowLogMax, 27);
}

JetstreamDecompressor::JetstreamDecompressor(std::span<const std::byte> dictionary)
    : JetstreamDecompressor() {
  if (dictionary.empty()) throw InvalidArgument("Jetstream zstd dictionary is empty");
  impl_->ddict = ZSTD_createDDict(dictionary.data(), dictionary.size());
  if (!impl_->ddict) throw InvalidArgument("Jetstream zstd dictionary cannot be loaded");
  const std::size_t r = ZSTD_DCtx_refDDict(impl_->dctx, impl_->ddict);
  if (ZSTD_isError(r))
    throw InvalidArgument(std::string("Jetstream zstd dictionary: ") + ZSTD_getErrorName(r));
}

JetstreamDecompressor JetstreamDecompressor::from_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InvalidArgument("cannot open Jetstream dictionary '" + path + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw InvalidArgument("cannot read Jetstream dictionary '" + path + "'");
  return JetstreamDecompressor(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

JetstreamDecompressor::JetstreamDecompressor(JetstreamDecompressor&&) noexcept = default;
JetstreamDecompressor& JetstreamDecompressor::operator=(JetstreamDecompressor&&) noexcept = default;
JetstreamDecompressor::~JetstreamDecompressor() = default;

bool JetstreamDecompressor::has_dictionary() const noexcept {
  return impl_ && impl_->ddict;
}

std::string JetstreamDecompressor::decompress(std::span<const std::byte> message, std::size_t max_bytes) {
  if (!impl_) throw InvalidArgument("JetstreamDecompressor used after move");
  ZSTD_DCtx_reset(impl_->dctx, ZSTD_reset_session_only);
  if (message.empty()) throw DecodeError("Jetstream message: empty zstd input");
  std::string out;
  // Grows geometrically, never past max_bytes + 1 (the +1 detects overflow).
  out.resize(std::min<std::size_t>(max_bytes + 1, std::max<std::size_t>(message.size() * 4, 4096)));
  ZSTD_inBuffer in{message.data(), message.size(), 0};
  std::size_t produced = 0;
  std::size_t last = 1;
  while (in.pos < in.size || last != 0) {
    if (produced == out.size()) {
      if (out.size() > max_bytes) break;
      out.resize(std::min<std::size_t>(max_bytes + 1, out.size() * 2));
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    last = ZSTD_decompressStream(impl_->dctx, &ob, &in);
    if (ZSTD_isError(last))
      throw DecodeError(std::string("Jetstream message: zstd: ") + ZSTD_getErrorName(last), in.pos);
    produced += ob.pos;
    if (produced > max_bytes) break;
    if (in.pos == in.size && last != 0 && ob.pos < ob.size) {
      throw DecodeError("Jetstream message: truncated zstd frame", in.pos);
    }
  }
  if (produced > max_bytes) {
    throw DecodeError("Jetstream message: decompressed content exceeds " + std::to_string(max_bytes) +
                      " bytes");
  }
  out.resize(produced);
  return out;
}

// ---- config -------------------------------------------------------------------

JetstreamConfig::JetstreamConfig() = default;

// ---- client -------------------------------------------------------------------

struct Jetstream::State {
  asio::any_io_executor ex;
  JetstreamConfig cfg;
  std::shared_ptr<RepoEventQueue> queue;
  JetstreamDecompressor decompressor;
  asio::steady_timer backoff_timer;
  net::WebSocket* ws = nullptr;  // the live connection, for cancel()
  bool running = false;
  bool cancelled = false;
  std::optional<std::int64_t> last;  // last delivered time_us
  JetstreamStats stats;
  std::string last_error;

  State(asio::any_io_executor e, JetstreamConfig c, std::shared_ptr<RepoEventQueue> q)
      : ex(e), cfg(std::move(c)), queue(std::move(q)), backoff_timer(e) {}
};

namespace {

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '*') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Jetstream::Jetstream(asio::any_io_executor ex, JetstreamConfig config,
                     std::shared_ptr<RepoEventQueue> queue) {
  if (!queue) throw InvalidArgument("Jetstream: queue is null");
  (void)net::HttpUrl::parse(net::websocket_to_http_url(config.url));  // throws InvalidArgument
  if (config.reconnect_initial.count() <= 0 || config.reconnect_max < config.reconnect_initial)
    throw InvalidArgument("Jetstream: reconnect delays must satisfy 0 < initial <= max");
  if (config.rewind.count() < 0) throw InvalidArgument("Jetstream: rewind must be >= 0");
  if (config.max_message_bytes == 0) throw InvalidArgument("Jetstream: max_message_bytes must be >= 1");
  if (config.cursor && *config.cursor < 0) throw InvalidArgument("Jetstream: cursor must be >= 0");
  config.websocket.max_message_bytes = config.max_message_bytes;
  s_ = std::make_shared<State>(ex, std::move(config), std::move(queue));
  if (!s_->cfg.dictionary.empty()) {
    s_->decompressor = JetstreamDecompressor(s_->cfg.dictionary);
  } else if (!s_->cfg.dictionary_file.empty()) {
    s_->decompressor = JetstreamDecompressor::from_file(s_->cfg.dictionary_file);
  }
  s_->last = s_->cfg.cursor;
}

Jetstream::~Jetstream() {
  if (s_ && s_->ws) s_->ws->abort();
}

std::string Jetstream::subscribe_url(std::optional<std::int64_t> resume_after) const {
  const JetstreamConfig& c = s_->cfg;
  std::string u = c.url;
  char sep = u.find('?') == std::string::npos ? '?' : '&';
  auto add = [&](std::string_view key, std::string_view value) {
    u.push_back(sep);
    sep = '&';
    u.append(key).append("=").append(query_escape(value));
  };
  for (const auto& col : c.wanted_collections) add("wantedCollections", col);
  for (const auto& did : c.wanted_dids) add("wantedDids", did);
  if (resume_after) {
    const std::int64_t from = std::max<std::int64_t>(*resume_after - c.rewind.count(), 0);
    add("cursor", std::to_string(from));
  }
  if (c.compress) add("compress", "true");
  return u;
}

void Jetstream::cancel() {
  asio::post(s_->ex, [s = s_] {
    s->cancelled = true;
    s->backoff_timer.cancel();
    if (s->ws) s->ws->abort();
    s->queue->wake_producers();
  });
}

asio::awaitable<void> Jetstream::update_filters(std::vector<std::string> wanted_collections,
                                                std::vector<std::string> wanted_dids) {
  std::shared_ptr<State> s = s_;
  s->cfg.wanted_collections = std::move(wanted_collections);
  s->cfg.wanted_dids = std::move(wanted_dids);
  const std::string msg = make_jetstream_options_update(s->cfg.wanted_collections, s->cfg.wanted_dids);
  if (s->ws && s->ws->is_open()) {
    try {
      co_await s->ws->send(msg);
    } catch (const NetworkError& e) {
      s->last_error = e.what();  // run() sees the broken connection and reconnects
    }
  }
}

std::optional<std::int64_t> Jetstream::cursor() const {
  return s_->last;
}
JetstreamStats Jetstream::stats() const {
  return s_->stats;
}
std::string Jetstream::last_error() const {
  return s_->last_error;
}

// (GCC 12: locals at function scope, a single co_return.)
asio::awaitable<void> Jetstream::run() {
  std::shared_ptr<State> s = s_;
  if (s->running) throw InvalidArgument("Jetstream::run: already running");
  s->running = true;
  detail::Backoff backoff(s->cfg.reconnect_initial, s->cfg.reconnect_max);
  bool queue_closed = false;
  while (!s->cancelled && !queue_closed) {
    const std::string url = subscribe_url(s->last);
    bool delivered = false;
    try {
      net::WebSocket ws = co_await net::WebSocket::connect(s->ex, url, s->cfg.websocket);
      s->ws = &ws;
      while (!s->cancelled) {
        net::WebSocketMessage m = co_await ws.read();
        if (m.closed) {
          s->last_error = url + ": closed by the server (" + std::to_string(m.close_code) +
                          (m.close_reason.empty() ? "" : " " + m.close_reason) + ")";
          break;
        }
        ++s->stats.messages;
        s->stats.bytes += m.data.size();
        RepoEvent ev;
        try {
          if (m.binary) {
            const std::string text = s->decompressor.decompress(m.data.span(), s->cfg.max_message_bytes);
            ev = decode_jetstream_event(text, s->cfg.url);
          } else {
            ev = decode_jetstream_event(m.data.as_string_view(), s->cfg.url);
          }
        } catch (const DecodeError& e) {
          ev = RepoEvent();
          ev.kind = RepoEvent::Kind::rejected;
          ev.source = s->cfg.url;
          ev.message = e.what();
          ev.error_check = "decode";
        }
        const bool rejected = ev.kind == RepoEvent::Kind::rejected;
        const std::int64_t cur = ev.cursor;
        if (!rejected && s->last && cur <= *s->last) {
          ++s->stats.duplicates;
          continue;
        }
        bool queued = false;
        try {
          queued = co_await s->queue->push(std::move(ev), s->cancelled);
        } catch (const Error&) {
          if (!s->queue->closed()) throw;
          queue_closed = true;
        }
        if (queue_closed || !queued) break;
        delivered = true;
        if (rejected) {
          ++s->stats.rejected;
        } else {
          ++s->stats.events;
          s->last = cur;
        }
      }
      s->ws = nullptr;
      if (!s->cancelled && !queue_closed) co_await ws.close();
    } catch (const NetworkError& e) {
      s->ws = nullptr;
      s->last_error = e.what();
    }
    if (s->cancelled || queue_closed) break;
    if (delivered) backoff.reset();
    ++s->stats.reconnects;
    boost::system::error_code ec;
    s->backoff_timer.expires_after(backoff.next());
    co_await s->backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  s->ws = nullptr;
  s->running = false;
}

}  // namespace atdata::atproto
