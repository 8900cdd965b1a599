#include "atdata/atmosphere/dataset_loading.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/url/parse.hpp>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "atdata/net/http_byte_source.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kGetBlobPath = "/xrpc/com.atproto.sync.getBlob";

// A getBlob download as a ByteSource that checks that the bytes hash to the blob's CID (a PDS or proxy
// serving other bytes fails loudly instead of feeding them to training).
class BlobByteSource final : public ByteSource {
 public:
  BlobByteSource(ByteSourcePtr inner, atproto::BlobCidCheck check)
      : inner_(std::move(inner)), check_(std::move(check)) {}

  // The check must come before the last bytes are handed out: a tar reader
  // stops at the end-of-archive blocks and may never ask for the end of the
  // stream. With a Content-Length the last chunk is known when it arrives;
  // without one, each chunk is held back until the next one has arrived.
  asio::awaitable<SharedBytes> next_chunk() override {
    if (finished_ && ahead_.empty()) co_return SharedBytes{};
    // (Plain statements around co_await: GCC 12 miscompiles co_await inside
    // a conditional expression.)
    SharedBytes chunk;
    if (ahead_.empty()) {
      chunk = co_await pull();
    } else {
      chunk = std::move(ahead_);
      ahead_ = SharedBytes{};
    }
    if (chunk.empty() || finished_) co_return chunk;
    if (!inner_->size_hint()) {
      SharedBytes next = co_await pull();
      ahead_ = std::move(next);
    }
    co_return chunk;
  }
  const std::string& url() const noexcept override { return inner_->url(); }
  std::optional<std::uint64_t> size_hint() const noexcept override { return inner_->size_hint(); }
  std::optional<std::string> validator() const noexcept override { return inner_->validator(); }
  int resumes() const noexcept override { return inner_->resumes(); }

 private:
  // The next chunk of the inner stream; verifies the CID once all bytes are in.
  asio::awaitable<SharedBytes> pull() {
    SharedBytes chunk = co_await inner_->next_chunk();
    check_.update(chunk.span());
    const auto size = inner_->size_hint();
    if (chunk.empty() || (size && check_.bytes() >= *size)) {
      finished_ = true;
      if (auto m = check_.mismatch(); !m.empty()) throw ShardError(inner_->url(), check_.bytes(), m);
    }
    co_return chunk;
  }

  ByteSourcePtr inner_;
  atproto::BlobCidCheck check_;
  SharedBytes ahead_;
  bool finished_ = false;
};

// did and cid of a ".../xrpc/com.atproto.sync.getBlob?did=…&cid=…" URL.
bool parse_blob_url(const std::string& url, std::string& did, std::string& cid) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->path().ends_with(kGetBlobPath)) return false;
  auto params = u->params();
  auto d = params.find("did");
  auto c = params.find("cid");
  if (d == params.end() || c == params.end()) return false;
  did = (*d).value;
  cid = (*c).value;
  return !did.empty() && !cid.empty();
}

}  // namespace

ShardOpener blob_shard_opener(atproto::AtmosphereClient& client, ShardOpener fallback) {
  // getBlob is public and the URL already names the owner's PDS, so blobs
  // stream over plain HTTP through the loader's client (the AtmosphereClient's
  // own when the loader runs on its executor, see dataset_source).
  net::HttpClientOptions http_options = client.options().http;
  return [http_options = std::move(http_options),
          fallback = std::move(fallback)](const ShardContext& shard) -> ByteSourcePtr {
    std::string did, cid;
    if (!parse_blob_url(shard.url, did, cid)) return fallback ? fallback(shard) : open_shard(shard);
    auto check = atproto::BlobCidCheck::for_cid(cid);
    if (!check) {
      throw ShardError(shard.url, 0, "not a raw sha2-256 CIDv1 (bafkrei…): '" + cid.substr(0, 100) + "'");
    }
    auto http = shard.http ? shard.http : std::make_shared<net::HttpClient>(shard.executor, http_options);
    return std::make_unique<BlobByteSource>(net::open_http_source(std::move(http), shard.url),
                                            std::move(*check));
  };
}

std::string join_shard_urls(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) {
    if (!out.empty()) out += "::";
    out += u;
  }
  return out;
}

asio::awaitable<DatasetSource> dataset_source(atproto::AtmosphereClient& client, AtUri uri,
                                              DatasetOptions options) {
  DatasetLoader loader(client);
  DatasetSource src;
  src.record = co_await loader.get(uri);
  auto urls = co_await loader.get_shard_urls(std::move(uri), src.record);
  src.url = join_shard_urls(urls);
  src.options = std::move(options);
  // The record's metadataUrl becomes the dataset's, as in Python's to_dataset.
  if (src.options.metadata_url.empty()) src.options.metadata_url = src.record.metadata_url;
  src.options.opener = blob_shard_opener(client, std::move(src.options.opener));
  if (!src.options.http) src.options.http = client.http();
  co_return src;
}

}  // namespace atdata::atmosphere
