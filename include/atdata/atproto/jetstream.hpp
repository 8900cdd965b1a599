#pragma once
// Jetstream client: the JSON re-encoding of the repository firehose
// (github.com/bluesky-social/jetstream, v1 `/subscribe`). Events are not
// verified (Jetstream drops the signed commit); in exchange they are small and
// filtered by collection and DID on the server.
//
// Two layers:
//  - sans-I/O: decode_jetstream_event() turns one JSON event into a
//    RepoEvent; JetstreamDecompressor undoes `compress=true` (each binary
//    message is one zstd frame made with Jetstream's dictionary).
//  - Jetstream: one coroutine owning the connection's life (connect, read,
//    decode, push into a RepoEventQueue, reconnect with backoff, resume from
//    the last delivered cursor), the same shape as the firehose subscriber.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/repo_event.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/websocket.hpp"

namespace atdata::atproto {

// One Jetstream event (a JSON object) as a RepoEvent: kind commit (exactly
// one RecordChange; `time` is time_us as ISO 8601 UTC), identity or account
// (`time` is the event's own). cursor = time_us, source as given. Throws
// DecodeError naming the field for invalid JSON, a missing or mistyped field,
// an unknown `kind` or `commit.operation`. Unknown extra fields are ignored.
RepoEvent decode_jetstream_event(std::string_view json, std::string_view source);

// The client-sourced message that changes a live subscription's filters:
// {"type":"options_update","payload":{"wantedCollections":[...],
// "wantedDids":[...],"maxMessageSizeBytes":N}} (N omitted when 0).
std::string make_jetstream_options_update(const std::vector<std::string>& wanted_collections,
                                          const std::vector<std::string>& wanted_dids,
                                          std::size_t max_message_size_bytes = 0);

// Decompresses Jetstream's zstd messages. Without a dictionary, plain zstd
// frames; with one, frames made with that dictionary (Jetstream's is
// published as zstd_dictionary in its repository). Not thread-safe: one per
// connection.
class JetstreamDecompressor {
 public:
  JetstreamDecompressor();  // no dictionary
  // Throws InvalidArgument when the bytes are not a zstd dictionary.
  explicit JetstreamDecompressor(std::span<const std::byte> dictionary);
  // Throws InvalidArgument when the file cannot be read or is no dictionary.
  static JetstreamDecompressor from_file(const std::string& path);
  JetstreamDecompressor(JetstreamDecompressor&&) noexcept;
  JetstreamDecompressor& operator=(JetstreamDecompressor&&) noexcept;
  ~JetstreamDecompressor();

  // The content of one message (one or more whole zstd frames). Throws
  // DecodeError for corrupt or truncated input, a dictionary mismatch, or
  // content larger than max_bytes (detected before it is all buffered).
  std::string decompress(std::span<const std::byte> message, std::size_t max_bytes);
  bool has_dictionary() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct JetstreamConfig {
  JetstreamConfig();  // not an aggregate (GCC 12 and co_await)

  // The subscription endpoint, query parameters are added to it.
  std::string url = "wss://jetstream1.us-east.bsky.network/subscribe";
  // wantedCollections (NSIDs, or prefixes such as "app.bsky.*"); empty: all.
  std::vector<std::string> wanted_collections;
  // wantedDids; empty: all.
  std::vector<std::string> wanted_dids;
  // Resume after this time_us (unix microseconds); nullopt: live tail.
  std::optional<std::int64_t> cursor;
  // compress=true: binary zstd messages (needs Jetstream's dictionary).
  bool compress = false;
  std::vector<std::byte> dictionary;  // used when not empty
  std::string dictionary_file;        // otherwise read from here when set
  // Reconnect delays: initial, doubling per failed attempt up to max, each
  // drawn uniformly from [d/2, d]. Reset once a connection delivered a message.
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{30'000};
  // Each (re)connection asks for cursor - rewind, as Jetstream's docs advise
  // (time_us is not exact across instances); events with time_us <= the last
  // delivered cursor are then dropped, so nothing is delivered twice.
  std::chrono::microseconds rewind{3'000'000};
  // Largest message accepted, compressed on the wire and decompressed.
  std::size_t max_message_bytes = 2u << 20;
  net::WebSocketOptions websocket;
};

struct JetstreamStats {
  std::uint64_t messages = 0;    // WebSocket messages received
  std::uint64_t bytes = 0;       // their size on the wire
  std::uint64_t events = 0;      // events pushed (rejected ones excluded)
  std::uint64_t rejected = 0;    // messages pushed as kind rejected
  std::uint64_t duplicates = 0;  // events dropped as already delivered (rewind overlap)
  std::uint64_t reconnects = 0;  // connections lost or failed, then retried
};

class Jetstream {
 public:
  // Throws InvalidArgument for a bad configuration (URL, dictionary, delays)
  // or a null queue.
  Jetstream(boost::asio::any_io_executor ex, JetstreamConfig config, std::shared_ptr<RepoEventQueue> queue);
  ~Jetstream();
  Jetstream(const Jetstream&) = delete;
  Jetstream& operator=(const Jetstream&) = delete;

  // Runs until cancel() or until the queue is closed; connection failures are
  // retried forever (with backoff) and never escape. Bad messages are pushed
  // as kind rejected. A full queue makes it wait (back-pressure). At most one
  // run() at a time.
  boost::asio::awaitable<void> run();
  // Makes run() return soon: a pending read or backoff wait is woken; a push
  // into a full queue completes first. Callable from any thread. Final: a
  // later run() returns at once.
  void cancel();

  // Replaces the filters: sent as an options_update on the live connection
  // (if any; a send failure is left to run()'s reconnect) and used by every
  // later (re)connection. Call on the executor, from another coroutine than
  // run(), one update at a time.
  boost::asio::awaitable<void> update_filters(std::vector<std::string> wanted_collections,
                                              std::vector<std::string> wanted_dids);

  // The last delivered event's time_us (the configured cursor before any).
  std::optional<std::int64_t> cursor() const;
  JetstreamStats stats() const;
  // The text of the last connection failure ("" when none).
  std::string last_error() const;
  // The subscription URL for a connection resuming after `resume_after`
  // (rewind applied) with the configured filters.
  std::string subscribe_url(std::optional<std::int64_t> resume_after) const;

 private:
  struct State;
  std::shared_ptr<State> s_;
};

}  // namespace atdata::atproto
