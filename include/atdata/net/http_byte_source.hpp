#pragma once
// HttpByteSource: an http(s) URL as an io ByteSource, so the shard reader
// streams a remote tar exactly like a local file. The GET is sent on the first
// next_chunk() (openers are synchronous); the body then arrives in
// SharedBytes chunks of HttpClientOptions::body_chunk_bytes, never whole.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "atdata/io/asio_build.hpp"
#include "atdata/io/byte_source.hpp"
#include "atdata/net/http_client.hpp"

namespace atdata::net {

struct HttpSourceOptions {
  // Extra request headers (e.g. Authorization for a private blob store).
  HttpHeaders headers;
  // A body interrupted by a transport failure (reset, stall, truncation) is
  // resumed with `Range: bytes=<offset>-` guarded by If-Range on the first
  // response's ETag / Last-Modified, at most this many times per source.
  // 0 disables resuming. Responses without a validator are never resumed:
  // splicing two different versions of a shard would corrupt it silently.
  int max_resume_attempts = 3;
  std::chrono::milliseconds resume_backoff{200};  // doubled after each attempt
  // Called with every request the source sends (the first GET and each
  // Range resume, whose Range / If-Range are already set), just before it is
  // sent: request signatures that cover the headers and expire (S3's SigV4)
  // must be computed afresh for each of them.
  std::function<void(HttpRequest&)> prepare;
  // Called with a non-2xx response instead of throwing the generic HttpError,
  // to throw an error of the service's own (e.g. S3Error parsed from the XML
  // body). If it returns, the generic HttpError is thrown.
  std::function<asio::awaitable<void>(HttpResponseStream&)> on_error;
  // What url() reports and errors name, when it is not the request URL
  // (an s3:// URL fetched over https).
  std::string name;
};

class HttpByteSource final : public ByteSource {
 public:
  HttpByteSource(std::shared_ptr<HttpClient> client, std::string url, HttpSourceOptions options = {});
  ~HttpByteSource() override;

  // Throws HttpError for a non-2xx answer, NetworkError naming the URL and
  // the absolute byte offset when the body cannot be completed.
  asio::awaitable<SharedBytes> next_chunk() override;
  const std::string& url() const noexcept override { return url_; }
  std::optional<std::uint64_t> size_hint() const noexcept override { return size_; }
  std::optional<std::string> validator() const noexcept override;

  int resumes() const noexcept override { return resumes_; }

 private:
  asio::awaitable<void> start(std::uint64_t offset);
  asio::awaitable<void> throw_if_error();

  std::shared_ptr<HttpClient> client_;
  std::string url_;  // the name: options.name or the request URL
  std::string request_url_;
  HttpSourceOptions options_;
  HttpResponseStream stream_;
  bool started_ = false;
  bool finished_ = false;
  std::uint64_t offset_ = 0;  // absolute body bytes delivered
  std::optional<std::uint64_t> size_;
  std::string validator_;  // strong ETag or Last-Modified of the first response
  int resumes_ = 0;
};

ByteSourcePtr open_http_source(std::shared_ptr<HttpClient> client, std::string url,
                               HttpSourceOptions options = {});

}  // namespace atdata::net
