#pragma once
// s3:// shards in the dataset layer: the S3 configuration open_shard uses for
// s3:// URLs, and writing shards to a bucket the way the Python peer names
// them (s3://<bucket>/<prefix>/data--<uuid4>--%06d.tar).
//
// Writing goes through the local disk on purpose: ShardWriter writes each
// shard to a private temporary directory; once the shard is closed it is
// uploaded with S3Client::upload_file (multipart when large, one part in
// memory at a time) and deleted. Memory stays bounded by the part size
// whatever the shard size, and at most the shards not yet uploaded occupy
// disk.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/core/detail/chained_options.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/io/tar_writer.hpp"
#include "atdata/net/s3.hpp"

namespace atdata {

// Replaces, process-wide, the configuration open_shard uses for s3:// URLs.
// Until called, it is net::S3Config::from_environment(), computed once on
// first use.
void set_default_s3_config(net::S3Config config);
// The configuration open_shard uses for s3:// URLs now.
net::S3Config default_s3_config();

class S3ShardUploadOptions : public detail::ChainedOptions<S3ShardUploadOptions> {
 public:
  S3ShardUploadOptions() = default;

  // Multipart part size (S3Client::upload_file); one part is in memory at a time.
  std::uint64_t part_bytes = 8ull << 20;
  // Where the private temporary directory is made; empty = the system's
  // temporary directory.
  std::string local_dir;
  // Shard name extension; ".tar.gz", ".tar.zst", … compress (by file name,
  // as ShardWriter does).
  std::string extension = ".tar";

  S3ShardUploadOptions&& with_part_bytes(std::uint64_t v) && { return set(part_bytes, v); }
  S3ShardUploadOptions&& with_local_dir(std::string v) && { return set(local_dir, std::move(v)); }
  S3ShardUploadOptions&& with_extension(std::string v) && { return set(extension, std::move(v)); }
};

// Uploads the shards a ShardWriter closes to "<s3_prefix>/data--<uuid4>--%06d<ext>".
//
//   S3ShardUploader up(client, "s3://bucket/runs/7");
//   ShardWriter w(up.pattern(), up.writer_options());
//   for (…) { write_sample(w, s); if (up.pending()) co_await up.upload_pending(); }
//   w.close();
//   co_await up.upload_pending();
//   up.urls();  // s3:// URLs in shard order
//
// on_shard_closed only queues (ShardWriter calls it synchronously, where
// nothing can be awaited); upload_pending() uploads the queue in order,
// deleting each local file once it is stored. For code without coroutines,
// write_shards_to_s3 below does the same blocking.
class S3ShardUploader {
 public:
  // `s3_prefix` is "s3://bucket" or "s3://bucket/prefix" (a trailing '/' is
  // ignored). Creates the temporary directory now.
  S3ShardUploader(std::shared_ptr<net::S3Client> client, std::string s3_prefix,
                  S3ShardUploadOptions options = {});
  // Removes the temporary directory with any shard not uploaded.
  ~S3ShardUploader();
  S3ShardUploader(const S3ShardUploader&) = delete;
  S3ShardUploader& operator=(const S3ShardUploader&) = delete;

  // The local printf pattern to give ShardWriter.
  const std::string& pattern() const noexcept;
  // `base` with on_shard_closed set to queue the shard (a callback already in
  // `base` runs first).
  ShardWriterOptions writer_options(ShardWriterOptions base = {}) const;
  // The callback alone, for ShardWriterOptions::on_shard_closed.
  std::function<void(const std::string&)> on_shard_closed() const;

  // Uploads every queued shard, in order; returns the URLs uploaded by this
  // call. A failure (S3Error, NetworkError) leaves the failed shard and those
  // after it queued, so a later call retries them.
  asio::awaitable<std::vector<std::string>> upload_pending();
  std::size_t pending() const noexcept;
  // Every URL uploaded so far, in shard order.
  const std::vector<std::string>& urls() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Blocking: runs `write` with a ShardWriter whose shards are uploaded under
// `s3_prefix` as soon as each is closed (on a private io_context and
// HttpClient), and returns their s3:// URLs in shard order.
std::vector<std::string> write_shards_to_s3(net::S3Config config, std::string s3_prefix,
                                            const std::function<void(ShardWriter&)>& write,
                                            ShardWriterOptions options = {},
                                            S3ShardUploadOptions upload = {});

}  // namespace atdata
