#include "atdata/dataset/s3_shards.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>

#include "atdata/error.hpp"
#include "atdata/io/blocking.hpp"

namespace atdata {

namespace fs = std::filesystem;

namespace {

struct DefaultConfig {
  std::mutex mu;
  std::optional<net::S3Config> config;
};
DefaultConfig& default_config() {
  static DefaultConfig d;
  return d;
}

// Python's uuid.uuid4(): 122 random bits, version 4, RFC 4122 variant.
std::string uuid4() {
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::uint64_t hi, lo;
  {
    std::lock_guard lock(mu);
    hi = gen();
    lo = gen();
  }
  hi = (hi & ~0xF000ull) | 0x4000ull;
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace

void set_default_s3_config(net::S3Config config) {
  DefaultConfig& d = default_config();
  std::lock_guard lock(d.mu);
  d.config = std::move(config);
}

net::S3Config default_s3_config() {
  DefaultConfig& d = default_config();
  std::lock_guard lock(d.mu);
  // Lazily: reading the environment and ~/.aws/credentials is only worth it
  // for a process that opens an s3:// URL at all.
  if (!d.config) d.config = net::S3Config::from_environment();
  return *d.config;
}

struct S3ShardUploader::State {
  std::shared_ptr<net::S3Client> client;
  std::string bucket, prefix;  // prefix without trailing '/', may be empty
  S3ShardUploadOptions options;
  fs::path dir;
  std::string pattern;
  std::mutex mu;  // the queue is filled by ShardWriter, maybe on another thread
  std::deque<std::string> queue;
  std::vector<std::string> urls;
};

S3ShardUploader::S3ShardUploader(std::shared_ptr<net::S3Client> client, std::string s3_prefix,
                                 S3ShardUploadOptions options)
    : state_(std::make_shared<State>()) {
  if (!client) throw InvalidArgument("S3ShardUploader needs an S3Client");
  net::S3Location loc = net::parse_s3_url(s3_prefix);
  while (!loc.key.empty() && loc.key.back() == '/') loc.key.pop_back();
  State& s = *state_;
  s.client = std::move(client);
  s.bucket = std::move(loc.bucket);
  s.prefix = std::move(loc.key);
  s.options = std::move(options);
  const fs::path base =
      s.options.local_dir.empty() ? fs::temp_directory_path() : fs::path(s.options.local_dir);
  const std::string id = uuid4();
  s.dir = base / ("atdata-s3-" + id);
  std::error_code ec;
  fs::create_directories(s.dir, ec);
  if (ec) throw Error("S3ShardUploader: cannot create " + s.dir.string() + ": " + ec.message());
  s.pattern = (s.dir / ("data--" + id + "--%06d" + s.options.extension)).string();
}

S3ShardUploader::~S3ShardUploader() {
  std::error_code ec;
  fs::remove_all(state_->dir, ec);
}

const std::string& S3ShardUploader::pattern() const noexcept {
  return state_->pattern;
}

std::function<void(const std::string&)> S3ShardUploader::on_shard_closed() const {
  return [state = state_](const std::string& path) {
    std::lock_guard lock(state->mu);
    state->queue.push_back(path);
  };
}

ShardWriterOptions S3ShardUploader::writer_options(ShardWriterOptions base) const {
  auto queue = on_shard_closed();
  if (base.on_shard_closed) {
    base.on_shard_closed = [first = std::move(base.on_shard_closed), queue](const std::string& path) {
      first(path);
      queue(path);
    };
  } else {
    base.on_shard_closed = std::move(queue);
  }
  return base;
}

std::size_t S3ShardUploader::pending() const noexcept {
  std::lock_guard lock(state_->mu);
  return state_->queue.size();
}

const std::vector<std::string>& S3ShardUploader::urls() const noexcept {
  return state_->urls;
}

asio::awaitable<std::vector<std::string>> S3ShardUploader::upload_pending() {
  std::shared_ptr<State> s = state_;
  std::vector<std::string> done;
  for (;;) {
    std::string path;
    {
      std::lock_guard lock(s->mu);
      if (s->queue.empty()) break;
      path = s->queue.front();
    }
    const std::string name = fs::path(path).filename().string();
    const std::string key = s->prefix.empty() ? name : s->prefix + "/" + name;
    co_await s->client->upload_file(s->bucket, key, path, s->options.part_bytes);
    {
      std::lock_guard lock(s->mu);
      s->queue.pop_front();
    }
    std::error_code ec;
    fs::remove(path, ec);  // uploaded; a leftover file is removed with the directory
    std::string url = "s3://" + s->bucket + "/" + key;
    s->urls.push_back(url);
    done.push_back(std::move(url));
  }
  co_return done;
}

std::vector<std::string> write_shards_to_s3(net::S3Config config, std::string s3_prefix,
                                            const std::function<void(ShardWriter&)>& write,
                                            ShardWriterOptions options, S3ShardUploadOptions upload) {
  asio::io_context io;
  auto http = std::make_shared<net::HttpClient>(io.get_executor());
  auto client = std::make_shared<net::S3Client>(std::move(http), std::move(config));
  S3ShardUploader uploader(client, std::move(s3_prefix), std::move(upload));
  ShardWriterOptions o = uploader.writer_options(std::move(options));
  // Upload each shard as soon as it is closed: local disk then holds one
  // shard at a time.
  // A shard left open by a failing `write` is not uploaded (half a shard
  // would read as a complete, shorter one).
  bool abandon = false;
  o.on_shard_closed = [queue = std::move(o.on_shard_closed), &io, &uploader,
                       &abandon](const std::string& path) {
    if (abandon) return;
    queue(path);
    run_blocking(io, uploader.upload_pending());
  };
  {
    ShardWriter writer(uploader.pattern(), std::move(o));
    try {
      write(writer);
    } catch (...) {
      abandon = true;
      throw;
    }
    writer.close();
  }
  run_blocking(io, uploader.upload_pending());
  return uploader.urls();
}

}  // namespace atdata
