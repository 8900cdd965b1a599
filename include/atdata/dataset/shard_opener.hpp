#pragma once
// Maps a shard URL to a ByteSource (docs/format.md, "Shard URLs"). Plain paths, "file:"
// URLs, "-" (stdin), http(s):// (streaming GET through the loader's
// HttpClient; non-2xx → HttpError) and s3://bucket/key (the same streaming
// GET, SigV4-signed with default_s3_config() from dataset/s3_shards.hpp;
// non-2xx → net::S3Error) are built in; other schemes (ATProto blobs, …) are
// added with register_shard_scheme or per dataset with
// DatasetOptions::opener, so the dataset code stays independent of how bytes
// arrive.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "atdata/io/asio_build.hpp"
#include "atdata/io/byte_source.hpp"

namespace atdata {

namespace net {
class HttpClient;
}

// What an opener is given. Not an aggregate (see docs/gcc12.md).
class ShardContext {
 public:
  ShardContext(std::string url_, asio::any_io_executor executor_, std::shared_ptr<net::HttpClient> http_ = {})
      : url(std::move(url_)), executor(std::move(executor_)), http(std::move(http_)) {}

  std::string url;
  // The executor the loader runs on: network sources bind their sockets to it.
  asio::any_io_executor executor;
  // The loader's HTTP client (bound to `executor`), shared by all its shards;
  // null only when a caller opens a shard by hand without one.
  std::shared_ptr<net::HttpClient> http;
  // How often a network source may resume a broken transfer by itself (HTTP
  // Range from the last byte), and the first delay (doubled each time). The
  // loader sets them from its retry budget, so that all attempts together
  // stay within PrefetchOptions::max_retries.
  int max_resumes = 3;
  std::chrono::milliseconds resume_backoff{200};
};

// Opens one shard. Errors: ShardError / NetworkError / HttpError naming the URL.
using ShardOpener = std::function<ByteSourcePtr(const ShardContext& shard)>;

// Registers (or replaces) the opener for a lower-case URL scheme, process-wide.
void register_shard_scheme(const std::string& scheme, ShardOpener opener);

// The default opener: local paths and file: URLs, then registered schemes
// (a registered "s3" replaces the built-in one), then http(s) and s3 through
// `shard.http` (a client of its own when null), resuming a broken transfer
// with Range up to shard.max_resumes times; anything else → ShardError
// "<url>: no handler for URL scheme 'gs'".
ByteSourcePtr open_shard(const ShardContext& shard);

}  // namespace atdata
