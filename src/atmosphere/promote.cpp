#include "atdata/atmosphere/promote.hpp"

#include <boost/asio/this_coro.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include "atdata/atproto/cid.hpp"
#include "atdata/dataset/shard_opener.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"
#include "atdata/net/http_client.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace atdata::atmosphere {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// A shard downloaded for upload, with the CID the PDS will give its blob.
struct Downloaded {
  std::string path;
  std::string cid;
};

// Removes the downloaded files however promotion ends.
class ScratchFiles {
 public:
  ScratchFiles() = default;
  ScratchFiles(const ScratchFiles&) = delete;
  ScratchFiles& operator=(const ScratchFiles&) = delete;
  ~ScratchFiles() {
    std::error_code ec;
    for (const auto& p : paths_) fs::remove(p, ec);
    if (!dir_.empty()) fs::remove(dir_, ec);
  }
  fs::path make_dir(const std::string& base) {
    std::random_device rd;
    const fs::path root = base.empty() ? fs::temp_directory_path() : fs::path(base);
    dir_ = root / ("atdata-promote-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir_);
    return dir_;
  }
  void add(std::string p) { paths_.push_back(std::move(p)); }

 private:
  fs::path dir_;
  std::vector<std::string> paths_;
};

asio::awaitable<Downloaded> download(const std::string& url, const fs::path& path,
                                     std::shared_ptr<net::HttpClient> http) {
  auto ex = co_await asio::this_coro::executor;
  ShardContext ctx(url, ex, std::move(http));
  ByteSourcePtr src = open_shard(ctx);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw ShardError(path.string(), 0, "cannot create a scratch file for the upload");
  atproto::Sha256 hash;
  std::uint64_t total = 0;
  for (;;) {
    SharedBytes chunk = co_await src->next_chunk();
    if (chunk.empty()) break;
    hash.update(chunk.span());
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size()));
    if (!out) throw ShardError(path.string(), total, "cannot write the scratch file (disk full?)");
    total += chunk.size();
  }
  out.close();
  if (!out) throw ShardError(path.string(), total, "cannot write the scratch file (disk full?)");
  Downloaded d;
  d.path = path.string();
  d.cid = atproto::cid_v1_sha256(atproto::kCodecRaw, hash.finish());
  co_return d;
}

bool same_fields(const SchemaRecord& a, const SchemaRecord& b) {
  return a.name == b.name && a.version == b.version && a.fields == b.fields;
}

}  // namespace

asio::awaitable<PromoteResult> promote(LocalDatasetEntry entry, LocalIndex& local,
                                       AtmosphereIndex& atmosphere, PromoteOptions options) {
  if (entry.data_urls().empty()) {
    throw InvalidArgument("Local entry '" + entry.name() + "' has no data URLs");
  }
  SchemaRecord schema = co_await local.get_schema(entry.schema_ref());

  DatasetPublishOptions dopts(options.name.empty() ? entry.name() : options.name);
  dopts.description = options.description;
  dopts.tags = options.tags;
  dopts.license = options.license;
  dopts.metadata = entry.metadata();
  dopts.max_in_flight = options.max_in_flight;
  std::vector<std::string> shard_urls;
  if (options.blobs) {
    for (const std::string& pattern : entry.data_urls()) {
      for (std::string& url : expand_urls(pattern)) shard_urls.push_back(std::move(url));
    }
  }
  {
    // Before anything is written: a record the PDS would refuse leaves nothing behind.
    DatasetRecord draft = DatasetPublisher::make_record(std::string(), dopts);
    std::optional<std::size_t> pending;
    if (options.blobs) {
      pending = shard_urls.size();
    } else {
      draft.storage = StorageLocation::external(entry.data_urls());
    }
    DatasetPublisher::check_draft(std::move(draft), pending);
  }

  // Shards first (for blobs): their CIDs also tell whether this promotion ran before.
  ScratchFiles scratch;
  std::vector<Downloaded> shards;
  if (options.blobs) {
    std::shared_ptr<net::HttpClient> http = options.http ? options.http : atmosphere.client().http();
    const fs::path dir = scratch.make_dir(options.scratch_dir);
    for (std::size_t i = 0; i < shard_urls.size(); ++i) {
      const fs::path p = dir / ("shard-" + std::to_string(i) + ".tar");
      scratch.add(p.string());
      Downloaded d = co_await download(shard_urls[i], p, http);
      shards.push_back(std::move(d));
    }
  }

  PromoteResult result;
  std::vector<Listed<SchemaRecord>> existing_schemas = co_await atmosphere.list_schemas();
  for (const auto& s : existing_schemas) {
    if (same_fields(s.record(), schema)) {
      result.schema = s.uri();
      result.schema_reused = true;
      break;
    }
  }

  if (result.schema_reused) {
    std::vector<AtmosphereIndexEntry> datasets = co_await atmosphere.list_datasets();
    for (const auto& d : datasets) {
      const DatasetRecord& r = d.record();
      if (r.name != dopts.name || r.schema_ref != result.schema.str()) continue;
      bool same = false;
      if (!options.blobs) {
        same = r.storage.kind == StorageLocation::Kind::external && r.storage.urls == entry.data_urls();
      } else if (r.storage.kind == StorageLocation::Kind::blobs && r.storage.blobs.size() == shards.size()) {
        same = true;
        for (std::size_t k = 0; k < shards.size(); ++k)
          same = same && r.storage.blobs[k].cid() == shards[k].cid;
      }
      if (same) {
        result.dataset = d.uri();
        result.dataset_reused = true;
        co_return result;
      }
    }
  } else {
    // From the stored record, so field types (ndarray dtypes) stay as the
    // local index has them.
    schema.created_at = now_utc();
    result.schema = co_await atmosphere.schema_publisher().publish_record(std::move(schema));
  }

  if (options.blobs) {
    std::vector<std::string> paths;
    paths.reserve(shards.size());
    for (const auto& s : shards) paths.push_back(s.path);
    result.dataset = co_await atmosphere.dataset_publisher().publish_with_blob_files(
        std::move(paths), result.schema, std::move(dopts));
  } else {
    std::vector<std::string> urls = entry.data_urls();
    result.dataset = co_await atmosphere.dataset_publisher().publish_with_urls(std::move(urls), result.schema,
                                                                               std::move(dopts));
  }
  co_return result;
}

}  // namespace atdata::atmosphere
