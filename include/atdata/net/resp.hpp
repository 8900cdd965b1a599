#pragma once
// RESP2, the Redis wire protocol, without any I/O: encoding commands into a
// byte string and an incremental parser for replies. Kept apart from the
// client (atdata/net/redis.hpp) so the protocol can be tested byte for byte
// and fuzzed without a socket, and so that a reply that is hostile or
// damaged fails here, with a byte offset, before it costs memory.
//
// Only RESP2 is spoken (the client never sends HELLO 3): simple strings,
// errors, integers, bulk strings, arrays, and the null bulk string / null
// array, both of which read as Type::null.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::net {

// What one reply may declare. Lengths are checked when the header arrives,
// before anything is allocated for them: a bulk string announcing 2^62 bytes
// is a DecodeError, not an allocation.
struct RespLimits {
  RespLimits() = default;  // not an aggregate (GCC 12 and co_await)
  // Largest bulk string (Redis itself caps values at 512 MiB; a dataset
  // index stores small hashes, so a 64 MiB value is a bug or an attack).
  std::uint64_t max_bulk_bytes = 64ull << 20;
  // Elements of one array (HGETALL of a hash with N fields returns 2N).
  std::uint64_t max_array_elements = 1ull << 24;
  // Nested arrays (EXEC of SCANs is 3 deep; Redis never goes near 32).
  std::size_t max_depth = 32;
  // A header or simple-string/error/integer line, without its CRLF.
  std::size_t max_line_bytes = 64 * 1024;
};

// One reply. Strings are byte strings (bulk strings are binary-safe); moving
// a RespValue moves its string or vector, never copies bytes.
class RespValue {
 public:
  enum class Type : std::uint8_t { simple_string, error, integer, bulk_string, null, array };

  RespValue() noexcept = default;  // null
  static RespValue make_simple_string(std::string s);
  static RespValue make_error(std::string s);
  static RespValue make_integer(std::int64_t v);
  static RespValue make_bulk_string(std::string s);
  static RespValue make_null();
  static RespValue make_array(std::vector<RespValue> elements);

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::null; }
  bool is_error() const noexcept { return type_ == Type::error; }
  bool is_array() const noexcept { return type_ == Type::array; }
  // A simple string, error or bulk string.
  bool is_string() const noexcept {
    return type_ == Type::simple_string || type_ == Type::error || type_ == Type::bulk_string;
  }

  // The bytes of a simple string, error (its full text: "WRONGTYPE …") or
  // bulk string; throws atdata::TypeError for the other types (a null is not
  // an empty string: GET of a missing key must be told apart from "").
  std::string_view str() const;
  // Moves the bytes out (same types as str()); the value is left empty.
  std::string take_str();
  // Throws atdata::TypeError unless an integer.
  std::int64_t integer() const;
  // Throws atdata::TypeError unless an array (a null array is Type::null).
  const std::vector<RespValue>& array() const;
  std::vector<RespValue>& array();

  // Throws RedisError (atdata/net/redis.hpp) naming `command` and the
  // server's text when this is an error reply; does nothing otherwise.
  void throw_if_error(std::string_view command) const;

  // Same type and the same bytes / integer / elements.
  friend bool operator==(const RespValue& a, const RespValue& b);

  // A short human-readable rendering for test output and error messages
  // (strings cut at 64 bytes, non-printable bytes escaped).
  std::string debug_string() const;

 private:
  Type type_ = Type::null;
  std::int64_t int_ = 0;
  std::string str_;
  std::vector<RespValue> array_;
};

// Appends one command as RESP: an array of bulk strings, one per argument
// (binary-safe: arguments may contain NULs and CRLFs).
void append_command(std::string& out, std::span<const std::string_view> args);
// The two halves of append_command, for encoders that produce arguments one
// at a time (RedisRequest::push): "*<n>\r\n", then n times "$<len>\r\n<arg>\r\n".
void append_array_header(std::string& out, std::size_t n);
void append_bulk(std::string& out, std::string_view arg);

// Incremental reply parser. Bytes are handed over in whatever pieces the
// socket delivered (feed(), or prepare()/commit() to read straight into the
// parser's buffer); next() returns each complete reply in order, or nullopt
// when it needs more bytes. Partial state is kept between calls, so a large
// bulk string is copied once and a long reply is not re-parsed per read.
//
// Malformed input throws atdata::DecodeError whose offset() is the position
// of the offending byte in the whole stream fed so far; the parser is then
// unusable (every later next() throws the same error): the connection must
// be dropped, there is no way to find the next reply's start.
class RespParser {
 public:
  explicit RespParser(RespLimits limits = RespLimits());

  void feed(std::string_view bytes);
  void feed(std::span<const std::byte> bytes);
  // A writable area of exactly n bytes at the end of the buffer; commit(k)
  // then adds its first k bytes (k <= n) to the input.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t k);

  std::optional<RespValue> next();

  // Bytes given to the parser so far (the stream offset of the next byte).
  std::uint64_t bytes_fed() const noexcept { return base_ + buf_.size() - reserved_; }
  // True when no reply is partially parsed and no unparsed bytes remain.
  bool idle() const noexcept;
  const RespLimits& limits() const noexcept { return limits_; }

 private:
  struct Frame {
    std::vector<RespValue> elements;
    std::uint64_t remaining = 0;
  };

  [[noreturn]] void fail(const std::string& what, std::uint64_t offset);
  // Adds a finished value to the innermost open array; returns the value
  // when it completes a top-level reply.
  std::optional<RespValue> complete(RespValue v);
  void compact();

  RespLimits limits_;
  std::string buf_;
  std::size_t pos_ = 0;       // first unparsed byte in buf_
  std::size_t scan_ = 0;      // where the search for the current line's LF resumes
  std::size_t reserved_ = 0;  // bytes of buf_ handed out by prepare(), not committed
  std::uint64_t base_ = 0;    // stream offset of buf_[0]
  std::vector<Frame> stack_;
  bool in_bulk_ = false;
  std::uint64_t bulk_left_ = 0;  // content bytes still to come (then CRLF)
  std::string bulk_;
  std::optional<std::string> error_;  // set once malformed input was seen
  std::uint64_t error_offset_ = 0;
};

}  // namespace atdata::net
