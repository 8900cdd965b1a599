#pragma once
// What tools/pds/ctest-fixture.sh wrote for the tests: the loopback PDS/PLC
// URLs and the pre-created accounts (alice, bob), plus helpers shared by the
// real-PDS suites.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/session.hpp"

namespace atdata::test {

struct PdsAccount {
  std::string handle, did, password;
};

struct PdsEnv {
  std::string pds_url;     // http://127.0.0.1:PORT
  std::string public_url;  // http://localhost:PORT (what DID documents name)
  std::string plc_url;
  std::string jwt_secret;
  std::string service_did;
  std::map<std::string, PdsAccount> accounts;

  static const PdsEnv& get() {
    static const PdsEnv env = load(ATDATA_PDS_RUN_DIR);
    return env;
  }
#ifdef ATDATA_PDS2_RUN_DIR
  // The second PDS (fixture pds_rl: rate limits on, account carol), which
  // shares the first one's PLC directory.
  static const PdsEnv& second() {
    static const PdsEnv env = load(ATDATA_PDS2_RUN_DIR);
    return env;
  }
#endif

  atproto::AtmosphereClientOptions client_options() const {
    atproto::AtmosphereClientOptions o;
    o.base_url = pds_url;
    o.identity.plc_url = plc_url;
    return o;
  }

 private:
  static PdsEnv load(const std::string& run_dir) {
    std::string path = run_dir + "/env.json";
    std::ifstream f(path);
    if (!f) throw std::runtime_error("no " + path + ": run the tests through ctest (fixture pds_start)");
    std::string text((std::istreambuf_iterator<char>(f)), {});
    auto v = boost::json::parse(text).as_object();
    PdsEnv e;
    e.pds_url = std::string(v.at("pds_url").as_string());
    e.public_url = std::string(v.at("public_url").as_string());
    e.plc_url = std::string(v.at("plc_url").as_string());
    e.jwt_secret = std::string(v.at("jwt_secret").as_string());
    e.service_did = std::string(v.at("service_did").as_string());
    for (const auto& [name, a] : v.at("accounts").as_object()) {
      const auto& o = a.as_object();
      e.accounts[std::string(name)] =
          PdsAccount{std::string(o.at("handle").as_string()), std::string(o.at("did").as_string()),
                     std::string(o.at("password").as_string())};
    }
    return e;
  }
};

// An access token signed with the harness's HS256 secret whose exp is
// `exp_offset` seconds from now (negative = already expired); the harness
// runs the PDS with a known HS256 secret, so tests can forge tokens.
inline std::string mint_access_token(const PdsEnv& env, const std::string& did, std::int64_t exp_offset) {
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string header = atproto::base64url_encode(R"({"typ":"at+jwt","alg":"HS256"})");
  std::string payload = atproto::base64url_encode(
      R"({"scope":"com.atproto.access","aud":")" + env.service_did + R"(","sub":")" + did + R"(","iat":)" +
      std::to_string(now + exp_offset - 7200) + R"(,"exp":)" + std::to_string(now + exp_offset) + "}");
  std::string signing_input = header + "." + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), env.jwt_secret.data(), static_cast<int>(env.jwt_secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len);
  return signing_input + "." + atproto::base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len));
}

// A collection NSID unique to this call in this test process, so tests (also
// parallel ones) never see each other's records.
inline std::string unique_collection(const std::string& stem) {
  static const std::string salt = [] {
    std::random_device rd;
    std::string s = "r";
    for (int i = 0; i < 8; ++i) s.push_back("abcdefghijklmnopqrstuvwxyz"[rd() % 26]);
    return s;
  }();
  static int counter = 0;
  return "test.atdata." + salt + "." + stem + std::to_string(++counter);
}

}  // namespace atdata::test
