#pragma once
// AWS Signature Version 4 as pure functions: no clock, no I/O, no Asio. The
// S3 client (net/s3.hpp) builds on them; keeping them free of both means the
// published test vectors pin every step (canonical request, string to sign,
// signing key, signature) independently of any server.
//
// The canonicalisation is S3's: the path is percent-encoded once (S3 does not
// double-encode it and does not resolve "." / ".." segments, unlike the other
// services), so a key such as "a b/c+d" is signed as "/a%20b/c%2Bd".

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atdata::net {

// Credentials for one signer. Not an aggregate (docs/gcc12.md). The secret
// and the session token never appear in any message or exception.
class AwsCredentials {
 public:
  AwsCredentials() = default;
  AwsCredentials(std::string access_key_id_, std::string secret_access_key_, std::string session_token_ = {})
      : access_key_id(std::move(access_key_id_)),
        secret_access_key(std::move(secret_access_key_)),
        session_token(std::move(session_token_)) {}

  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (STS) only

  bool empty() const noexcept { return access_key_id.empty(); }
};

namespace sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

using Digest = std::array<unsigned char, 32>;

// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(const Digest& d);

// RFC 3986 percent-encoding of every byte except A-Z a-z 0-9 - . _ ~ (and
// '/', when `keep_slash`), with upper-case hex, as SigV4 requires.
std::string uri_encode(std::string_view s, bool keep_slash);
// Percent-decoding ('+' stays '+'); malformed escapes are kept literally.
std::string uri_decode(std::string_view s);

// "20130524T000000Z" (ISO 8601 basic, UTC, whole seconds).
std::string amz_date(std::chrono::system_clock::time_point t);

// The request as signing sees it. `target` is the path and query exactly as
// they go on the wire (percent-encoded); they are decoded and re-encoded
// canonically, so "/a%2b" and "/a+" sign the same as S3 sees them.
// `headers` are the headers to sign (Host included); `payload_hash` is the
// hex SHA-256 of the body or UNSIGNED-PAYLOAD.
class Request {
 public:
  Request() = default;
  Request(std::string method_, std::string target_, std::vector<std::pair<std::string, std::string>> headers_,
          std::string payload_hash_ = std::string(kEmptyPayloadHash))
      : method(std::move(method_)),
        target(std::move(target_)),
        headers(std::move(headers_)),
        payload_hash(std::move(payload_hash_)) {}

  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash = std::string(kEmptyPayloadHash);
};

// Where and when a signature is valid. Not an aggregate (docs/gcc12.md).
class Scope {
 public:
  Scope() = default;
  Scope(std::string region_, std::string service_, std::chrono::system_clock::time_point time_)
      : region(std::move(region_)), service(std::move(service_)), time(time_) {}

  std::string region = "us-east-1";
  std::string service = "s3";
  std::chrono::system_clock::time_point time;

  std::string date() const;      // "20130524"
  std::string datetime() const;  // "20130524T000000Z"
  // "20130524/us-east-1/s3/aws4_request"
  std::string credential_scope() const;
};

// Canonical path of a wire path ("/" for an empty one).
std::string canonical_uri(std::string_view path);
// Canonical query of a wire query (without '?'): pairs encoded, then sorted by
// name and value; a parameter without '=' gets an empty value ("uploads=").
std::string canonical_query(std::string_view query);
// "host;range;x-amz-date": lower-case names, sorted, duplicates once.
std::string signed_headers(const std::vector<std::pair<std::string, std::string>>& headers);
// The six-line canonical request.
std::string canonical_request(const Request& req);
std::string string_to_sign(const Scope& scope, std::string_view canonical_request);
// HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
Digest signing_key(std::string_view secret_access_key, const Scope& scope);
// Lower-case hex HMAC of the string to sign.
std::string signature(const Digest& signing_key, std::string_view string_to_sign);

// Every intermediate value of one signature, for tests and for debugging a
// SignatureDoesNotMatch answer (none of them contains the secret).
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;  // the Authorization header value
};

// Signs `req` as it is (its headers must already hold X-Amz-Date and, for
// temporary credentials, X-Amz-Security-Token: sign_headers() adds them).
Signed sign(const Request& req, const AwsCredentials& credentials, const Scope& scope);

// Header-based authentication for one request: adds X-Amz-Date,
// X-Amz-Content-Sha256 (when `content_sha256_header`, as S3 requires),
// X-Amz-Security-Token (with a session token) to `req.headers`, signs all of
// `req.headers`, and returns the result whose `authorization` the caller sends
// as the Authorization header.
Signed sign_headers(Request& req, const AwsCredentials& credentials, const Scope& scope,
                    bool content_sha256_header = true);

// Query-string authentication (a presigned URL): `url` is
// "scheme://host[:port]/path[?query]" as it will be requested (the signed
// Host is its authority, without a default port). Returns it with
// X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders (host),
// -Security-Token (with a session token) and -Signature appended. The
// payload is UNSIGNED-PAYLOAD, as for every S3 presigned URL. Throws
// InvalidArgument for a URL without scheme and host, or `expires` outside
// 1 s .. 7 days (S3's limits).
std::string presign_url(std::string_view method, std::string_view url, const AwsCredentials& credentials,
                        const Scope& scope, std::chrono::seconds expires);

}  // namespace sigv4
}  // namespace atdata::net
