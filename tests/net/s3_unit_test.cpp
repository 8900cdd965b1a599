// The S3 client without a server: s3:// URL parsing, the credential files
// (the AWS CLI's INI file with profiles, the Python peer's dotenv file), S3
// error documents and listings, bucket addressing, signing of whole requests
// (the S3 docs' examples through S3Client), and a resumed open_s3_source
// whose Range request is signed afresh (scripted server).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "atdata/error.hpp"
#include "atdata/net/s3.hpp"
#include "net/mock_server.hpp"
#include "support/net_run.hpp"

namespace {

using namespace atdata;
using namespace atdata::net;
using namespace atdata::test;
using namespace std::chrono;
namespace fs = std::filesystem;

const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path p = fs::path(::testing::TempDir()) / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

// Sets (or, for nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST(S3Url, BucketAndKeyAreSplitAtTheFirstSlash) {
  S3Location a = parse_s3_url("s3://my-bucket/dir/sub/data--000001.tar");
  EXPECT_EQ(a.bucket, "my-bucket");
  EXPECT_EQ(a.key, "dir/sub/data--000001.tar");
  EXPECT_EQ(a.url(), "s3://my-bucket/dir/sub/data--000001.tar");
  // Keys are literal: escapes, '?' and '#' belong to them.
  EXPECT_EQ(parse_s3_url("s3://b.with.dots/a%20b?x#y").key, "a%20b?x#y");
  EXPECT_EQ(parse_s3_url("s3://bucket").key, "");
  EXPECT_EQ(parse_s3_url("S3://bucket/k").bucket, "bucket");
  EXPECT_THROW(parse_s3_url("https://bucket/k"), InvalidArgument);
  EXPECT_THROW(parse_s3_url("s3:///key"), InvalidArgument);
  EXPECT_THROW(parse_s3_url("s3://bad bucket/key"), InvalidArgument);
  EXPECT_THROW(parse_s3_url("s3:/"), InvalidArgument);
}

TEST(S3Credentials, DotenvFileOfThePythonPeer) {
  const std::string path = write_file("creds.env",
                                      "# atdata credentials\n"
                                      "export AWS_ENDPOINT=\"http://127.0.0.1:9000\"\n"
                                      "AWS_ACCESS_KEY_ID = 'AKIAEXAMPLE'\n"
                                      "\n"
                                      "AWS_SECRET_ACCESS_KEY=" +
                                          std::string(kSecret) +
                                          " # trailing comment\n"
                                          "AWS_REGION=eu-west-1\r\n");
  const S3Credentials c = S3Credentials::from_dotenv(path);
  EXPECT_EQ(c.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(c.secret_access_key, kSecret);
  EXPECT_TRUE(c.session_token.empty());
  const S3Config cfg = S3Config::from_dotenv(path);
  EXPECT_EQ(cfg.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg.region, "eu-west-1");
  ASSERT_TRUE(cfg.credentials);
  EXPECT_EQ(cfg.credentials->access_key_id, "AKIAEXAMPLE");

  const std::string no_secret = write_file("nosecret.env", "AWS_ENDPOINT=http://h\nAWS_ACCESS_KEY_ID=AKIA\n");
  const std::string msg = message_of([&] { S3Credentials::from_dotenv(no_secret); });
  EXPECT_NE(msg.find("AWS_SECRET_ACCESS_KEY is missing"), std::string::npos) << msg;
  const std::string no_endpoint = write_file(
      "noendpoint.env", "AWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY=" + std::string(kSecret) + "\n");
  const std::string msg2 = message_of([&] { S3Config::from_dotenv(no_endpoint); });
  EXPECT_NE(msg2.find("AWS_ENDPOINT is missing"), std::string::npos) << msg2;
  EXPECT_EQ(msg2.find(kSecret), std::string::npos);
  EXPECT_THROW(S3Credentials::from_dotenv(write_file("absent-dir-marker", "") + ".nope"), InvalidArgument);
}

TEST(S3Credentials, SharedFileProfiles) {
  const std::string path = write_file("credentials",
                                      "[default]\n"
                                      "aws_access_key_id = AKIADEFAULT\n"
                                      "aws_secret_access_key = secret-default\n"
                                      "\n"
                                      "; a comment\n"
                                      "[profile work]\n"
                                      "AWS_ACCESS_KEY_ID=AKIAWORK\n"
                                      "aws_secret_access_key=secret-work\n"
                                      "aws_session_token=tok-work\n"
                                      "[broken]\n"
                                      "aws_access_key_id = AKIABROKEN\n");
  ScopedEnv profile("AWS_PROFILE", nullptr);
  auto d = S3Credentials::from_shared_file(path);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->secret_access_key, "secret-default");
  auto w = S3Credentials::from_shared_file(path, "work");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->access_key_id, "AKIAWORK");
  EXPECT_EQ(w->session_token, "tok-work");
  {
    ScopedEnv p("AWS_PROFILE", "work");
    EXPECT_EQ(S3Credentials::from_shared_file(path)->access_key_id, "AKIAWORK");
  }
  {
    ScopedEnv f("AWS_SHARED_CREDENTIALS_FILE", path.c_str());
    EXPECT_EQ(S3Credentials::from_shared_file()->access_key_id, "AKIADEFAULT");
  }
  EXPECT_FALSE(S3Credentials::from_shared_file(path, "nobody"));
  EXPECT_FALSE(S3Credentials::from_shared_file(path + ".missing"));
  const std::string msg = message_of([&] { S3Credentials::from_shared_file(path, "broken"); });
  EXPECT_NE(msg.find("profile 'broken' has no aws_secret_access_key"), std::string::npos) << msg;
}

TEST(S3Credentials, EnvironmentComesFirst) {
  ScopedEnv id("AWS_ACCESS_KEY_ID", "AKIAENV");
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "secret-env");
  ScopedEnv token("AWS_SESSION_TOKEN", "tok-env");
  ScopedEnv file(
      "AWS_SHARED_CREDENTIALS_FILE",
      write_file("credentials2", "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=x\n").c_str());
  auto c = S3Credentials::resolve();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->session_token, "tok-env");
  {
    ScopedEnv no_id("AWS_ACCESS_KEY_ID", nullptr);
    EXPECT_THROW(S3Credentials::from_environment(), InvalidArgument);  // a secret without its key id
    ScopedEnv no_secret("AWS_SECRET_ACCESS_KEY", nullptr);
    EXPECT_FALSE(S3Credentials::from_environment());
    EXPECT_EQ(S3Credentials::resolve()->access_key_id, "AKIAFILE");
  }
  ScopedEnv ep("AWS_ENDPOINT_URL", nullptr);
  ScopedEnv ep_s3("AWS_ENDPOINT_URL_S3", nullptr);
  ScopedEnv ep_py("AWS_ENDPOINT", "http://10.0.0.1:9000");
  ScopedEnv region("AWS_REGION", nullptr);
  ScopedEnv default_region("AWS_DEFAULT_REGION", "ap-south-1");
  const S3Config cfg = S3Config::from_environment();
  EXPECT_EQ(cfg.endpoint, "http://10.0.0.1:9000");
  EXPECT_EQ(cfg.region, "ap-south-1");
  EXPECT_EQ(cfg.credentials->access_key_id, "AKIAENV");
}

TEST(S3Addressing, VirtualHostForAwsPathStyleElsewhere) {
  S3Config aws;
  EXPECT_EQ(aws.object_url("my-bucket", "a b/c+d.tar"),
            "https://my-bucket.s3.us-east-1.amazonaws.com/a%20b/c%2Bd.tar");
  // Dots would not match the *.s3 wildcard certificate.
  EXPECT_EQ(aws.object_url("my.bucket", "k"), "https://s3.us-east-1.amazonaws.com/my.bucket/k");
  EXPECT_EQ(S3Config().with_region("eu-west-1").object_url("b-1", "k"),
            "https://b-1.s3.eu-west-1.amazonaws.com/k");
  S3Config minio("http://127.0.0.1:9000/");
  EXPECT_EQ(minio.object_url("bucket", "x/y"), "http://127.0.0.1:9000/bucket/x/y");
  EXPECT_EQ(minio.object_url("bucket", ""), "http://127.0.0.1:9000/bucket");
  EXPECT_TRUE(S3Config("https://minio.local:9000").path_style("bucket"));
  S3Config forced = S3Config("https://minio.local:9000").with_addressing(S3Addressing::virtual_host);
  EXPECT_EQ(forced.object_url("bucket", "k"), "https://bucket.minio.local:9000/k");
  S3Config path = S3Config().with_addressing(S3Addressing::path);
  EXPECT_EQ(path.object_url("bucket", "k"), "https://s3.us-east-1.amazonaws.com/bucket/k");
  EXPECT_FALSE(S3Config("https://s3.amazonaws.com").path_style("bucket"));
}

TEST(S3Errors, CodeAndMessageFromTheXmlBody) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist &amp; never did.</Message><Key>a/b</Key>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
  const S3Error e = s3_error_from_response(404, xml, "bucket", "a/b");
  EXPECT_EQ(e.status(), 404);
  EXPECT_EQ(e.code(), "NoSuchKey");
  EXPECT_EQ(e.message(), "The specified key does not exist & never did.");
  EXPECT_EQ(e.url(), "s3://bucket/a/b");
  EXPECT_STREQ(e.what(), "s3://bucket/a/b: 404 NoSuchKey: The specified key does not exist & never did.");
  const HttpError& as_http = e;  // callers that only know HttpError still see the status
  EXPECT_EQ(as_http.status(), 404);

  const S3Error sig = s3_error_from_response(403,
                                             "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                                             "signature we calculated does not match the "
                                             "signature you provided. Check your key and signing "
                                             "method.</Message><AWSAccessKeyId>AKIA</AWSAccessKeyId>"
                                             "<StringToSign>AWS4-HMAC-SHA256\n…</StringToSign></Error>",
                                             "bucket", "k");
  EXPECT_EQ(
      std::string(sig.what()).rfind("s3://bucket/k: 403 SignatureDoesNotMatch: The request signature", 0), 0u)
      << sig.what();
  // A HEAD answer has no body: the status's usual code stands in.
  EXPECT_EQ(s3_error_from_response(404, "", "bucket", "k").code(), "NoSuchKey");
  EXPECT_EQ(s3_error_from_response(404, "", "bucket", "").code(), "NoSuchBucket");
  EXPECT_STREQ(s3_error_from_response(403, "", "b", "k").what(), "s3://b/k: 403 AccessDenied");
  EXPECT_EQ(s3_error_from_response(502, "Bad gateway", "b", "k").message(), "Bad gateway");
}

TEST(S3Listing, ListObjectsV2Page) {
  const std::string xml =
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix>"
      "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "<Contents><Key>p/a&amp;b.tar</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
      "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
      "<StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>p/&#x263A;.tar</Key><Size>0</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>";
  const auto page = s3_detail::parse_list_objects_v2(xml);
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "p/a&b.tar");
  EXPECT_EQ(page.objects[0].size, 434234u);
  EXPECT_EQ(page.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(page.objects[0].last_modified, "2009-10-12T17:50:30.000Z");
  EXPECT_EQ(page.objects[1].key, "p/\xE2\x98\xBA.tar");
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_FALSE(s3_detail::parse_list_objects_v2("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                                "</ListBucketResult>")
                   .truncated);
}

// The S3 docs' GET Object example, signed through the client as it signs
// every request: URL, Host, Range and the x-amz-* headers.
TEST(S3Client, SignsTheDocsGetObjectExample) {
  asio::io_context io;
  S3Config cfg =
      S3Config("https://s3.amazonaws.com").with_credentials(S3Credentials("AKIAIOSFODNN7EXAMPLE", kSecret));
  S3Client client(std::make_shared<HttpClient>(io.get_executor()), cfg);
  HttpRequest req("GET", cfg.object_url("examplebucket", "test.txt"));
  EXPECT_EQ(req.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  req.headers.set("Range", "bytes=0-9");
  req.headers.set("User-Agent", "not signed");
  client.sign(req, sigv4::kEmptyPayloadHash, sys_days{2013y / 5 / 24});
  EXPECT_EQ(req.headers.get("Authorization").value_or(""),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(req.headers.get("x-amz-date").value_or(""), "20130524T000000Z");
  // Signing again (a retry) replaces the signature instead of adding one.
  client.sign(req, sigv4::kEmptyPayloadHash, sys_days{2013y / 5 / 24} + 1h);
  int auths = 0;
  for (const auto& [n, v] : req.headers) auths += n == "Authorization";
  EXPECT_EQ(auths, 1);
  EXPECT_EQ(req.headers.get("x-amz-date").value_or(""), "20130524T010000Z");

  EXPECT_EQ(client.presign_url("GET", "examplebucket", "test.txt", hours(24), sys_days{2013y / 5 / 24}),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

  // Anonymous: nothing is added.
  S3Client anon(std::make_shared<HttpClient>(io.get_executor()), S3Config("https://s3.amazonaws.com"));
  HttpRequest plain("GET", cfg.object_url("examplebucket", "test.txt"));
  anon.sign(plain);
  EXPECT_FALSE(plain.headers.contains("Authorization"));
}

std::string body_bytes(std::size_t from, std::size_t to) {
  std::string s(to - from, '\0');
  for (std::size_t i = from; i < to; ++i) s[i - from] = static_cast<char>((i * 131) ^ (i >> 7));
  return s;
}

std::string header_of(const std::string& head, const std::string& name) {
  const auto p = head.find("\r\n" + name + ": ");
  if (p == std::string::npos) return {};
  const auto b = p + name.size() + 4;
  return head.substr(b, head.find("\r\n", b) - b);
}

// A transfer cut by a reset resumes with Range, and the resume carries a
// signature of its own that covers the Range header.
TEST(S3Source, ResumeRequestIsSignedAfresh) {
  constexpr std::size_t kSize = 200'000, kCut = 70'000;
  asio::io_context io;
  std::vector<std::string> heads;
  MockServer server(io, [&](tcp::socket& s, int index) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    if (!co_await read_request(s, pending, req)) co_return;
    heads.push_back(req.head);
    if (index == 0) {
      co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kSize) +
                           "\r\nETag: \"v1\"\r\n\r\n" + body_bytes(0, kCut));
      co_await sleep_for(milliseconds(20));
      reset_now(s);
      co_return;
    }
    co_await send(s, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + std::to_string(kCut) + "-" +
                         std::to_string(kSize - 1) + "/" + std::to_string(kSize) + "\r\nContent-Length: " +
                         std::to_string(kSize - kCut) + "\r\nETag: \"v1\"\r\n\r\n" + body_bytes(kCut, kSize));
  });
  S3Config cfg = S3Config(server.url("/")).with_credentials(S3Credentials("AKIATEST", "secret"));
  HttpSourceOptions opts;
  opts.resume_backoff = milliseconds(1);
  auto src =
      open_s3_source(std::make_shared<HttpClient>(io.get_executor()), cfg, "s3://bucket/dir/obj.tar", opts);
  EXPECT_EQ(src->url(), "s3://bucket/dir/obj.tar");
  SharedBytes all = run_io(io, read_all(*src));
  EXPECT_EQ(all.as_string_view(), body_bytes(0, kSize));
  EXPECT_EQ(src->resumes(), 1);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].rfind("GET /bucket/dir/obj.tar HTTP/1.1\r\n", 0), 0u) << heads[0];
  EXPECT_EQ(header_of(heads[1], "Range"), "bytes=70000-");
  const std::string a0 = header_of(heads[0], "Authorization"), a1 = header_of(heads[1], "Authorization");
  EXPECT_NE(a0.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"), std::string::npos) << a0;
  EXPECT_NE(a1.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"), std::string::npos) << a1;
  EXPECT_NE(a0.substr(a0.find("Signature=")), a1.substr(a1.find("Signature=")));
  EXPECT_FALSE(header_of(heads[1], "x-amz-date").empty());
}

TEST(S3Source, ErrorAnswersAreS3ErrorsNamingTheS3Url) {
  asio::io_context io;
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied"
      "</Message></Error>";
  ScriptedServer server(io, {"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: " +
                             std::to_string(xml.size()) + "\r\n\r\n" + xml});
  S3Config cfg = S3Config(server.base()).with_credentials(S3Credentials("AKIATEST", "secret"));
  auto src = open_s3_source(std::make_shared<HttpClient>(io.get_executor()), cfg, "s3://bucket/k.tar");
  try {
    run_io(io, src->next_chunk());
    ADD_FAILURE() << "no error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "AccessDenied");
    EXPECT_EQ(e.bucket(), "bucket");
    EXPECT_EQ(e.key(), "k.tar");
    EXPECT_STREQ(e.what(), "s3://bucket/k.tar: 403 AccessDenied: Access Denied");
  }
  EXPECT_THROW(open_s3_source(std::make_shared<HttpClient>(io.get_executor()), cfg, "s3://bucket/"),
               InvalidArgument);
}

// A multipart upload retries a part after a 5xx, and aborts the upload when
// a part fails for good (a 403 is not retried).
TEST(S3Upload, PartsAreRetriedAndAFailedUploadIsAborted) {
  asio::io_context io;
  auto xml_error = [](int status, const std::string& reason, const std::string& code) {
    const std::string body = "<Error><Code>" + code + "</Code><Message>m</Message></Error>";
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  const std::string created =
      "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>";
  ScriptedServer server(
      io, {ok_response(created), xml_error(503, "Slow Down", "SlowDown"), ok_response("", "ETag: \"e1\"\r\n"),
           xml_error(403, "Forbidden", "AccessDenied"), "HTTP/1.1 204 No Content\r\n\r\n"});
  S3Config cfg = S3Config(server.base()).with_credentials(S3Credentials("AKIATEST", "secret"));
  S3Client client(std::make_shared<HttpClient>(io.get_executor()), cfg);
  const std::string path = write_file("eleven.bin", std::string(11u << 20, 'x'));
  try {
    run_io(io, client.upload_file("bucket", "big.bin", path, 5u << 20));
    ADD_FAILURE() << "no error";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "AccessDenied");
  }
  ASSERT_EQ(server.seen.size(), 5u);
  auto line = [&](std::size_t i) { return server.seen[i].head.substr(0, server.seen[i].head.find("\r\n")); };
  EXPECT_EQ(line(0), "POST /bucket/big.bin?uploads HTTP/1.1");
  EXPECT_EQ(line(1), "PUT /bucket/big.bin?partNumber=1&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(line(2), "PUT /bucket/big.bin?partNumber=1&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(line(3), "PUT /bucket/big.bin?partNumber=2&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(line(4), "DELETE /bucket/big.bin?uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(server.seen[1].body.size(), 5u << 20);
  // Memory parts are signed with their hash, not UNSIGNED-PAYLOAD.
  EXPECT_EQ(header_of(server.seen[1].head, "x-amz-content-sha256").size(), 64u);
}

}  // namespace
