// The account and record commands of the `atdata` CLI against the real PDS:
// login into the session file, whoami, commands running on the saved
// session (and writing refreshed tokens back), logout revoking the session,
// schema/dataset/lens publish → list → show, reading another account without
// login, the exit statuses — and no password or token in any output.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "account.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/session.hpp"
#include "common.hpp"
#include "pds/atmosphere_fixture.hpp"
#include "publish.hpp"
#include "records.hpp"
#include "session_store.hpp"

namespace atdata::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using cli::ProgressMode;

struct Out {
  int status = -1;
  std::string out, err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

// Each test has its own configuration directory and starts logged out, with
// only the server URLs in the environment (as a user's shell would set them).
class CliAccount : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path cfg;
  std::string everything;  // all output of every command, for the secrets check

  void SetUp() override {
    const auto& env = PdsEnv::get();
    cfg = dir.path / "config" / "atdata";
    ::setenv("ATDATA_CONFIG_DIR", cfg.c_str(), 1);
    ::setenv("ATDATA_PDS_URL", env.pds_url.c_str(), 1);
    ::setenv("ATDATA_PLC_URL", env.plc_url.c_str(), 1);
    for (const char* v : {"ATDATA_HANDLE", "ATDATA_PASSWORD", "ATDATA_SESSION"}) ::unsetenv(v);
  }
  void TearDown() override {
    for (const char* v : {"ATDATA_CONFIG_DIR", "ATDATA_HANDLE", "ATDATA_PASSWORD", "ATDATA_SESSION"})
      ::unsetenv(v);
  }

  fs::path session_file() const { return cfg / "session.json"; }

  template <class F>
  Out call(F f) {
    std::ostringstream out, err;
    Out r;
    r.status = f(out, err);
    r.out = out.str();
    r.err = err.str();
    everything += r.out + r.err;
    return r;
  }
  Out run(const std::string& cmd, std::vector<std::string> args) {
    return call([&](std::ostream& out, std::ostream& err) {
      if (cmd == "schema") return cli::run_schema(args, out, err);
      if (cmd == "dataset") return cli::run_dataset(args, out, err, ProgressMode::off);
      if (cmd == "lens") return cli::run_lens(args, out, err);
      if (cmd == "whoami") return cli::run_whoami(args, out, err);
      if (cmd == "logout") return cli::run_logout(args, out, err);
      if (cmd == "publish") return cli::run_publish(args, out, err, ProgressMode::off);
      if (cmd == "ls") return cli::run_ls(args, out, err);
      ADD_FAILURE() << "no command " << cmd;
      return -1;
    });
  }
  Out login(const std::string& who, std::vector<std::string> extra = {}, const std::string& stdin_text = "") {
    std::vector<std::string> args{who};
    args.insert(args.end(), extra.begin(), extra.end());
    std::istringstream in(stdin_text);
    return call([&](std::ostream& out, std::ostream& err) { return cli::run_login(args, in, out, err); });
  }
  // Logs in as `name` with the password in ATDATA_PASSWORD (then unset).
  void login_as(const std::string& name) {
    const auto& a = PdsEnv::get().accounts.at(name);
    ::setenv("ATDATA_PASSWORD", a.password.c_str(), 1);
    auto r = login(a.handle);
    ::unsetenv("ATDATA_PASSWORD");
    ASSERT_EQ(r.status, 0) << r.err;
  }
  cli::StoredSession stored() {
    auto s = cli::load_session_file(session_file());
    EXPECT_TRUE(s);
    return s ? *s : cli::StoredSession();
  }
  // Neither a password nor a token of any session seen may appear in output.
  void expect_no_secrets(const std::vector<std::string>& sessions) {
    for (const auto& [name, a] : PdsEnv::get().accounts)
      EXPECT_EQ(everything.find(a.password), std::string::npos) << "password of " << name;
    for (const auto& s : sessions) {
      auto parsed = atproto::parse_session_string(s);
      EXPECT_EQ(everything.find(parsed.access_jwt), std::string::npos);
      EXPECT_EQ(everything.find(parsed.refresh_jwt), std::string::npos);
      // Not even a recognisable fragment of a token.
      EXPECT_EQ(everything.find(parsed.refresh_jwt.substr(parsed.refresh_jwt.size() - 20)),
                std::string::npos);
    }
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir.path / name) << text;
    return (dir.path / name).string();
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// The line of `lines` that starts with `prefix`; empty when none.
std::string line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines)
    if (l.rfind(prefix, 0) == 0) return l;
  return {};
}

const char* kFields = R"([
  {"name": "image", "fieldType": {"$type": "ac.foundation.dataset.schemaType#ndarray", "dtype": "uint8"},
   "optional": false},
  {"name": "label", "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "int"},
   "optional": false, "description": "class id"}
])";

TEST_F(CliAccount, LoginWhoamiStoredSessionRefreshAndLogout) {
  const auto& env = PdsEnv::get();
  const auto& alice = env.accounts.at("alice");

  // A wrong password: exit 3, nothing saved, the password not echoed.
  ::setenv("ATDATA_PASSWORD", "not-the-password-123", 1);
  auto bad = login(alice.handle);
  ::unsetenv("ATDATA_PASSWORD");
  EXPECT_EQ(bad.status, cli::kExitAuth) << bad.err;
  EXPECT_NE(bad.err.find("AuthenticationRequired"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("not-the-password-123"), std::string::npos);
  EXPECT_FALSE(fs::exists(session_file()));

  ::setenv("ATDATA_PASSWORD", alice.password.c_str(), 1);
  auto in = login(alice.handle, {"--pds", env.pds_url});
  ::unsetenv("ATDATA_PASSWORD");
  ASSERT_EQ(in.status, 0) << in.err;
  EXPECT_EQ(in.out.rfind("logged in as " + alice.handle + " (" + alice.did + ") on ", 0), 0u) << in.out;
  EXPECT_EQ(mode_of(session_file()), 0600u);
  EXPECT_EQ(mode_of(cfg), 0700u);
  auto file = json::parse([&] {
                std::ifstream f(session_file());
                std::stringstream ss;
                ss << f.rdbuf();
                return ss.str();
              }())
                  .as_object();
  EXPECT_EQ(file.at("handle").as_string(), alice.handle);
  EXPECT_EQ(file.at("did").as_string(), alice.did);
  EXPECT_EQ(file.at("plc_url").as_string(), env.plc_url);
  const std::string pds = std::string(file.at("pds_url").as_string());
  EXPECT_FALSE(pds.empty());
  const std::string first_session = std::string(file.at("session").as_string());
  // The Python SDK's session string: a Python client could import this file's session.
  EXPECT_EQ(atproto::parse_session_string(first_session).did, alice.did);

  auto who = run("whoami", {});
  ASSERT_EQ(who.status, 0) << who.err;
  EXPECT_EQ(who.out, "handle\t" + alice.handle + "\ndid\t" + alice.did + "\npds\t" + pds +
                         "\nsource\tsession file " + session_file().string() + "\n");
  auto who_json = run("whoami", {"--json"});
  ASSERT_EQ(who_json.status, 0) << who_json.err;
  auto wj = json::parse(who_json.out).as_object();
  EXPECT_EQ(wj.at("handle").as_string(), alice.handle);
  EXPECT_EQ(wj.at("did").as_string(), alice.did);
  EXPECT_EQ(wj.at("pds").as_string(), pds);
  EXPECT_EQ(wj.at("source").as_string(), "session_file");
  EXPECT_EQ(wj.at("session_file").as_string(), session_file().string());

  // A command on the saved session (no credentials in the environment).
  auto pub = run("schema", {"publish", write("fields.json", kFields), "--name", "CliAccountSchema"});
  ASSERT_EQ(pub.status, 0) << pub.err;
  EXPECT_EQ(pub.out.rfind("at://" + alice.did + "/ac.foundation.dataset.sampleSchema/", 0), 0u) << pub.out;

  // Refresh write-back: make the saved access token one that expired a
  // minute ago. The next command refreshes first and saves the new tokens.
  cli::StoredSession s = stored();
  atproto::Session parsed = atproto::parse_session_string(s.session);
  const std::string old_refresh = parsed.refresh_jwt;
  parsed.access_jwt = mint_access_token(env, alice.did, -60);
  s.session = atproto::format_session_string(parsed);
  cli::save_session_file(session_file(), s);
  auto after = run("whoami", {});
  ASSERT_EQ(after.status, 0) << after.err;
  EXPECT_EQ(after.err, "");
  const cli::StoredSession refreshed = stored();
  const atproto::Session now = atproto::parse_session_string(refreshed.session);
  // (EXPECT_TRUE: a failure must not print tokens into test logs.)
  EXPECT_TRUE(now.access_jwt != parsed.access_jwt);
  EXPECT_TRUE(now.refresh_jwt != old_refresh);  // the PDS rotates refresh tokens
  EXPECT_GT(
      atproto::jwt_expiry(now.access_jwt).value_or(0),
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  EXPECT_EQ(refreshed.plc_url, env.plc_url);  // the other members are kept
  EXPECT_EQ(mode_of(session_file()), 0600u);
  auto list = run("schema", {"list"});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_NE(list.out.find(pub.lines().at(0) + "\tCliAccountSchema\t1.0.0\n"), std::string::npos) << list.out;

  // The environment wins over the file: bob's credentials, alice's file.
  const auto& bob = env.accounts.at("bob");
  ::setenv("ATDATA_HANDLE", bob.handle.c_str(), 1);
  ::setenv("ATDATA_PASSWORD", bob.password.c_str(), 1);
  auto as_bob = run("whoami", {"--json"});
  {
    // An environment login needs no configuration directory at all.
    const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
    ::unsetenv("ATDATA_CONFIG_DIR");
    ::unsetenv("XDG_CONFIG_HOME");
    ::unsetenv("HOME");
    auto plain_bob = run("whoami", {});
    if (!home.empty()) ::setenv("HOME", home.c_str(), 1);
    ::setenv("ATDATA_CONFIG_DIR", cfg.c_str(), 1);
    EXPECT_EQ(plain_bob.status, 0) << plain_bob.err;
    EXPECT_NE(plain_bob.out.find("did\t" + bob.did + "\n"), std::string::npos) << plain_bob.out;
    EXPECT_NE(plain_bob.out.find("source\tenvironment (ATDATA_HANDLE, ATDATA_PASSWORD)\n"), std::string::npos)
        << plain_bob.out;
  }
  ::unsetenv("ATDATA_HANDLE");
  ::unsetenv("ATDATA_PASSWORD");
  ASSERT_EQ(as_bob.status, 0) << as_bob.err;
  auto bj = json::parse(as_bob.out).as_object();
  EXPECT_EQ(bj.at("did").as_string(), bob.did);
  EXPECT_EQ(bj.at("source").as_string(), "env_password");
  EXPECT_FALSE(bj.contains("session_file"));
  EXPECT_TRUE(stored().session == refreshed.session);  // an env login never touches the file

  // Logout revokes the session on the server: the saved refresh token is dead.
  const std::string last_session = stored().session;
  auto out = run("logout", {});
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(out.err, "");
  EXPECT_EQ(out.out, "logged out of " + alice.handle + " (removed " + session_file().string() + ")\n");
  EXPECT_FALSE(fs::exists(session_file()));
  {
    boost::asio::io_context io;
    atproto::AtmosphereClient c(io.get_executor(), env.client_options());
    c.restore_session(atproto::parse_session_string(last_session));
    EXPECT_THROW(run_io(io, c.refresh_session()), XrpcError);
  }
  auto again = run("logout", {});
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(again.out, "not logged in (no session file at " + session_file().string() + ")\n");
  auto gone = run("whoami", {});
  EXPECT_EQ(gone.status, cli::kExitAuth);
  EXPECT_NE(gone.err.find("not logged in"), std::string::npos);

  expect_no_secrets({first_session, refreshed.session, last_session});
}

TEST_F(CliAccount, RevokedSavedSessionSaysToLogInAgain) {
  login_as("alice");
  const std::string saved = stored().session;
  // Revoke the session behind the file's back (as logout elsewhere would).
  {
    boost::asio::io_context io;
    atproto::AtmosphereClient c(io.get_executor(), PdsEnv::get().client_options());
    auto s = atproto::parse_session_string(saved);
    atproto::XrpcClient x(c.http(), s.pds_endpoint);
    atproto::XrpcCall call;
    call.bearer = s.refresh_jwt;
    run_io(io, x.procedure_empty("com.atproto.server.deleteSession", std::move(call)));
  }
  // The access token itself stays valid until it expires; an expired one
  // forces the refresh the server now refuses.
  cli::StoredSession s = stored();
  auto parsed = atproto::parse_session_string(s.session);
  parsed.access_jwt = mint_access_token(PdsEnv::get(), parsed.did, -60);
  s.session = atproto::format_session_string(parsed);
  cli::save_session_file(session_file(), s);
  auto r = run("schema", {"list"});
  EXPECT_EQ(r.status, cli::kExitAuth) << r.err;
  EXPECT_NE(r.err.find("run `atdata login HANDLE` again"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  expect_no_secrets({saved, s.session});
}

TEST_F(CliAccount, PasswordFromStdin) {
  const auto& bob = PdsEnv::get().accounts.at("bob");
  auto r = login(bob.handle, {"--password-stdin"}, bob.password + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(stored().did, bob.did);
  auto empty = login(bob.handle, {"--password-stdin"}, "\n");
  EXPECT_EQ(empty.status, cli::kExitUsage);
  EXPECT_EQ(stored().did, bob.did);  // a failed login keeps the saved session
  expect_no_secrets({stored().session});
}

TEST_F(CliAccount, SchemaPublishListShow) {
  login_as("alice");
  const std::string name = "CliSchema" + std::to_string(std::random_device{}());
  auto pub = run("schema", {"publish", write("f.json", kFields), "--name", name, "--version", "2.1.0",
                            "--description", "two\tfields"});
  ASSERT_EQ(pub.status, 0) << pub.err;
  ASSERT_EQ(pub.lines().size(), 1u);
  const std::string uri = pub.lines()[0];

  auto plain = run("schema", {"list"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(line_starting(plain.lines(), uri + "\t"), uri + "\t" + name + "\t2.1.0");

  auto lj = run("schema", {"list", "--json"});
  ASSERT_EQ(lj.status, 0) << lj.err;
  json::object entry;
  for (const auto& l : lj.lines()) {
    auto o = json::parse(l).as_object();  // every line is one JSON object
    EXPECT_EQ(o.size(), 3u);
    if (o.at("uri").as_string() == uri) entry = o;
  }
  ASSERT_FALSE(entry.empty()) << lj.out;
  const std::string cid = std::string(entry.at("cid").as_string());
  EXPECT_EQ(cid.rfind("bafyrei", 0), 0u);
  const auto& value = entry.at("value").as_object();
  EXPECT_EQ(value.at("$type").as_string(), "ac.foundation.dataset.sampleSchema");
  EXPECT_EQ(value.at("name").as_string(), name);
  EXPECT_EQ(value.at("description").as_string(), "two\tfields");
  EXPECT_EQ(value.at("fields").as_array().size(), 2u);

  auto show = run("schema", {"show", uri});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(json::parse(show.out), entry.at("value"));
  EXPECT_GT(show.lines().size(), 10u);  // indented, not one line
  auto sj = run("schema", {"show", uri, "--json"});
  ASSERT_EQ(sj.status, 0) << sj.err;
  ASSERT_EQ(sj.lines().size(), 1u);
  EXPECT_EQ(json::parse(sj.out), json::value(entry));

  // What `show --json` prints publishes again as a new record.
  auto again = run("schema", {"publish", write("shown.json", sj.out), "--version", "2.2.0"});
  ASSERT_EQ(again.status, 0) << again.err;
  auto shown_again = run("schema", {"show", again.lines().at(0), "--json"});
  ASSERT_EQ(shown_again.status, 0);
  auto v2 = json::parse(shown_again.out).as_object().at("value").as_object();
  EXPECT_EQ(v2.at("name").as_string(), name);
  EXPECT_EQ(v2.at("version").as_string(), "2.2.0");
  EXPECT_EQ(v2.at("fields"), value.at("fields"));

  // Another account reads alice's schemas without logging in (fresh config).
  ::setenv("ATDATA_CONFIG_DIR", (dir.path / "empty").c_str(), 1);
  for (const std::string& repo :
       {PdsEnv::get().accounts.at("alice").did, PdsEnv::get().accounts.at("alice").handle}) {
    auto other = run("schema", {"list", "--repo", repo});
    ASSERT_EQ(other.status, 0) << other.err;
    EXPECT_EQ(line_starting(other.lines(), uri + "\t"), uri + "\t" + name + "\t2.1.0") << repo;
  }
  auto anon_show = run("schema", {"show", uri, "--json"});
  ASSERT_EQ(anon_show.status, 0) << anon_show.err;
  EXPECT_EQ(json::parse(anon_show.out), json::value(entry));
  EXPECT_EQ(run("schema", {"list"}).status, cli::kExitAuth);  // own repo: needs a login
}

TEST_F(CliAccount, DatasetPublishListShowAndAlias) {
  login_as("alice");
  Account alice("alice");
  atmosphere::SchemaPublisher sp(alice.client);
  atmosphere::SchemaPublishOptions so;
  so.name = "CliDatasetSample";
  const std::string schema = alice.run(sp.publish<FeatureSample>(std::move(so))).str();
  const std::string name = "cli-ds-" + std::to_string(std::random_device{}());
  auto pub = run("dataset", {"publish", "https://example.com/d-{000000..000003}.tar", "--name", name,
                             "--schema-uri", schema, "--tag", "x", "--license", "MIT"});
  ASSERT_EQ(pub.status, 0) << pub.err;
  const std::string uri = pub.lines().at(0);
  auto alias =
      run("publish", {"https://example.com/e.tar", "--name", name + "-alias", "--schema-uri", schema});
  ASSERT_EQ(alias.status, 0) << alias.err;

  auto plain = run("dataset", {"list"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(line_starting(plain.lines(), uri + "\t"),
            uri + "\t" + name + "\t" + schema + "\thttps://example.com/d-{000000..000003}.tar");
  EXPECT_EQ(line_starting(plain.lines(), alias.lines().at(0) + "\t"),
            alias.lines().at(0) + "\t" + name + "-alias\t" + schema + "\thttps://example.com/e.tar");
  // `ls` prints the same lines.
  auto ls = run("ls", {});
  ASSERT_EQ(ls.status, 0) << ls.err;
  EXPECT_EQ(line_starting(ls.lines(), uri + "\t"), line_starting(plain.lines(), uri + "\t"));

  auto lj = run("dataset", {"list", "--json"});
  ASSERT_EQ(lj.status, 0) << lj.err;
  json::object entry;
  for (const auto& l : lj.lines()) {
    auto o = json::parse(l).as_object();
    if (o.at("uri").as_string() == uri) entry = o;
  }
  ASSERT_FALSE(entry.empty());
  const auto& value = entry.at("value").as_object();
  EXPECT_EQ(value.at("$type").as_string(), "ac.foundation.dataset.record");
  EXPECT_EQ(value.at("schemaRef").as_string(), schema);
  EXPECT_EQ(value.at("storage").at("urls").as_array().at(0).as_string(),
            "https://example.com/d-{000000..000003}.tar");
  EXPECT_EQ(value.at("tags").as_array().at(0).as_string(), "x");

  auto show = run("dataset", {"show", uri, "--json"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(json::parse(show.out), json::value(entry));
  auto pretty = run("dataset", {"show", uri});
  ASSERT_EQ(pretty.status, 0) << pretty.err;
  EXPECT_EQ(json::parse(pretty.out), entry.at("value"));

  // A record of another kind is not a dataset; a missing one is exit 4.
  auto wrong = run("dataset", {"show", schema});
  EXPECT_EQ(wrong.status, cli::kExitError);
  EXPECT_NE(wrong.err.find("is not a dataset record"), std::string::npos) << wrong.err;
  const auto at = atmosphere::AtUri::parse(uri);
  auto missing = run("dataset", {"show", "at://" + at.authority + "/" + at.collection + "/3zzzzzzzzzzzz"});
  EXPECT_EQ(missing.status, cli::kExitNotFound) << missing.err;
  EXPECT_EQ(missing.err.rfind("atdata: error: ", 0), 0u);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);
  auto nobody = run("dataset", {"list", "--repo", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"});
  EXPECT_EQ(nobody.status, cli::kExitNotFound) << nobody.err;
  auto no_handle = run("dataset", {"list", "--repo", "nobody-here.test"});
  EXPECT_EQ(no_handle.status, cli::kExitNotFound) << no_handle.err;

  // bob lists alice's datasets with his own login.
  ::unsetenv("ATDATA_CONFIG_DIR");
  ::setenv("ATDATA_CONFIG_DIR", (dir.path / "bob").c_str(), 1);
  login_as("bob");
  auto bobs = run("dataset", {"list", "--repo", PdsEnv::get().accounts.at("alice").handle, "--json"});
  ASSERT_EQ(bobs.status, 0) << bobs.err;
  EXPECT_NE(bobs.out.find("\"uri\":\"" + uri + "\""), std::string::npos);
  expect_no_secrets({stored().session});
}

TEST_F(CliAccount, LensPublishListShow) {
  login_as("alice");
  const auto& alice = PdsEnv::get().accounts.at("alice");
  const std::string src = "at://" + alice.did + "/ac.foundation.dataset.sampleSchema/srcschema";
  const std::string dst = "at://" + alice.did + "/ac.foundation.dataset.sampleSchema/dstschema";
  const std::string name = "cli-lens-" + std::to_string(std::random_device{}());
  auto pub = run("lens", {"publish", "--name", name, "--source", src, "--target", dst, "--repository",
                          "https://github.com/example/lenses", "--commit", "0123abc", "--getter",
                          "lenses.py:to_gray", "--description", "gray"});
  ASSERT_EQ(pub.status, 0) << pub.err;
  const std::string uri = pub.lines().at(0);
  EXPECT_EQ(uri.rfind("at://" + alice.did + "/ac.foundation.dataset.lens/", 0), 0u);
  // Without code references the lexicon refuses the lens; --no-validate writes it anyway.
  auto refused = run("lens", {"publish", "--name", name + "-bare", "--source", src, "--target", dst});
  EXPECT_EQ(refused.status, 1) << refused.err;
  EXPECT_NE(refused.err.find("needs a repository and a commit"), std::string::npos) << refused.err;
  auto bare =
      run("lens", {"publish", "--name", name + "-bare", "--source", src, "--target", dst, "--no-validate"});
  ASSERT_EQ(bare.status, 0) << bare.err;

  auto plain = run("lens", {"list"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(line_starting(plain.lines(), uri + "\t"), uri + "\t" + name + "\t" + src + "\t" + dst);

  auto show = run("lens", {"show", uri});
  ASSERT_EQ(show.status, 0) << show.err;
  auto v = json::parse(show.out).as_object();
  EXPECT_EQ(v.at("$type").as_string(), "ac.foundation.dataset.lens");
  EXPECT_EQ(v.at("description").as_string(), "gray");
  EXPECT_EQ(v.at("getterCode").at("repository").as_string(), "https://github.com/example/lenses");
  EXPECT_EQ(v.at("getterCode").at("commit").as_string(), "0123abc");
  EXPECT_EQ(v.at("getterCode").at("path").as_string(), "lenses.py:to_gray");
  EXPECT_EQ(v.at("putterCode").at("path").as_string(), "atdata.lens:_trivial_put");  // the default putter
  auto bare_show = run("lens", {"show", bare.lines().at(0)});
  ASSERT_EQ(bare_show.status, 0);
  EXPECT_FALSE(json::parse(bare_show.out).as_object().contains("getterCode"));

  auto lj = run("lens", {"list", "--json", "--repo", alice.did});
  ASSERT_EQ(lj.status, 0) << lj.err;
  bool found = false;
  for (const auto& l : lj.lines()) {
    auto o = json::parse(l).as_object();
    if (o.at("uri").as_string() != uri) continue;
    found = true;
    EXPECT_EQ(o.at("value"), json::value(v));
    auto sj = run("lens", {"show", uri, "--json"});
    EXPECT_EQ(json::parse(sj.out), json::value(o));
  }
  EXPECT_TRUE(found) << lj.out;
  auto wrong = run("schema", {"show", uri});
  EXPECT_EQ(wrong.status, cli::kExitError);
  EXPECT_NE(wrong.err.find("is not a schema record"), std::string::npos) << wrong.err;
  auto missing = run("lens", {"show", "at://" + alice.did + "/ac.foundation.dataset.lens/3zzzzzzzzzzzz"});
  EXPECT_EQ(missing.status, cli::kExitNotFound) << missing.err;
  expect_no_secrets({stored().session});
}

}  // namespace
}  // namespace atdata::test
