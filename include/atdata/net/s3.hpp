#pragma once
// S3 (and S3-compatible stores: MinIO, R2, Ceph, …) over the library's own
// HttpClient, signed with SigV4 (net/sigv4.hpp). Only what datasets need:
// streaming GET with Range, PUT (single and multipart, bounded memory),
// HEAD, ListObjectsV2 and DELETE. An s3:// shard URL becomes a ByteSource
// through open_s3_source, resumable exactly like an http(s) one.
//
// Secrets never appear in a message: errors name the access key id at most.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/error.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/io/byte_source.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "atdata/net/http_client.hpp"
#include "atdata/net/http_message.hpp"
#include "atdata/net/sigv4.hpp"

namespace atdata::net {

// Access key, secret and optional session token, with the usual ways of
// finding them. Not an aggregate (docs/gcc12.md).
class S3Credentials : public AwsCredentials {
 public:
  using AwsCredentials::AwsCredentials;
  S3Credentials() = default;
  S3Credentials(AwsCredentials c) : AwsCredentials(std::move(c)) {}  // NOLINT: a widening conversion

  // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; nullopt when
  // AWS_ACCESS_KEY_ID is unset. InvalidArgument when only one of the key id
  // and the secret is set.
  static std::optional<S3Credentials> from_environment();
  // The AWS CLI's INI file: `path` empty = $AWS_SHARED_CREDENTIALS_FILE or
  // ~/.aws/credentials; `profile` empty = $AWS_PROFILE or "default". nullopt
  // when the file or the profile does not exist; InvalidArgument (naming file
  // and profile) when the profile lacks aws_access_key_id or
  // aws_secret_access_key.
  static std::optional<S3Credentials> from_shared_file(std::string path = {}, std::string profile = {});
  // The Python atdata peer's credentials file: KEY=VALUE lines, optional
  // quotes and `export ` prefix, `#` comments. Needs AWS_ACCESS_KEY_ID and
  // AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN optional); InvalidArgument
  // naming a missing key or an unreadable file.
  static S3Credentials from_dotenv(const std::string& path);
  // The environment, then the shared file; nullopt = unsigned (anonymous)
  // requests, which public buckets answer.
  static std::optional<S3Credentials> resolve();
};

// How the bucket appears in request URLs.
enum class S3Addressing {
  // Virtual-host style (bucket.s3.<region>.amazonaws.com) for AWS, path style
  // (endpoint/bucket/key) for a custom endpoint, an IP address, or a bucket
  // name that is not a valid single DNS label (dots break TLS wildcards).
  automatic,
  path,
  virtual_host,
};

// Where and as whom to talk S3. Not an aggregate (docs/gcc12.md); fill the
// members of a named variable or use the chained setters.
class S3Config {
 public:
  S3Config() = default;
  explicit S3Config(std::string endpoint_, std::string region_ = "us-east-1")
      : endpoint(std::move(endpoint_)), region(std::move(region_)) {}

  // "scheme://host[:port]" of the service; empty = https://s3.<region>.amazonaws.com.
  std::string endpoint;
  // The SigV4 scope region. S3-compatible servers usually accept any.
  std::string region = "us-east-1";
  S3Addressing addressing = S3Addressing::automatic;
  // Unset: requests are sent unsigned.
  std::optional<S3Credentials> credentials;

  // endpoint from AWS_ENDPOINT_URL (or AWS_ENDPOINT), region from AWS_REGION
  // (or AWS_DEFAULT_REGION), credentials from S3Credentials::resolve().
  static S3Config from_environment();
  // The Python peer's file: AWS_ENDPOINT, AWS_ACCESS_KEY_ID and
  // AWS_SECRET_ACCESS_KEY are required (InvalidArgument naming a missing
  // one); AWS_REGION and AWS_SESSION_TOKEN are optional.
  static S3Config from_dotenv(const std::string& path);

  S3Config&& with_endpoint(std::string v) && {
    endpoint = std::move(v);
    return std::move(*this);
  }
  S3Config&& with_region(std::string v) && {
    region = std::move(v);
    return std::move(*this);
  }
  S3Config&& with_addressing(S3Addressing v) && {
    addressing = v;
    return std::move(*this);
  }
  S3Config&& with_credentials(S3Credentials v) && {
    credentials = std::move(v);
    return std::move(*this);
  }

  // The endpoint with the default filled in, without a trailing '/'.
  std::string resolved_endpoint() const;
  // Whether requests for `bucket` use path style.
  bool path_style(std::string_view bucket) const;
  // The http(s) URL of an object (key percent-encoded, '/' kept); an empty
  // key gives the bucket's URL.
  std::string object_url(std::string_view bucket, std::string_view key) const;
};

// A bucket and key. Not an aggregate (docs/gcc12.md).
class S3Location {
 public:
  S3Location() = default;
  S3Location(std::string bucket_, std::string key_) : bucket(std::move(bucket_)), key(std::move(key_)) {}
  std::string bucket;
  std::string key;  // may be empty (a bucket or a prefix)
  std::string url() const { return "s3://" + bucket + "/" + key; }
};

// "s3://bucket/key/with/slashes" (the key taken literally: no percent
// decoding, '?' and '#' belong to it). InvalidArgument for another scheme or
// an empty or invalid bucket name.
S3Location parse_s3_url(std::string_view url);

// A non-2xx S3 answer: status, the S3 error Code ("NoSuchKey",
// "SignatureDoesNotMatch", "AccessDenied", …) and Message from the XML body,
// and what it was about. It is an HttpError whose url() is the s3:// URL;
// what() reads "s3://bucket/key: 403 SignatureDoesNotMatch: <Message>".
class S3Error : public HttpError {
 public:
  S3Error(int status, std::string code, std::string message, std::string bucket, std::string key);
  const char* what() const noexcept override { return what_.c_str(); }
  const std::string& code() const noexcept { return code_; }  // empty when the body had none
  const std::string& message() const noexcept { return message_; }
  const std::string& bucket() const noexcept { return bucket_; }
  const std::string& key() const noexcept { return key_; }

 private:
  std::string code_, message_, bucket_, key_, what_;
};

// The S3Error for a response: Code and Message from an <Error> body, or,
// without one (a HEAD answer has no body), the status's usual code
// ("NoSuchKey" for a 404 on an object, "AccessDenied" for 403, …).
S3Error s3_error_from_response(int status, std::string_view body, std::string bucket, std::string key);

// An inclusive byte range of an object: [first, last], or [first, end).
class S3Range {
 public:
  explicit S3Range(std::uint64_t first_, std::optional<std::uint64_t> last_ = std::nullopt)
      : first(first_), last(last_) {}
  std::uint64_t first = 0;
  std::optional<std::uint64_t> last;
  std::string header() const;  // "bytes=first-[last]"
};

struct S3ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;           // with its quotes, as S3 sends it
  std::string last_modified;  // as S3 sends it (ISO 8601 in listings, HTTP date from HEAD)
  std::string content_type;   // HEAD only
};

struct S3CompletedPart {
  int part_number = 0;
  std::string etag;
};

class S3Client {
 public:
  S3Client(std::shared_ptr<HttpClient> http, S3Config config);

  const S3Config& config() const noexcept { return config_; }
  const std::shared_ptr<HttpClient>& http() const noexcept { return http_; }

  // Signs `req` (URL, method, headers as they are; Range included) for `now`,
  // with `payload_hash` the body's hex SHA-256 or UNSIGNED-PAYLOAD. Without
  // credentials, nothing is added. Replaces an earlier signature.
  void sign(HttpRequest& req, std::string_view payload_hash = sigv4::kEmptyPayloadHash,
            std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
  // A presigned URL (query-string authentication) for `method` on the object.
  std::string presign_url(std::string_view method, std::string_view bucket, std::string_view key,
                          std::chrono::seconds expires,
                          std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  // GET, streaming; S3Error unless 2xx (the body is then read for the error).
  boost::asio::awaitable<HttpResponseStream> open_object(std::string bucket, std::string key,
                                                         std::optional<S3Range> range = std::nullopt);
  // GET into memory; NetworkError if the body exceeds `max_bytes`.
  boost::asio::awaitable<SharedBytes> get_object(std::string bucket, std::string key,
                                                 std::uint64_t max_bytes = 64ull << 20);
  boost::asio::awaitable<S3ObjectInfo> head_object(std::string bucket, std::string key);
  // PUT; memory bodies are signed with their SHA-256, stream bodies as
  // UNSIGNED-PAYLOAD. Returns the ETag.
  boost::asio::awaitable<std::string> put_object(std::string bucket, std::string key, RequestBody body,
                                                 std::string content_type = {});
  boost::asio::awaitable<void> delete_object(std::string bucket, std::string key);
  // Every object under `prefix` (ListObjectsV2, following continuation
  // tokens), in key order; `page_size` keys per request (S3's maximum: 1000).
  boost::asio::awaitable<std::vector<S3ObjectInfo>> list_objects(std::string bucket, std::string prefix = {},
                                                                 int page_size = 1000);
  // PUT of a bucket (for test rigs and tools; most deployments create
  // buckets elsewhere). An existing bucket of ours is not an error.
  boost::asio::awaitable<void> create_bucket(std::string bucket);

  // Multipart upload. Parts are numbered from 1; all but the last must be at
  // least 5 MiB (S3's rule).
  boost::asio::awaitable<std::string> create_multipart(std::string bucket, std::string key);  // upload id
  boost::asio::awaitable<std::string> upload_part(std::string bucket, std::string key, std::string upload_id,
                                                  int part_number, RequestBody body);  // the part's ETag
  boost::asio::awaitable<std::string> complete_multipart(std::string bucket, std::string key,
                                                         std::string upload_id,
                                                         std::vector<S3CompletedPart> parts);  // ETag
  boost::asio::awaitable<void> abort_multipart(std::string bucket, std::string key, std::string upload_id);

  // Uploads a local file: one PUT when it fits in one part, else a
  // multipart upload holding one part in memory at a time, each part retried
  // (transport failures and 5xx, three attempts), the upload aborted when a
  // part fails for good. The part size is `part_bytes`, raised to S3's
  // minimum of 5 MiB and as far as needed to stay within 10000 parts.
  // Returns the ETag.
  boost::asio::awaitable<std::string> upload_file(std::string bucket, std::string key, std::string path,
                                                  std::uint64_t part_bytes = 8ull << 20);

 private:
  boost::asio::awaitable<HttpResponse> send(HttpRequest req, std::string_view payload_hash,
                                            const std::string& bucket, const std::string& key);

  std::shared_ptr<HttpClient> http_;
  S3Config config_;
};

// An s3:// URL as a ByteSource: a signed GET through `http`, url() the s3://
// URL, every request (each Range resume too) signed afresh by
// options.prepare (the caller's own prepare, if any, runs after signing), and
// non-2xx answers as S3Error.
ByteSourcePtr open_s3_source(std::shared_ptr<HttpClient> http, S3Config config, std::string s3_url,
                             HttpSourceOptions options = {});

namespace s3_detail {
// One page of a ListObjectsV2 answer.
struct ListPage {
  std::vector<S3ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;
};
ListPage parse_list_objects_v2(std::string_view xml);
// The text of the first <tag>…</tag> in xml, entities decoded; nullopt if absent.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);
// KEY=VALUE text (the dotenv form) and INI sections (the shared file form).
std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text);
std::optional<std::vector<std::pair<std::string, std::string>>> ini_section(std::string_view text,
                                                                            std::string_view section);
}  // namespace s3_detail

}  // namespace atdata::net
