// The S3 client against a real S3-compatible server that verifies SigV4
// (tools/s3: @20minutes/s3rver, started by the s3 ctest fixture): object
// round trips, listings with continuation tokens, multipart uploads, a 20 MiB
// object streamed through open_s3_source, shards written with ShardWriter and
// S3ShardUploader then read back by s3:// URL through Dataset, presigned
// URLs, the errors (a wrong secret, a missing key), a transfer reset by the
// fault proxy resumed with a freshly signed Range request, and `atdata cat`
// of an s3:// shard with credentials from the environment.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/s3_shards.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "atdata/net/s3.hpp"
#include "atdata/net/url.hpp"
#include "support/net_run.hpp"

namespace {

using namespace atdata;
using namespace atdata::net;
using atdata::test::run_io;
namespace fs = std::filesystem;
using std::chrono::steady_clock;

struct FeatureRow {
  NDArray features;
  std::int64_t label;
};
BOOST_DESCRIBE_STRUCT(FeatureRow, (), (features, label))

std::string run_dir() {
  if (const char* e = std::getenv("ATDATA_S3_RUN_DIR"); e && *e) return e;
  return (std::filesystem::path(ATDATA_STORAGE_RUN_DIR).parent_path() / "s3-run").string();
}

std::string line_of(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string pattern_bytes(std::size_t n, std::size_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

class S3Storage : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = line_of(run_dir() + "/url");
    if (endpoint_.empty()) GTEST_SKIP() << "no S3 server (run through ctest: the s3 fixture starts one)";
    bucket_ = line_of(run_dir() + "/bucket");
    creds_ = S3Credentials(line_of(run_dir() + "/access_key"), line_of(run_dir() + "/secret_key"));
    http_ = std::make_shared<HttpClient>(io_.get_executor());
    client_ = std::make_shared<S3Client>(http_, config());
    // ctest runs the cases as parallel processes on one bucket: each works
    // under a prefix of its own.
    prefix_ = std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
              std::to_string(::getpid());
  }

  S3Config config(std::optional<S3Credentials> creds = std::nullopt) const {
    S3Config c(endpoint_);
    c.credentials = creds ? *creds : creds_;
    return c;
  }
  std::string key(const std::string& name) const { return prefix_ + "/" + name; }
  std::string s3_url(const std::string& name) const { return "s3://" + bucket_ + "/" + key(name); }
  std::string local_file(const std::string& name, const std::string& bytes) const {
    const fs::path p = fs::path(::testing::TempDir()) / name;
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }

  asio::io_context io_;
  std::string endpoint_, bucket_, prefix_;
  S3Credentials creds_;
  std::shared_ptr<HttpClient> http_;
  std::shared_ptr<S3Client> client_;
};

TEST_F(S3Storage, PutGetHeadListDelete) {
  const std::string binary = pattern_bytes(100'000, 1);
  const std::string etag = run_io(io_, client_->put_object(bucket_, key("a.txt"), RequestBody("hello")));
  EXPECT_FALSE(etag.empty());
  run_io(io_, client_->put_object(bucket_, key("b/c.bin"), RequestBody(binary), "application/octet-stream"));
  // A key that needs encoding: the server checks the signature of the encoded
  // path. (No '&' or '<': s3rver escapes them twice in listings.)
  run_io(io_, client_->put_object(bucket_, key("sp ace+plus$=\u00e9.txt"), RequestBody("odd")));

  SharedBytes a = run_io(io_, client_->get_object(bucket_, key("a.txt")));
  EXPECT_EQ(a.as_string_view(), "hello");
  SharedBytes b = run_io(io_, client_->get_object(bucket_, key("b/c.bin")));
  EXPECT_EQ(b.as_string_view(), binary);
  SharedBytes odd = run_io(io_, client_->get_object(bucket_, key("sp ace+plus$=\u00e9.txt")));
  EXPECT_EQ(odd.as_string_view(), "odd");

  S3ObjectInfo info = run_io(io_, client_->head_object(bucket_, key("b/c.bin")));
  EXPECT_EQ(info.size, binary.size());
  EXPECT_EQ(info.content_type, "application/octet-stream");
  EXPECT_EQ(run_io(io_, client_->head_object(bucket_, key("a.txt"))).etag, etag);

  HttpResponseStream part = run_io(io_, client_->open_object(bucket_, key("b/c.bin"), S3Range(10, 19)));
  EXPECT_EQ(part.status(), 206);
  SharedBytes ten = run_io(io_, part.read_all(1024));
  EXPECT_EQ(ten.as_string_view(), binary.substr(10, 10));

  // Two keys per page: the listing follows continuation tokens.
  std::vector<S3ObjectInfo> all = run_io(io_, client_->list_objects(bucket_, prefix_ + "/", 2));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, key("a.txt"));
  EXPECT_EQ(all[0].size, 5u);
  EXPECT_EQ(all[1].key, key("b/c.bin"));
  EXPECT_EQ(all[1].size, binary.size());
  EXPECT_EQ(all[2].key, key("sp ace+plus$=\u00e9.txt"));

  run_io(io_, client_->delete_object(bucket_, key("a.txt")));
  std::vector<S3ObjectInfo> after = run_io(io_, client_->list_objects(bucket_, prefix_ + "/"));
  EXPECT_EQ(after.size(), 2u);
  try {
    run_io(io_, client_->get_object(bucket_, key("a.txt")));
    ADD_FAILURE() << "deleted object still readable";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
  }
}

TEST_F(S3Storage, MissingKeyIs404NoSuchKey) {
  try {
    run_io(io_, client_->get_object(bucket_, key("nothing-here.tar")));
    ADD_FAILURE() << "no error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.code(), "NoSuchKey");
    EXPECT_EQ(e.key(), key("nothing-here.tar"));
    EXPECT_EQ(std::string(e.what()).rfind(s3_url("nothing-here.tar") + ": 404 NoSuchKey", 0), 0u) << e.what();
  }
  try {
    run_io(io_, client_->head_object(bucket_, key("nothing-here.tar")));
    ADD_FAILURE() << "no error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.code(), "NoSuchKey");
  }
  auto src = open_s3_source(http_, config(), s3_url("nothing-here.tar"));
  try {
    run_io(io_, src->next_chunk());
    ADD_FAILURE() << "no error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.code(), "NoSuchKey");
    EXPECT_EQ(e.url(), s3_url("nothing-here.tar"));
  }
}

TEST_F(S3Storage, WrongSecretIsSignatureDoesNotMatchWithinSeconds) {
  run_io(io_, client_->put_object(bucket_, key("x.tar"), RequestBody("data")));
  S3Credentials wrong(creds_.access_key_id, creds_.secret_access_key + "x");
  S3Client bad(http_, config(wrong));
  const auto t0 = steady_clock::now();
  try {
    run_io(io_, bad.get_object(bucket_, key("x.tar")));
    ADD_FAILURE() << "a wrong secret was accepted";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "SignatureDoesNotMatch");
    EXPECT_EQ(e.bucket(), bucket_);
    EXPECT_EQ(e.key(), key("x.tar"));
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(s3_url("x.tar") + ": 403 SignatureDoesNotMatch: ", 0), 0u) << what;
    EXPECT_EQ(what.find(wrong.secret_access_key), std::string::npos);
  }
  // The same through Dataset: a 403 is final, not retried.
  set_default_s3_config(config(wrong));
  Dataset<FeatureRow> ds(s3_url("x.tar"));
  auto loader = ds.ordered(4);
  try {
    loader.next_blocking();
    ADD_FAILURE() << "a wrong secret was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("SignatureDoesNotMatch"), std::string::npos) << what;
    EXPECT_NE(what.find(s3_url("x.tar")), std::string::npos) << what;
  }
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(S3Storage, TwentyMiBObjectThroughOpenS3Source) {
  const std::string bytes = pattern_bytes(20u << 20, 2);
  const std::string path = local_file("twenty.bin", bytes);
  const HttpPoolStats before = http_->stats();
  run_io(io_, client_->upload_file(bucket_, key("twenty.bin"), path));  // 8 MiB parts
  // Multipart: initiate, three parts, complete.
  EXPECT_EQ(http_->stats().requests_sent - before.requests_sent, 5u);
  EXPECT_EQ(run_io(io_, client_->head_object(bucket_, key("twenty.bin"))).size, bytes.size());

  auto src = open_s3_source(http_, config(), s3_url("twenty.bin"));
  EXPECT_EQ(src->url(), s3_url("twenty.bin"));
  std::size_t offset = 0, mismatches = 0;
  for (;;) {
    SharedBytes chunk = run_io(io_, src->next_chunk());
    if (chunk.empty()) break;
    mismatches += chunk.as_string_view() != std::string_view(bytes).substr(offset, chunk.size());
    offset += chunk.size();
  }
  EXPECT_EQ(offset, bytes.size());
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(src->size_hint().value_or(0), bytes.size());

  // A small file is one signed PUT.
  const HttpPoolStats mid = http_->stats();
  run_io(io_, client_->upload_file(bucket_, key("small.bin"), local_file("small.bin", "tiny")));
  EXPECT_EQ(http_->stats().requests_sent - mid.requests_sent, 1u);
  EXPECT_EQ(run_io(io_, client_->get_object(bucket_, key("small.bin"))).as_string_view(), "tiny");
}

TEST_F(S3Storage, PresignedUrlIsAcceptedAndATamperedOneIsNot) {
  run_io(io_, client_->put_object(bucket_, key("p.txt"), RequestBody("presigned body")));
  const std::string url = client_->presign_url("GET", bucket_, key("p.txt"), std::chrono::minutes(5));
  HttpClient plain(io_.get_executor());
  HttpResponse ok = run_io(io_, plain.get(url));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "presigned body");
  std::string tampered = url;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  HttpResponse bad = run_io(io_, plain.get(tampered));
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(s3_error_from_response(bad.status, bad.body, bucket_, key("p.txt")).code(),
            "SignatureDoesNotMatch");
}

std::vector<float> row(std::int64_t label, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t j = 0; j < n; ++j) v[j] = static_cast<float>(label) + static_cast<float>(j) * 0.25f;
  return v;
}

// Shards written by ShardWriter, uploaded (multipart with 5 MiB parts for
// the >12 MiB shard) and read back by s3:// URL through Dataset.
TEST_F(S3Storage, ShardsUploadedByTheUploaderReadBackThroughDataset) {
  constexpr std::size_t kFloats = 16384;  // 64 KiB per sample
  constexpr std::int64_t kSamples = 230;
  S3ShardUploader uploader(client_, "s3://" + bucket_ + "/" + prefix_ + "/",
                           S3ShardUploadOptions().with_part_bytes(5u << 20));
  ShardWriterOptions wo;
  wo.maxcount = 200;  // shard 0: 200 × 64 KiB ≈ 12.5 MiB, three parts; shard 1: the rest
  const HttpPoolStats before = http_->stats();
  {
    ShardWriter w(uploader.pattern(), uploader.writer_options(wo));
    for (std::int64_t i = 0; i < kSamples; ++i) {
      std::vector<float> v = row(i, kFloats);
      write_sample(w, FeatureRow{NDArray::from_span<float>(v), i}, "k" + std::to_string(i));
      if (uploader.pending() > 0) run_io(io_, uploader.upload_pending());
    }
    w.close();
  }
  ASSERT_EQ(uploader.pending(), 1u);
  std::vector<std::string> last = run_io(io_, uploader.upload_pending());
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(uploader.urls().size(), 2u);
  // Shard 0 went up in parts (initiate + 3 + complete), shard 1 as one PUT.
  EXPECT_EQ(http_->stats().requests_sent - before.requests_sent, 6u);
  // The Python peer's names, in shard order, and nothing left on local disk.
  const std::string& u0 = uploader.urls()[0];
  EXPECT_EQ(u0.rfind("s3://" + bucket_ + "/" + prefix_ + "/data--", 0), 0u) << u0;
  EXPECT_EQ(u0.substr(u0.size() - 12), "--000000.tar");
  EXPECT_EQ(uploader.urls()[1], u0.substr(0, u0.size() - 10) + "000001.tar");
  for (const auto& e : fs::directory_iterator(fs::path(uploader.pattern()).parent_path())) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
  std::vector<S3ObjectInfo> listed = run_io(io_, client_->list_objects(bucket_, prefix_ + "/"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_GT(listed[0].size, 12u << 20);

  set_default_s3_config(config());
  Dataset<FeatureRow> ds(u0.substr(0, u0.size() - 10) + "{000000..000001}.tar");
  auto loader = ds.ordered(32);
  std::int64_t expect = 0;
  std::size_t bad_rows = 0;
  while (auto batch = loader.next_blocking()) {
    const std::vector<std::int64_t> labels = batch->column<&FeatureRow::label>();
    std::span<const float> features = batch->stacked<&FeatureRow::features>().view<float>();
    ASSERT_EQ(features.size(), labels.size() * kFloats);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      EXPECT_EQ(labels[i], expect);
      const std::vector<float> want = row(expect, kFloats);
      bad_rows +=
          !std::equal(want.begin(), want.end(), features.begin() + static_cast<std::ptrdiff_t>(i * kFloats));
      ++expect;
    }
  }
  EXPECT_EQ(expect, kSamples);
  EXPECT_EQ(bad_rows, 0u);
}

TEST_F(S3Storage, BlockingWriteShardsToS3) {
  ShardWriterOptions wo;
  wo.maxcount = 3;
  std::vector<std::string> urls = write_shards_to_s3(
      config(), "s3://" + bucket_ + "/" + prefix_,
      [](ShardWriter& w) {
        for (std::int64_t i = 0; i < 7; ++i) {
          std::vector<float> v = row(i, 4);
          write_sample(w, FeatureRow{NDArray::from_span<float>(v), i});
        }
      },
      wo);
  ASSERT_EQ(urls.size(), 3u);
  set_default_s3_config(config());
  std::vector<std::int64_t> labels;
  for (const auto& u : urls) {
    Dataset<FeatureRow> ds(u);
    auto l = ds.ordered(10);
    while (auto b = l.next_blocking()) {
      for (auto x : b->column<&FeatureRow::label>()) labels.push_back(x);
    }
  }
  EXPECT_EQ(labels, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6}));
}

#ifdef ATDATA_CLI_BINARY
struct CliResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

// The installed CLI as a user runs it: S3 settings from the environment.
CliResult run_cli(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + ATDATA_CLI_BINARY + " " + args + " 2>&1";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST_F(S3Storage, AtdataCatReadsAnS3ShardAndAWrongSecretIsAClear403) {
  std::vector<std::string> urls =
      write_shards_to_s3(config(), "s3://" + bucket_ + "/" + prefix_, [](ShardWriter& w) {
        for (std::int64_t i = 0; i < 3; ++i) {
          std::vector<float> v = row(i, 2);
          write_sample(w, FeatureRow{NDArray::from_span<float>(v), i}, "s" + std::to_string(i));
        }
      });
  ASSERT_EQ(urls.size(), 1u);
  const std::string env = "AWS_ENDPOINT_URL='" + endpoint_ + "' AWS_ACCESS_KEY_ID='" + creds_.access_key_id +
                          "' AWS_SECRET_ACCESS_KEY='" + creds_.secret_access_key + "'";
  CliResult ok = run_cli(env, "cat '" + urls[0] + "'");
  ASSERT_EQ(ok.status, 0) << ok.output;
  std::istringstream lines(ok.output);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 3u) << ok.output;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const boost::json::object o = boost::json::parse(got[i]).as_object();
    EXPECT_EQ(o.at("__key__").as_string(), "s" + std::to_string(i));
    EXPECT_EQ(o.at("label").to_number<std::int64_t>(), static_cast<std::int64_t>(i));
    EXPECT_EQ(o.at("features").at("data").at(1).to_number<double>(), static_cast<double>(i) + 0.25);
  }

  const auto t0 = steady_clock::now();
  const std::string wrong = "AWS_ENDPOINT_URL='" + endpoint_ + "' AWS_ACCESS_KEY_ID='" +
                            creds_.access_key_id + "' AWS_SECRET_ACCESS_KEY='not-the-secret'";
  CliResult bad = run_cli(wrong, "cat '" + urls[0] + "'");
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_NE(bad.output.find("403"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("SignatureDoesNotMatch"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find(urls[0]), std::string::npos) << bad.output;  // bucket and key
  EXPECT_EQ(bad.output.find("not-the-secret"), std::string::npos) << bad.output;
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(10));
}
#endif

// tools/faultproxy between client and server cuts the body with a TCP reset;
// the source resumes with Range, and that request is signed afresh (the proxy
// forwards the server's Host, so a signature for the server's URL holds).
TEST_F(S3Storage, ResetTransferResumesWithAFreshlySignedRange) {
  const std::string proxy = line_of(run_dir() + "/faultproxy/url");
  if (proxy.empty()) GTEST_SKIP() << "no fault proxy in front of the S3 server (python3 missing?)";
  const std::string bytes = pattern_bytes(3u << 20, 3);
  run_io(io_, client_->put_object(bucket_, key("resume.bin"), RequestBody(bytes)));

  const std::string spec = "reset=1000000,id=" + prefix_;
  std::vector<std::string> auths, ranges;
  HttpSourceOptions opts;
  opts.resume_backoff = std::chrono::milliseconds(10);
  opts.prepare = [&](HttpRequest& req) {  // runs after signing
    auths.emplace_back(req.headers.get("Authorization").value_or(""));
    ranges.emplace_back(req.headers.get("Range").value_or(""));
    req.url = proxy + "/f/" + spec + HttpUrl::parse(req.url).target;
  };
  auto src = open_s3_source(http_, config(), s3_url("resume.bin"), opts);
  SharedBytes all = run_io(io_, read_all(*src));
  EXPECT_TRUE(all.as_string_view() == bytes);
  EXPECT_EQ(src->resumes(), 1);
  ASSERT_EQ(auths.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  // From the last byte that arrived (at most where the proxy cut).
  ASSERT_EQ(ranges[1].rfind("bytes=", 0), 0u) << ranges[1];
  const std::uint64_t from = std::stoull(ranges[1].substr(6));
  EXPECT_GT(from, 0u);
  EXPECT_LE(from, 1'000'000u);
  EXPECT_NE(auths[1].find("SignedHeaders=host;range;"), std::string::npos) << auths[1];
  EXPECT_NE(auths[0].substr(auths[0].find("Signature=")), auths[1].substr(auths[1].find("Signature=")));
}

}  // namespace
