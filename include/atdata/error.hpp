#pragma once
// Every exception atdata throws derives from atdata::Error, so one catch clause
// is enough; the subclasses carry what a caller needs to act on the failure.
// Messages never contain passwords or tokens.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace atdata {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes that do not decode: msgpack, .npy/compact arrays, CBOR, CAR, tar.
// `offset` is the byte offset inside the buffer being decoded, when known.
class DecodeError : public Error {
 public:
  explicit DecodeError(const std::string& what, std::optional<std::uint64_t> offset = std::nullopt)
      : Error(offset ? what + " (at byte " + std::to_string(*offset) + ")" : what), offset_(offset) {}
  std::optional<std::uint64_t> offset() const noexcept { return offset_; }

 private:
  std::optional<std::uint64_t> offset_;
};

// A value that decodes but does not fit the requested sample type or schema:
// a missing, unknown or mistyped field. `field()` names it.
class SchemaError : public Error {
 public:
  SchemaError(std::string field, const std::string& what)
      : Error(field.empty() ? what : "field '" + field + "': " + what), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// Wrong dtype or shape for an array operation (e.g. view<float>() on int32).
class TypeError : public Error {
 public:
  using Error::Error;
};

// Caller passed an invalid argument (bad batch size, unbalanced braces, …).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A shard could not be read: names the shard URL and the byte offset reached.
class ShardError : public Error {
 public:
  ShardError(std::string url, std::uint64_t offset, const std::string& what)
      : Error(url + " at byte " + std::to_string(offset) + ": " + what),
        url_(std::move(url)),
        offset_(offset) {}
  const std::string& url() const noexcept { return url_; }
  std::uint64_t offset() const noexcept { return offset_; }

 private:
  std::string url_;
  std::uint64_t offset_;
};

// Transport failures: DNS, connect, TLS, reset, timeout.
class NetworkError : public Error {
 public:
  using Error::Error;
};

// A non-2xx HTTP answer outside XRPC (shard download, PLC directory, …).
class HttpError : public NetworkError {
 public:
  HttpError(int status, std::string url, const std::string& what)
      : NetworkError("HTTP " + std::to_string(status) + " from " + url + (what.empty() ? "" : ": " + what)),
        status_(status),
        url_(std::move(url)) {}
  int status() const noexcept { return status_; }
  const std::string& url() const noexcept { return url_; }

 private:
  int status_;
  std::string url_;
};

// A non-2xx XRPC answer: `error()` is the XRPC error name ("RecordNotFound"),
// `message()` the server's text, `status()` the HTTP status.
class XrpcError : public Error {
 public:
  XrpcError(int status, std::string nsid, std::string error, std::string message)
      : Error(nsid + ": " + std::to_string(status) + " " + error + (message.empty() ? "" : ": " + message)),
        status_(status),
        nsid_(std::move(nsid)),
        error_(std::move(error)),
        message_(std::move(message)) {}
  int status() const noexcept { return status_; }
  const std::string& nsid() const noexcept { return nsid_; }
  const std::string& error() const noexcept { return error_; }
  const std::string& message() const noexcept { return message_; }

 private:
  int status_;
  std::string nsid_, error_, message_;
};

// Operation needs a logged-in client, or a session string/token is unusable.
class AuthError : public Error {
 public:
  using Error::Error;
};

// A record does not have the expected $type or shape; `member()` names the
// offending member as a path ("storage.urls[1]"), empty when not about one.
class RecordError : public Error {
 public:
  using Error::Error;
  RecordError(std::string member, const std::string& what) : Error(what), member_(std::move(member)) {}
  const std::string& member() const noexcept { return member_; }

 private:
  std::string member_;
};

}  // namespace atdata
