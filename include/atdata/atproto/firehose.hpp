#pragma once
// Firehose: a subscriber of com.atproto.sync.subscribeRepos on one host (a
// PDS or a relay), modelled on Boost.Redis: one run() loop owns the
// connection's whole life (connect, subscribe with ?cursor=, read, verify,
// hand over, reconnect), one config struct, and sans-I/O state machines
// underneath (frame translation, backoff, cursor) tested alone.
//
// Events go into a RepoEventQueue (shared by any number of subscribers):
// when it is full, reading stops until the consumer catches up, so memory is
// bounded by queue depth x max frame size. After any drop the loop
// reconnects with jittered, capped exponential backoff and resumes after the
// last seq it queued: nothing is skipped and nothing repeated.
//
// Verification (on by default): each #commit that carries an op of the
// configured collections is checked with Verifier against the account's key
// (from its DID document, cached; refreshed on #identity and once on a
// signature failure). Commits with no such op are queued with no changes and
// not signature-checked: nothing of theirs is applied, and skipping them is
// what lets a filtered subscriber keep up with a relay. A frame that fails is
// queued as RepoEvent::Kind::rejected, never applied; the loop goes on.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/identity.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/atproto/verifier.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/websocket.hpp"

namespace atdata::atproto {

struct FirehoseStatus {
  enum class Kind {
    connected,     // subscribed; `cursor` is what it resumed after (0: live)
    disconnected,  // the connection ended; `message` says why
    reconnecting,  // waiting `delay` before attempt `attempt`
    info,          // the host sent #info (e.g. OutdatedCursor) or ConsumerTooSlow
  };
  Kind kind = Kind::connected;
  std::string source;
  std::string message;
  std::int64_t cursor = 0;
  std::chrono::milliseconds delay{0};
  std::uint32_t attempt = 0;
};

std::string to_string(const FirehoseStatus& status);  // one line for logs

struct FirehoseConfig {
  FirehoseConfig() = default;  // not an aggregate (see XrpcCall)
  // ws[s]:// or http[s]:// base URL of a PDS or relay;
  // /xrpc/com.atproto.sync.subscribeRepos is appended unless a path is given.
  std::string host;
  // Resume after this seq (the host replays seq > cursor; 0 = all it keeps).
  // nullopt: live only, on the first connection. A live start has no seq to
  // resume from until its first event: a drop before that one reconnects
  // live again, and what was sent in between is not replayed. Give a cursor
  // (the host's current seq, or one you stored) where that matters.
  std::optional<std::int64_t> cursor;
  // NSIDs, or prefixes ending in ".*", whose ops become RecordChanges (and
  // whose commits are verified). Empty: every collection.
  std::vector<std::string> collections;
  // false: trust the host (block CIDs and the tree are still checked;
  // signatures are not, and no DID document is fetched).
  bool verify = true;
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{30'000};
  double reconnect_jitter = 0.5;  // each delay is drawn from [d*(1-j), d]
  // A larger frame is read only this far (the rest is discarded unbuffered)
  // and queued as a rejected event (check "size") with the seq its first
  // bytes name, so the cursor moves past it; the connection stays up.
  std::size_t max_frame_bytes = 8u << 20;
  // Ping every 30 s, read deadline 60 s, TLS, connect timeouts
  // (max_message_bytes and truncate_oversized are set from max_frame_bytes).
  net::WebSocketOptions websocket;
  VerifierOptions verifier;
  // Keys cached at most (then the cache is cleared and refilled).
  std::size_t max_cached_keys = 100'000;
  // Connection reports (optional; called on the run loop's executor).
  std::function<void(const FirehoseStatus&)> on_status;
};

struct FirehoseStats {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;  // queued (rejected included)
  std::uint64_t rejected = 0;
  std::uint64_t verified = 0;  // commits whose signature was checked
  std::uint64_t connections = 0;
  std::uint64_t key_lookups = 0;  // DID documents fetched
};

class Firehose {
 public:
  // `identity` resolves signing keys (needed when verify is on; a resolver
  // on `ex` with default options is made when null).
  Firehose(boost::asio::any_io_executor ex, FirehoseConfig config, std::shared_ptr<RepoEventQueue> queue,
           std::shared_ptr<IdentityResolver> identity = nullptr);
  ~Firehose();
  Firehose(const Firehose&) = delete;
  Firehose& operator=(const Firehose&) = delete;

  // Runs until cancel() (then returns) or a fatal stream error: StreamError
  // ("FutureCursor"). Drops, timeouts, ConsumerTooSlow and bad frames are
  // not fatal.
  boost::asio::awaitable<void> run();
  void cancel();

  // A known key for `did` (replays, keys obtained elsewhere): used instead
  // of the DID document's and kept as given (not re-resolved on #identity).
  void add_key(std::string did, PublicKey key);
  // The last seq queued: what a reconnect resumes after.
  std::optional<std::int64_t> cursor() const noexcept;
  const FirehoseConfig& config() const noexcept;
  FirehoseStats stats() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata::atproto
