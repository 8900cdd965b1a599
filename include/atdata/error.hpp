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
// `field()` names the sample field whose value is malformed (an ndarray's
// .npy bytes), empty when the damage is not inside one field; `reason()` is
// the message without that field prefix.
class DecodeError : public Error {
 public:
  explicit DecodeError(const std::string& what, std::optional<std::uint64_t> offset = std::nullopt)
      : Error(with_offset(what, offset)),
        offset_(offset),
        reason_(with_offset(what, offset)),
        message_(what) {}
  DecodeError(std::string field, const std::string& what, std::optional<std::uint64_t> offset)
      : Error("field '" + field + "': " + with_offset(what, offset)),
        offset_(offset),
        field_(std::move(field)),
        reason_(with_offset(what, offset)),
        message_(what) {}
  std::optional<std::uint64_t> offset() const noexcept { return offset_; }
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }
  // Without the field and the offset: for a decoder that reads a part of a
  // larger buffer and rethrows with `prefix` and the offset in the whole.
  const std::string& message() const noexcept { return message_; }
  DecodeError rebased(const std::string& prefix, std::uint64_t base) const {
    const std::uint64_t at = base + offset_.value_or(0);
    return field_.empty() ? DecodeError(prefix + message_, at) : DecodeError(field_, prefix + message_, at);
  }

 private:
  static std::string with_offset(const std::string& what, std::optional<std::uint64_t> offset) {
    return offset ? what + " (at byte " + std::to_string(*offset) + ")" : what;
  }
  std::optional<std::uint64_t> offset_;
  std::string field_;
  std::string reason_;
  std::string message_;
};

// A value that decodes but does not fit the requested sample type or schema:
// a missing, unknown or mistyped field. `field()` names it; `reason()` is the
// message without the "field '…': " prefix.
class SchemaError : public Error {
 public:
  SchemaError(std::string field, const std::string& what)
      : Error(field.empty() ? what : "field '" + field + "': " + what),
        field_(std::move(field)),
        reason_(what) {}
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

 protected:
  // For subclasses that compose their own message.
  SchemaError(const std::string& message, const std::string& field, const std::string& reason)
      : Error(message), field_(field), reason_(reason) {}

 private:
  std::string field_;
  std::string reason_;
};

// One sample of a shard that does not decode as the requested type: its
// packed bytes do not fit Dataset<T>'s struct or DynamicDataset's schema
// (unknown, missing or mistyped field), or they are malformed (not msgpack,
// bad .npy bytes in an ndarray field). It names what is needed to find the
// sample again:
//   url()          the shard
//   offset()       byte offset of the header of the sample's msgpack tar
//                  member in the shard (in the decompressed stream for
//                  compressed shards)
//   key()          the sample's "__key__"
//   sample_type()  the struct name ("ImageSample", as schema_of<T>() names
//                  it) or the run-time schema's name; empty when schemaless
//   field()        the offending field, empty when not about one field
//   reason()       what is wrong with it
//   malformed()    true when the bytes themselves are damaged (what unpack()
//                  reports as DecodeError), false for a type mismatch
// It derives from SchemaError so that `catch (const SchemaError&)` keeps
// catching schema mismatches found while iterating a dataset. Malformed
// sample bytes are SampleErrors too, not DecodeErrors: offset() here is a
// position in the shard, not in the packed bytes. Message:
//   shard https://host/data-000003.tar, sample 'a1b2' (at byte 51200):
//   FeatureSample.label: expected int, got msgpack str (at byte 31)
class SampleError : public SchemaError {
 public:
  SampleError(std::string url, std::uint64_t offset, std::string key, std::string sample_type,
              const std::string& field, const std::string& reason, bool malformed)
      : SchemaError(compose(url, offset, key, sample_type, field, reason), field, reason),
        url_(std::move(url)),
        key_(std::move(key)),
        sample_type_(std::move(sample_type)),
        offset_(offset),
        malformed_(malformed) {}
  const std::string& url() const noexcept { return url_; }
  std::uint64_t offset() const noexcept { return offset_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& sample_type() const noexcept { return sample_type_; }
  bool malformed() const noexcept { return malformed_; }

 private:
  static std::string compose(const std::string& url, std::uint64_t offset, const std::string& key,
                             const std::string& type, const std::string& field, const std::string& reason) {
    std::string where = type;
    if (!field.empty()) where += (where.empty() ? "" : ".") + field;
    return "shard " + url + ", sample '" + key + "' (at byte " + std::to_string(offset) +
           "): " + (where.empty() ? "" : where + ": ") + reason;
  }

  std::string url_, key_, sample_type_;
  std::uint64_t offset_;
  bool malformed_;
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

// A DID whose DID document cannot be obtained. One type for every cause, so
// one catch clause handles "this identity does not resolve"; `cause()` tells
// a retry (unreachable, http_error with a 5xx status) from a permanent failure:
//   not_found           the PLC directory (or did:web host) has no document
//                       for it (HTTP 404/410)
//   unreachable         the resolver could not be reached (DNS, connect, TLS,
//                       timeout, reset)
//   http_error          any other non-2xx answer (`http_status()`)
//   bad_document        the answer is not a usable DID document for this DID
//                       (not JSON, wrong shape, another DID's id, no PDS)
//   unsupported_method  neither did:plc nor did:web
// `resolver_url()` is what was asked: the PLC directory's URL for did:plc, the
// document URL for did:web (empty for unsupported methods). For did:plc the
// message says how to choose another PLC directory.
class DidResolutionError : public Error {
 public:
  enum class Cause { not_found, unreachable, http_error, bad_document, unsupported_method };
  DidResolutionError(Cause cause, std::string did, std::string resolver_url, const std::string& what,
                     int http_status = 0)
      : Error(what),
        cause_(cause),
        did_(std::move(did)),
        resolver_url_(std::move(resolver_url)),
        http_status_(http_status) {}
  Cause cause() const noexcept { return cause_; }
  const std::string& did() const noexcept { return did_; }
  const std::string& resolver_url() const noexcept { return resolver_url_; }
  int http_status() const noexcept { return http_status_; }  // 0 when there was no HTTP answer

 private:
  Cause cause_;
  std::string did_, resolver_url_;
  int http_status_;
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

// Bytes that decode but fail a check of what they claim: a repository block
// whose bytes do not hash to its CID, a commit whose signature does not verify
// with the account's key, an operation whose MST proof is missing or names
// another record. `check()` says which check failed; `subject()` names what it
// was about (the block's CID, the op's "collection/rkey" path, the commit
// field, the key), empty when the check is about the whole frame; `offset()`
// is where in the frame or CAR the offending bytes start, when known.
class VerifyError : public Error {
 public:
  enum class Check {
    block_cid,      // a block's bytes hash to another CID
    block_missing,  // a block the check needs is not in the frame / CAR
    commit,         // the commit object is malformed or names another repo
    key,            // the signing key is unusable (format, curve)
    signature,      // the commit signature does not verify (or is high-S)
    mst,            // an MST node is malformed (order, layer, encoding)
    mst_proof,      // an op's path is not proven by the tree under `data`
  };
  VerifyError(Check check, std::string subject, const std::string& what,
              std::optional<std::uint64_t> offset = std::nullopt)
      : Error(offset ? what + " (at byte " + std::to_string(*offset) + ")" : what),
        check_(check),
        subject_(std::move(subject)),
        offset_(offset),
        message_(what) {}
  Check check() const noexcept { return check_; }
  const std::string& subject() const noexcept { return subject_; }
  std::optional<std::uint64_t> offset() const noexcept { return offset_; }
  // As for DecodeError: the message without the offset, and the same error
  // for a part read out of a larger buffer.
  const std::string& message() const noexcept { return message_; }
  VerifyError rebased(const std::string& prefix, std::uint64_t base) const {
    return VerifyError(check_, subject_, prefix + message_, base + offset_.value_or(0));
  }
  // "block_cid", "signature", … (stable names for logs and JSON output).
  static const char* check_name(Check c) noexcept {
    switch (c) {
      case Check::block_cid:
        return "block_cid";
      case Check::block_missing:
        return "block_missing";
      case Check::commit:
        return "commit";
      case Check::key:
        return "key";
      case Check::signature:
        return "signature";
      case Check::mst:
        return "mst";
      case Check::mst_proof:
        return "mst_proof";
    }
    return "unknown";
  }

 private:
  Check check_;
  std::string subject_;
  std::optional<std::uint64_t> offset_;
  std::string message_;
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

// An event stream ended with an error the subscriber cannot recover from by
// reconnecting (e.g. "FutureCursor": the cursor is ahead of the host).
// error_name() is the stream's error name, source() the host.
class StreamError : public Error {
 public:
  StreamError(std::string source, std::string error_name, std::string message)
      : Error(source + ": " + error_name + (message.empty() ? "" : ": " + message)),
        source_(std::move(source)),
        error_name_(std::move(error_name)),
        message_(std::move(message)) {}
  const std::string& source() const noexcept { return source_; }
  const std::string& error_name() const noexcept { return error_name_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string source_, error_name_, message_;
};

// The discovery catalogue's SQLite file could not be used: `operation()` says
// what was being done ("open", "apply", "search", …), `sqlite_message()` is
// SQLite's text (empty for our own checks, e.g. a newer file format), and
// `code()` SQLite's extended result code (0 when not from SQLite).
class CatalogueError : public Error {
 public:
  CatalogueError(std::string operation, std::string sqlite_message, const std::string& what, int code = 0)
      : Error("catalogue " + operation + ": " + what + (sqlite_message.empty() ? "" : ": " + sqlite_message)),
        operation_(std::move(operation)),
        sqlite_message_(std::move(sqlite_message)),
        code_(code) {}
  const std::string& operation() const noexcept { return operation_; }
  const std::string& sqlite_message() const noexcept { return sqlite_message_; }
  int code() const noexcept { return code_; }

 private:
  std::string operation_, sqlite_message_;
  int code_;
};

// Nothing in an index answers to a reference or name (Python atdata raises
// KeyError): `kind()` is "dataset" or "schema", `ref()` what was asked for.
class NotFound : public Error {
 public:
  NotFound(std::string kind, std::string ref, const std::string& what)
      : Error(what), kind_(std::move(kind)), ref_(std::move(ref)) {}
  const std::string& kind() const noexcept { return kind_; }
  const std::string& ref() const noexcept { return ref_; }

 private:
  std::string kind_, ref_;
};

// The local dataset index could not be used: `operation()` says what was being
// done ("open", "insert", "list", …), `backend()` is "sqlite" or "redis",
// `code()` SQLite's extended result code (0 otherwise). Entries the index
// cannot decode are skipped by listings and reported, not thrown.
class LocalIndexError : public Error {
 public:
  LocalIndexError(std::string operation, std::string backend, const std::string& what, int code = 0)
      : Error("local index (" + backend + ") " + operation + ": " + what),
        operation_(std::move(operation)),
        backend_(std::move(backend)),
        code_(code) {}
  const std::string& operation() const noexcept { return operation_; }
  const std::string& backend() const noexcept { return backend_; }
  int code() const noexcept { return code_; }

 private:
  std::string operation_, backend_;
  int code_;
};

}  // namespace atdata
