#pragma once
// Shared by the atmosphere_* real-PDS suites: a logged-in client per account,
// the FeatureSample type of Python atdata's complete example, and shard writing.

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/typed_ndarray.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/io/tar_writer.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::test {

struct FeatureSample {
  NDArrayOf<float> features;
  std::int64_t label = 0;
  std::string source;
  std::vector<std::string> tags;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source, tags, note))

// Deterministic sample i: features[j] = i + j/8, label i % 10, tags by parity.
inline FeatureSample feature_sample(std::size_t i) {
  FeatureSample s;
  std::vector<float> f(8);
  for (std::size_t j = 0; j < f.size(); ++j) f[j] = static_cast<float>(i) + static_cast<float>(j) / 8.0f;
  s.features = NDArray::from_span(std::span<const float>(f));
  s.label = static_cast<std::int64_t>(i % 10);
  s.source = "synthetic-" + std::to_string(i);
  s.tags = {i % 2 ? "odd" : "even"};
  if (i % 3 == 0) s.note = "third";
  return s;
}

// A fresh temporary directory, removed at destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("atdata-atmo-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Writes samples 0..n-1 into shards of `per_shard` samples; returns their paths.
inline std::vector<std::string> write_feature_shards(const std::filesystem::path& dir, std::size_t n,
                                                     std::size_t per_shard) {
  ShardWriterOptions o;
  o.maxcount = per_shard;
  ShardWriter w((dir / "features-%06d.tar").string(), o);
  for (std::size_t i = 0; i < n; ++i) write_sample(w, feature_sample(i));
  w.close();
  return w.shards();
}

struct Account {
  boost::asio::io_context io;
  atproto::AtmosphereClient client;
  explicit Account(const std::string& name) : client(io.get_executor(), PdsEnv::get().client_options()) {
    const auto& a = PdsEnv::get().accounts.at(name);
    run_io(io, client.login(a.handle, a.password));
  }
  template <class T>
  T run(boost::asio::awaitable<T> aw) {
    return run_io(io, std::move(aw));
  }
};

}  // namespace atdata::test
