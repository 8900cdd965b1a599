#include "atdata/dataset/shard_opener.hpp"

#include <map>
#include <mutex>

#include "atdata/dataset/s3_shards.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "atdata/net/http_client.hpp"
#include "atdata/net/s3.hpp"

namespace atdata {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, ShardOpener> openers;
};
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_shard_scheme(const std::string& scheme, ShardOpener opener) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.openers[scheme] = std::move(opener);
}

ByteSourcePtr open_shard(const ShardContext& shard) {
  const std::string& url = shard.url;
  if (url == "-") return open_file_source("-", url);
  std::string scheme = url_scheme(url);
  if (scheme.empty()) return open_file_source(url, url);
  if (scheme == "file") return open_file_source(file_url_to_path(url), url);
  ShardOpener opener;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    if (auto it = r.openers.find(scheme); it != r.openers.end()) opener = it->second;
  }
  if (opener) return opener(shard);
  if (scheme == "http" || scheme == "https" || scheme == "s3") {
    auto http = net::client_on(shard.http, shard.executor);
    net::HttpSourceOptions source;
    source.max_resume_attempts = shard.max_resumes;
    source.resume_backoff = shard.resume_backoff;
    if (scheme == "s3")
      return net::open_s3_source(std::move(http), default_s3_config(), url, std::move(source));
    return net::open_http_source(std::move(http), url, std::move(source));
  }
  throw ShardError(url, 0, "no handler for URL scheme '" + scheme + "'");
}

}  // namespace atdata
