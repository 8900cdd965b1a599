#include "atdata/atmosphere/dataset_loading.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/url/parse.hpp>

#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kGetBlobPath = "/xrpc/com.atproto.sync.getBlob";

// A getBlob download as a ByteSource; the request starts at the first chunk.
class BlobByteSource final : public ByteSource {
 public:
  BlobByteSource(atproto::AtmosphereClient& client, std::string url, std::string did, std::string cid)
      : client_(&client), url_(std::move(url)), did_(std::move(did)), cid_(std::move(cid)) {}

  asio::awaitable<SharedBytes> next_chunk() override {
    if (!stream_) stream_.emplace(co_await client_->open_blob(did_, cid_));
    co_return co_await stream_->next();
  }
  const std::string& url() const noexcept override { return url_; }
  std::optional<std::uint64_t> size_hint() const noexcept override {
    return stream_ ? stream_->content_length() : std::nullopt;
  }

 private:
  atproto::AtmosphereClient* client_;
  std::string url_, did_, cid_;
  std::optional<atproto::BlobStream> stream_;
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
  return [&client, fallback = std::move(fallback)](const std::string& url,
                                                   const asio::any_io_executor& ex) -> ByteSourcePtr {
    std::string did, cid;
    if (parse_blob_url(url, did, cid)) return std::make_unique<BlobByteSource>(client, url, did, cid);
    return fallback ? fallback(url, ex) : open_shard(url, ex);
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
                                              DatasetOptions base) {
  DatasetLoader loader(client);
  DatasetRecord rec = co_await loader.get(uri);
  std::string metadata_url = rec.metadata_url;
  auto urls = co_await loader.data_urls_of(std::move(uri), std::move(rec));
  DatasetSource src;
  src.url = join_shard_urls(urls);
  src.options = std::move(base);
  // The record's metadataUrl becomes the dataset's, as in the seed's to_dataset.
  if (src.options.metadata_url.empty()) src.options.metadata_url = std::move(metadata_url);
  src.options.opener = blob_shard_opener(client, std::move(src.options.opener));
  co_return src;
}

asio::awaitable<DynamicDataset> to_dynamic_dataset(atproto::AtmosphereClient& client, AtUri uri,
                                                   std::shared_ptr<const SampleSchema> schema,
                                                   DatasetOptions base) {
  if (!schema) {
    DatasetLoader loader(client);
    DatasetRecord rec = co_await loader.get(uri);
    SchemaLoader schemas(client);
    AtUri schema_uri = AtUri::parse(rec.schema_ref);
    schema = co_await schemas.decode(std::move(schema_uri));
  }
  DatasetSource src = co_await dataset_source(client, uri, std::move(base));
  co_return DynamicDataset(std::move(src.url), std::move(schema), std::move(src.options));
}

}  // namespace atdata::atmosphere
