#pragma once
// RedisClient: a small Redis client on Asio coroutines, for the local
// dataset index (the keyspace Python atdata writes through redis-py).
//
// Why our own: Boost.Redis needs Boost >= 1.84 and Debian 12 ships 1.81;
// hiredis's async API is callback-based on its own event-loop adapters, not
// Asio-awaitable, and would be a second I/O model beside the net layer. What
// the index needs is small (RESP2 request/reply, pipelining, AUTH/SELECT),
// and the protocol part is sans-I/O in atdata/net/resp.hpp.
//
// Model (Boost.Redis's): one connection per client, opened on first use and
// reopened on the next use after it dropped. Concurrent exec() calls share
// it: their requests are queued, written back to back by one writer loop,
// and one reader loop hands replies out in FIFO order, so N coroutines cost
// one round trip, not N. Commands whose replies are not one per command
// (SUBSCRIBE, MONITOR, CLIENT REPLY OFF) are not supported.
//
// Threading: like WebSocket, a client is used from one thread: every
// coroutine calling it runs on its executor, which must be a single-threaded
// io_context or a strand (its state is not locked). The io_context must
// outlive the client. Destroying the client closes the connection; requests
// still waiting then fail with NetworkError.
//
// Errors: a server error reply is a value (RespValue of Type::error) in
// exec()'s result, for the caller to judge per command; command() throws
// RedisError for one. Transport failures (connect, reset, timeout) throw
// atdata::NetworkError naming host:port and the phase; an undecodable or
// over-limit reply throws atdata::DecodeError. Both close the connection.
// Messages never contain the password.
//
// TLS (rediss://) is not supported: the index runs against a local server.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "atdata/error.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/resp.hpp"

namespace atdata::net {

// An error reply: command() is the command's name as sent ("HSET"),
// server_message() the server's text ("WRONGTYPE Operation against a key
// holding the wrong kind of value"). what(): "redis HSET: WRONGTYPE …", with
// the server's host:port when known ("redis 127.0.0.1:6379 AUTH: WRONGPASS …").
class RedisError : public Error {
 public:
  RedisError(std::string command, std::string server_message, const std::string& endpoint = "")
      : Error("redis " + (endpoint.empty() ? "" : endpoint + " ") + command + ": " + server_message),
        command_(std::move(command)),
        server_message_(std::move(server_message)) {}
  const std::string& command() const noexcept { return command_; }
  const std::string& server_message() const noexcept { return server_message_; }

 private:
  std::string command_, server_message_;
};

class RedisConfig {
 public:
  RedisConfig() = default;  // 127.0.0.1:6379, db 0, no AUTH

  // redis://[[user]:password@]host[:port][/db], as redis-py reads it: user
  // and password percent-decoded, an IPv6 host in brackets, db a decimal
  // number. Throws InvalidArgument (without the password) for anything else,
  // including rediss:// and query parameters.
  static RedisConfig from_url(std::string_view url);

  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  // AUTH is sent when password is set: "AUTH password" with no username
  // (Redis's default user), "AUTH username password" otherwise (ACLs).
  std::string username;
  std::string password;
  int db = 0;  // SELECT is sent when not 0
  // Resolve + TCP connect, and then again for the AUTH/SELECT exchange.
  std::chrono::milliseconds connect_timeout{5'000};
  // From exec() until the request's last reply arrived, connecting
  // included; 0: no deadline. A request that times out after it was written
  // closes the connection (replies are matched by order, the late reply
  // would be taken for the next request's), failing the requests behind it.
  std::chrono::milliseconds request_timeout{30'000};
  RespLimits limits;

  RedisConfig&& with_connect_timeout(std::chrono::milliseconds t) && { return set(connect_timeout, t); }
  RedisConfig&& with_request_timeout(std::chrono::milliseconds t) && { return set(request_timeout, t); }
  RedisConfig&& with_limits(const RespLimits& l) && { return set(limits, l); }
  RedisConfig&& with_db(int d) && { return set(db, d); }

  // "host:port" ("[::1]:6379" for IPv6), as error messages name the server.
  std::string endpoint() const;

 private:
  template <class T, class V>
  RedisConfig&& set(T& member, V&& v) {
    member = std::forward<V>(v);
    return std::move(*this);
  }
};

namespace detail {

template <class T>
inline constexpr bool redis_integer_arg =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

// One command argument, as a bulk string: anything convertible to
// std::string_view, raw bytes (std::span<const std::byte>, so also a
// std::vector<std::byte>), or an integer (in decimal, as redis-py sends it).
template <class T>
void append_redis_arg(std::string& out, const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    append_bulk(out, std::string_view(v));
  } else if constexpr (std::is_convertible_v<const T&, std::span<const std::byte>>) {
    const std::span<const std::byte> b(v);
    append_bulk(out, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  } else if constexpr (redis_integer_arg<T>) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    append_bulk(out, std::string_view(tmp, static_cast<std::size_t>(r.ptr - tmp)));
  } else {
    static_assert(sizeof(T) == 0, "a Redis argument is a string, bytes or an integer");
  }
}

template <class E>
concept redis_pair = requires(const E& e) {
  e.first;
  e.second;
};

}  // namespace detail

// A pipeline of commands, sent in one write and answered in one exec().
// Arguments are encoded when pushed, so they need not outlive the call.
//   RedisRequest req;
//   req.push("MULTI");
//   req.push("DEL", key);
//   req.push_range("HSET", key, fields);   // vector<pair<string, string>>
//   req.push("EXEC");
class RedisRequest {
 public:
  RedisRequest() = default;

  template <class... Args>
  RedisRequest& push(std::string_view command, const Args&... args) {
    append_array_header(payload_, 1 + sizeof...(Args));
    append_bulk(payload_, command);
    (detail::append_redis_arg(payload_, args), ...);
    commands_.emplace_back(command);
    return *this;
  }

  // command key e1 e2 …: each element of `range` is either one argument or
  // a pair (first, second) giving two (HSET key f1 v1 f2 v2 …). The range is
  // walked twice (count, then encode), so it must be a forward range.
  template <std::ranges::forward_range R>
  RedisRequest& push_range(std::string_view command, std::string_view key, const R& range) {
    using E = std::ranges::range_value_t<R>;
    std::size_t n = 0;
    for (auto it = std::ranges::begin(range); it != std::ranges::end(range); ++it) ++n;
    if constexpr (detail::redis_pair<E>) n *= 2;
    append_array_header(payload_, 2 + n);
    append_bulk(payload_, command);
    append_bulk(payload_, key);
    for (const auto& e : range) {
      if constexpr (detail::redis_pair<E>) {
        detail::append_redis_arg(payload_, e.first);
        detail::append_redis_arg(payload_, e.second);
      } else {
        detail::append_redis_arg(payload_, e);
      }
    }
    commands_.emplace_back(command);
    return *this;
  }

  std::size_t size() const noexcept { return commands_.size(); }
  bool empty() const noexcept { return commands_.empty(); }
  // The encoded commands, exactly as they are written to the socket.
  const std::string& payload() const noexcept { return payload_; }
  // Command names in order, for error messages.
  const std::vector<std::string>& commands() const noexcept { return commands_; }
  void clear() noexcept {
    payload_.clear();
    commands_.clear();
  }

 private:
  std::string payload_;
  std::vector<std::string> commands_;
};

struct RedisStats {
  std::uint64_t connections_opened = 0;  // successful connects (AUTH/SELECT done)
  std::uint64_t requests_sent = 0;       // exec() calls written to a connection
  std::uint64_t commands_sent = 0;
};

namespace detail {
struct RedisImpl;
}

class RedisClient {
 public:
  RedisClient(boost::asio::any_io_executor ex, RedisConfig config);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One reply per command of `req`, in order. An error reply is an element
  // of type error (see RespValue::throw_if_error). Throws NetworkError or
  // DecodeError (see above). The request is copied (or moved) before the
  // awaitable is returned, so it need not outlive it.
  boost::asio::awaitable<std::vector<RespValue>> exec(const RedisRequest& req);
  boost::asio::awaitable<std::vector<RespValue>> exec(RedisRequest&& req);

  // One command; throws RedisError when the reply is an error.
  //   RespValue v = co_await client.command("HGET", key, "name");
  template <class... Args>
  boost::asio::awaitable<RespValue> command(std::string_view name, const Args&... args) {
    RedisRequest req;
    req.push(name, args...);
    return command_impl(std::move(req));
  }

  // Closes the connection now: requests not yet answered fail with
  // NetworkError. The next exec() connects again.
  void close();

  const RedisConfig& config() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;
  RedisStats stats() const noexcept;

 private:
  boost::asio::awaitable<RespValue> command_impl(RedisRequest req);
  std::shared_ptr<detail::RedisImpl> impl_;
};

}  // namespace atdata::net
