// SigV4 against published vectors, so a signer that only agrees with itself
// cannot pass:
//  * AWS's Signature Version 4 test suite (aws-sig-v4-test-suite: credentials
//    AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service"), the cases
//    as the AWS SDK for JavaScript v3 carries them
//    (aws/aws-sdk-js-v3, packages/signature-v4/src/suite.fixture.ts; the
//    canonical requests and string-to-sign hashes are the suite's .creq/.sts);
//  * the signing-key example of the AWS General Reference ("Examples of how
//    to derive a signing key for Signature Version 4", 20120215/iam);
//  * the S3 API Reference's worked examples (AKIAIOSFODNN7EXAMPLE,
//    20130524T000000Z, examplebucket): "Signature Calculations for the
//    Authorization Header: Transferring Payload in a Single Chunk" (GET
//    Object with Range, PUT Object, GET Bucket lifecycle, GET Bucket list)
//    and "Authenticating Requests: Using Query Parameters" (presigned GET).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "atdata/error.hpp"
#include "atdata/net/sigv4.hpp"

namespace {

using namespace atdata::net;
using namespace std::chrono;
using Headers = std::vector<std::pair<std::string, std::string>>;

const AwsCredentials kSuiteCreds("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
const AwsCredentials kS3Creds("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

sys_seconds suite_time() {
  return sys_days{2015y / 8 / 30} + 12h + 36min;
}
sys_seconds s3_time() {
  return sys_days{2013y / 5 / 24};
}

sigv4::Scope suite_scope() {
  return sigv4::Scope("us-east-1", "service", suite_time());
}
sigv4::Scope s3_scope() {
  return sigv4::Scope("us-east-1", "s3", s3_time());
}

std::string auth(const std::string& signed_headers, const std::string& sig) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         signed_headers + ", Signature=" + sig;
}

Headers suite_headers(Headers extra = {}) {
  Headers h{{"Host", "example.amazonaws.com"}};
  for (auto& e : extra) h.push_back(std::move(e));
  h.emplace_back("X-Amz-Date", "20150830T123600Z");
  return h;
}

struct SuiteCase {
  const char* name;
  const char* method;
  const char* target;  // path + query as sent (percent-encoded)
  Headers extra;
  const char* body;
  const char* signed_headers;
  const char* signature;
};

TEST(SigV4Suite, PublishedSignatures) {
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::vector<SuiteCase> cases = {
      {"get-vanilla",
       "GET",
       "/",
       {},
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key",
       "GET",
       "/?Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key",
       "GET",
       "/?Param1=value2&Param1=Value1",
       {},
       "",
       "host;x-amz-date",
       "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"get-vanilla-query-order-value",
       "GET",
       "/?Param1=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/?Param2=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-unreserved",
       "GET",
       nullptr,
       {},
       "",
       "host;x-amz-date",
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query",
       "GET",
       "/?%E1%88%B4=bar",
       {},
       "",
       "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved",
       "GET",
       nullptr,
       {},
       "",
       "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8",
       "GET",
       "/%E1%88%B4",
       {},
       "",
       "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       "GET",
       "/",
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "",
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       "GET",
       "/",
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
       "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla",
       "POST",
       "/",
       {},
       "",
       "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-header-key-sort",
       "POST",
       "/",
       {{"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case",
       "POST",
       "/",
       {{"My-Header1", "VALUE1"}},
       "",
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-vanilla-query",
       "POST",
       "/?Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      // Query {"@#$%^": "", "+": "/,?><`\";:\\|][{}"}, percent-encoded as sent.
      {"post-vanilla-query-nonunreserved",
       "POST",
       "/?%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D",
       {},
       "",
       "host;x-amz-date",
       "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
      {"post-vanilla-query-space",
       "POST",
       "/?p=",
       {},
       "",
       "host;x-amz-date",
       "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"},
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters",
       "POST",
       "/",
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
       "Param1=value1",
       "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
  };
  for (const auto& c : cases) {
    std::string target = c.target ? c.target : "";
    if (std::string(c.name) == "get-vanilla-query-unreserved") target = "/?" + unreserved + "=" + unreserved;
    if (std::string(c.name) == "get-unreserved") target = "/" + unreserved;
    sigv4::Request req(c.method, target, suite_headers(c.extra), sigv4::sha256_hex(c.body));
    const sigv4::Signed s = sigv4::sign(req, kSuiteCreds, suite_scope());
    EXPECT_EQ(s.signature, c.signature) << c.name << "\n" << s.canonical_request;
    EXPECT_EQ(s.authorization, auth(c.signed_headers, c.signature)) << c.name;
  }
}

TEST(SigV4Suite, CanonicalRequestAndStringToSignOfVanillaAndQueryOrder) {
  sigv4::Request vanilla("GET", "/", suite_headers());
  const sigv4::Signed v = sigv4::sign(vanilla, kSuiteCreds, suite_scope());
  EXPECT_EQ(v.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(v.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");

  sigv4::Request order("GET", "/?Param1=value2&Param1=Value1", suite_headers());
  const sigv4::Signed o = sigv4::sign(order, kSuiteCreds, suite_scope());
  EXPECT_EQ(o.canonical_request,
            "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(o.string_to_sign.substr(o.string_to_sign.rfind('\n') + 1),
            "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89");
}

TEST(SigV4, SigningKeyOfTheGeneralReferenceExample) {
  const sigv4::Scope scope("us-east-1", "iam", sys_days{2012y / 2 / 15});
  EXPECT_EQ(sigv4::to_hex(sigv4::signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", scope)),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, DatesAreBasicIso8601Utc) {
  EXPECT_EQ(sigv4::amz_date(s3_time()), "20130524T000000Z");
  EXPECT_EQ(sigv4::amz_date(suite_time() + 59s + 999ms), "20150830T123659Z");
  EXPECT_EQ(s3_scope().credential_scope(), "20130524/us-east-1/s3/aws4_request");
}

TEST(SigV4, S3PathsAreEncodedOnceAndNotNormalised) {
  // S3 signs the path as stored: no double encoding, no "." / ".." folding.
  EXPECT_EQ(sigv4::canonical_uri("/test$file.text"), "/test%24file.text");
  EXPECT_EQ(sigv4::canonical_uri("/test%24file.text"), "/test%24file.text");
  EXPECT_EQ(sigv4::canonical_uri("/a b/c+d/../%7e"), "/a%20b/c%2Bd/../~");
  EXPECT_EQ(sigv4::canonical_uri("/dir//x"), "/dir//x");
  EXPECT_EQ(sigv4::canonical_uri(""), "/");
  EXPECT_EQ(sigv4::uri_encode("a/b c", false), "a%2Fb%20c");
  EXPECT_EQ(sigv4::canonical_query("uploads"), "uploads=");
  EXPECT_EQ(sigv4::canonical_query("prefix=a%2Fb&list-type=2"), "list-type=2&prefix=a%2Fb");
}

// --- the S3 API Reference's header-based examples -------------------------------

TEST(SigV4S3Examples, GetObjectWithRange) {
  sigv4::Request req("GET", "/test.txt",
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"Range", "bytes=0-9"},
                      {"x-amz-content-sha256", std::string(sigv4::kEmptyPayloadHash)},
                      {"x-amz-date", "20130524T000000Z"}});
  const sigv4::Signed s = sigv4::sign(req, kS3Creds, s3_scope());
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  // sign_headers adds the date and payload headers itself, in any order.
  sigv4::Request bare("GET", "/test.txt",
                      {{"Range", "bytes=0-9"}, {"Host", "examplebucket.s3.amazonaws.com"}});
  EXPECT_EQ(sigv4::sign_headers(bare, kS3Creds, s3_scope()).signature, s.signature);
}

TEST(SigV4S3Examples, PutObjectEncodesTheDollarInTheKey) {
  const std::string payload = "Welcome to Amazon S3.";
  ASSERT_EQ(sigv4::sha256_hex(payload), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  sigv4::Request req("PUT", "/test$file.text",
                     {{"Host", "examplebucket.s3.amazonaws.com"},
                      {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                     sigv4::sha256_hex(payload));
  const sigv4::Signed s = sigv4::sign_headers(req, kS3Creds, s3_scope());
  EXPECT_NE(s.canonical_request.find("\n/test%24file.text\n"), std::string::npos) << s.canonical_request;
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_NE(
      s.authorization.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"),
      std::string::npos);
}

TEST(SigV4S3Examples, GetBucketLifecycleAndListObjects) {
  sigv4::Request lifecycle("GET", "/?lifecycle", {{"Host", "examplebucket.s3.amazonaws.com"}});
  EXPECT_EQ(sigv4::sign_headers(lifecycle, kS3Creds, s3_scope()).signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  sigv4::Request list("GET", "/?max-keys=2&prefix=J", {{"Host", "examplebucket.s3.amazonaws.com"}});
  EXPECT_EQ(sigv4::sign_headers(list, kS3Creds, s3_scope()).signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3Examples, PresignedGet) {
  const std::string url = sigv4::presign_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt",
                                             kS3Creds, s3_scope(), seconds(86400));
  EXPECT_EQ(url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  // The default port is not part of the signed Host.
  const std::string with_port = sigv4::presign_url(
      "GET", "https://examplebucket.s3.amazonaws.com:443/test.txt", kS3Creds, s3_scope(), seconds(86400));
  EXPECT_EQ(with_port.substr(with_port.size() - 64),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_THROW(sigv4::presign_url("GET", "https://h/x", kS3Creds, s3_scope(), seconds(0)),
               atdata::InvalidArgument);
  EXPECT_THROW(sigv4::presign_url("GET", "https://h/x", kS3Creds, s3_scope(), seconds(604801)),
               atdata::InvalidArgument);
  EXPECT_THROW(sigv4::presign_url("GET", "examplebucket/test.txt", kS3Creds, s3_scope(), seconds(60)),
               atdata::InvalidArgument);
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  const AwsCredentials temp(kS3Creds.access_key_id, kS3Creds.secret_access_key, "token/with+chars=");
  sigv4::Request with("GET", "/test.txt", {{"Host", "examplebucket.s3.amazonaws.com"}});
  sigv4::Request without = with;
  const sigv4::Signed a = sigv4::sign_headers(with, temp, s3_scope());
  const sigv4::Signed b = sigv4::sign_headers(without, kS3Creds, s3_scope());
  EXPECT_NE(a.signature, b.signature);
  EXPECT_NE(a.authorization.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos)
      << a.authorization;
  bool found = false;
  for (const auto& [n, v] : with.headers)
    found = found || (n == "x-amz-security-token" && v == "token/with+chars=");
  EXPECT_TRUE(found);
  for (const auto& [n, v] : without.headers) EXPECT_NE(n, "x-amz-security-token");
  // Signing again replaces the previous date/token headers instead of adding more.
  sigv4::sign_headers(with, temp, sigv4::Scope("us-east-1", "s3", s3_time() + 1h));
  int dates = 0;
  for (const auto& [n, v] : with.headers) dates += n == "x-amz-date";
  EXPECT_EQ(dates, 1);

  const std::string url = sigv4::presign_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt", temp,
                                             s3_scope(), seconds(60));
  EXPECT_NE(url.find("&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&X-Amz-Signature="), std::string::npos)
      << url;
  // The secret never appears in anything the signer returns.
  EXPECT_EQ(a.authorization.find(kS3Creds.secret_access_key), std::string::npos);
  EXPECT_EQ(url.find(kS3Creds.secret_access_key), std::string::npos);
}

}  // namespace
