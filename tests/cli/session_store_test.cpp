// The session file of `atdata login` (location, permissions, atomic replace,
// corrupt files), where commands take their credentials from, the exit
// statuses, and every check the account and record commands make before
// they touch the network.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <boost/json/parse.hpp>

#include "account.hpp"
#include "common.hpp"
#include "records.hpp"
#include "session_store.hpp"

namespace atdata::cli {
namespace {

namespace fs = std::filesystem;

// Tokens only ever appear inside the session string; tests check they are
// never echoed.
const std::string kSecret = "eyJSECRETACCESS.payload.sig";
const std::string kRefresh = "eyJSECRETREFRESH.payload.sig";

StoredSession sample_session(const std::string& handle = "alice.test") {
  StoredSession s;
  s.handle = handle;
  s.did = "did:plc:abcdefghijklmnopqrstuvwx";
  s.pds_url = "http://localhost:2583";
  s.plc_url = "http://localhost:2582";
  s.session = handle + ":::" + s.did + ":::" + kSecret + ":::" + kRefresh + ":::" + s.pds_url;
  return s;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A private directory and an environment with no credentials; every
// variable a test may touch is put back afterwards.
class SessionEnv : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {"ATDATA_CONFIG_DIR", "XDG_CONFIG_HOME", "HOME",
                                          "ATDATA_HANDLE",     "ATDATA_PASSWORD", "ATDATA_SESSION",
                                          "ATDATA_PDS_URL",    "ATDATA_PLC_URL"};
  fs::path root;
  fs::path cfg;
  std::map<std::string, std::optional<std::string>> saved;

  void SetUp() override {
    for (const char* v : kVars) {
      const char* cur = std::getenv(v);
      saved[v] = cur ? std::optional<std::string>(cur) : std::nullopt;
      ::unsetenv(v);
    }
    std::random_device rd;
    root = fs::temp_directory_path() / ("atdata-cli-session-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(root);
    cfg = root / "cfg";
    ::setenv("ATDATA_CONFIG_DIR", cfg.c_str(), 1);
    // Nothing here may reach a server: a closed port fails fast if it tried.
    ::setenv("ATDATA_PDS_URL", "http://127.0.0.1:9", 1);
    ::setenv("ATDATA_PLC_URL", "http://127.0.0.1:9", 1);
  }
  void TearDown() override {
    for (const auto& [k, v] : saved) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
    std::error_code ec;
    fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root, ec);
  }
  fs::path file() const { return cfg / "session.json"; }
  void write_raw(const std::string& text, mode_t mode = 0600) {
    fs::create_directories(cfg);
    std::ofstream(file(), std::ios::binary | std::ios::trunc) << text;
    ::chmod(file().c_str(), mode);
  }
};

struct Run {
  int status = -1;
  std::string out, err;
};

template <class F>
Run run(F f) {
  std::ostringstream out, err;
  Run r;
  r.status = f(out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

Run cmd(const std::string& group, std::vector<std::string> args) {
  return run([&](std::ostream& out, std::ostream& err) {
    if (group == "schema") return run_schema(args, out, err);
    if (group == "dataset") return run_dataset(args, out, err, ProgressMode::off);
    if (group == "lens") return run_lens(args, out, err);
    if (group == "whoami") return run_whoami(args, out, err);
    if (group == "logout") return run_logout(args, out, err);
    if (group == "ls") return run_ls(args, out, err);
    if (group == "publish") return run_publish(args, out, err, ProgressMode::off);
    std::istringstream in;
    return run_login(args, in, out, err);
  });
}

std::size_t line_count(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// ---- location ---------------------------------------------------------------
TEST_F(SessionEnv, ConfigDirPrecedence) {
  EXPECT_EQ(config_dir(), cfg);
  EXPECT_EQ(session_file_path(), cfg / "session.json");
  ::unsetenv("ATDATA_CONFIG_DIR");
  ::setenv("XDG_CONFIG_HOME", "/x/conf", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(config_dir(), fs::path("/x/conf/atdata"));
  ::setenv("XDG_CONFIG_HOME", "", 1);  // empty counts as unset
  EXPECT_EQ(config_dir(), fs::path("/home/u/.config/atdata"));
  ::setenv("ATDATA_CONFIG_DIR", "/explicit", 1);
  EXPECT_EQ(config_dir(), fs::path("/explicit"));
  ::unsetenv("ATDATA_CONFIG_DIR");
  ::unsetenv("HOME");
  EXPECT_THROW(config_dir(), InvalidArgument);
}

// ---- writing ----------------------------------------------------------------
TEST_F(SessionEnv, SaveCreatesPrivateDirectoryAndFileWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    SCOPED_TRACE(mask);
    const fs::path f = root / ("m" + std::to_string(mask)) / "nested" / "atdata" / "session.json";
    const mode_t old = ::umask(mask);
    save_session_file(f, sample_session());
    ::umask(old);
    EXPECT_EQ(mode_of(f.parent_path()), 0700u);
    EXPECT_EQ(mode_of(f), 0600u);
    auto loaded = load_session_file(f);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->session, sample_session().session);
  }
  // An existing directory keeps the mode its owner gave it.
  fs::create_directories(root / "mine");
  ::chmod((root / "mine").c_str(), 0750);
  save_session_file(root / "mine" / "session.json", sample_session());
  EXPECT_EQ(mode_of(root / "mine"), 0750u);
  EXPECT_EQ(mode_of(root / "mine" / "session.json"), 0600u);
}

TEST_F(SessionEnv, RoundTripKeepsEveryMember) {
  StoredSession s = sample_session();
  save_session_file(file(), s);
  auto v = boost::json::parse(read_file(file())).as_object();
  EXPECT_EQ(v.at("version").as_int64(), 1);
  EXPECT_EQ(v.at("handle").as_string(), "alice.test");
  EXPECT_EQ(v.at("did").as_string(), s.did);
  EXPECT_EQ(v.at("pds_url").as_string(), s.pds_url);
  EXPECT_EQ(v.at("plc_url").as_string(), s.plc_url);
  EXPECT_EQ(v.at("session").as_string(), s.session);
  auto back = load_session_file(file());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->handle, s.handle);
  EXPECT_EQ(back->did, s.did);
  EXPECT_EQ(back->pds_url, s.pds_url);
  EXPECT_EQ(back->plc_url, s.plc_url);
  EXPECT_EQ(back->session, s.session);
  // Without a PLC URL the member is left out, and reads back empty.
  s.plc_url.clear();
  save_session_file(file(), s);
  EXPECT_FALSE(boost::json::parse(read_file(file())).as_object().contains("plc_url"));
  EXPECT_EQ(load_session_file(file())->plc_url, "");
  EXPECT_FALSE(load_session_file(cfg / "absent.json"));
}

TEST_F(SessionEnv, ReplaceIsAtomicRename) {
  save_session_file(file(), sample_session("first.test"));
  const std::string first = read_file(file());
  // A second name for the old inode shows whether the file was rewritten in
  // place (a reader could see it half-written) or replaced by a rename.
  fs::create_hard_link(file(), cfg / "old-link");
  const ino_t before = inode_of(file());
  save_session_file(file(), sample_session("second.test"));
  EXPECT_NE(inode_of(file()), before);
  EXPECT_EQ(read_file(cfg / "old-link"), first);
  EXPECT_EQ(load_session_file(file())->handle, "second.test");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(cfg)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"old-link", "session.json"}));  // no temporary left
}

TEST_F(SessionEnv, FailedWriteLeavesTheOldFileAndNoTemporary) {
  save_session_file(file(), sample_session("kept.test"));
  const std::string before = read_file(file());
  // Files may not grow past 16 bytes: the write of the temporary fails.
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string what;
  try {
    save_session_file(file(), sample_session("lost.test"));
  } catch (const Error& e) {
    what = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_NE(what.find("cannot write session file " + file().string()), std::string::npos) << what;
  EXPECT_EQ(what.find(kSecret), std::string::npos);
  EXPECT_EQ(read_file(file()), before);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(cfg)) ++entries;
  EXPECT_EQ(entries, 1u);
}

// ---- reading damaged files ------------------------------------------------------
TEST_F(SessionEnv, CorruptFilesGiveAClearErrorWithoutTheirContent) {
  const StoredSession good = sample_session();
  const std::string did = good.did;
  struct Case {
    std::string text;
    mode_t mode;
    std::string says;
  };
  std::vector<Case> cases = {
      {"not json " + kSecret, 0600, "is not valid JSON"},
      {"[\"" + kSecret + "\"]", 0600, "is not a JSON object"},
      {R"({"handle":"a.test","did":")" + did + R"(","pds_url":"http://x"})", 0600, "has no 'session' member"},
      {R"({"handle":"a.test","did":")" + did + R"(","pds_url":"http://x","session":")" + kSecret + R"("})",
       0600, "unusable session string"},
      {R"({"handle":"a.test","did":"did:plc:other","pds_url":"http://x","session":")" + good.session +
           R"("})",
       0600, "for another DID"},
      {R"({"handle":"a.test","did":"nodid","pds_url":"http://x","session":")" + good.session + R"("})", 0600,
       "not a DID"},
      {R"({"version":7,"handle":"a.test","did":")" + did + R"(","pds_url":"x","session":")" + good.session +
           R"("})",
       0600, "newer atdata"},
      {std::string(70 * 1024, ' '), 0600, "larger than 64 KiB"},
      // A good file others can read is refused, like ssh refuses such keys.
      {"", 0644, "accessible by other users (mode 0644, expected 0600)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    if (c.text.empty()) {
      save_session_file(file(), good);
      ::chmod(file().c_str(), c.mode);
    } else {
      write_raw(c.text, c.mode);
    }
    std::string what;
    try {
      load_session_file(file());
    } catch (const SessionFileError& e) {
      what = e.what();
    }
    EXPECT_NE(what.find("session file " + file().string() + " "), std::string::npos) << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << what;
    EXPECT_NE(what.find("atdata login"), std::string::npos) << what;
    EXPECT_EQ(what.find("SECRET"), std::string::npos) << what;
    // Commands that need the account stop with exit 3 and the same one line.
    auto r = cmd("schema", {"list"});
    EXPECT_EQ(r.status, kExitAuth);
    EXPECT_EQ(r.err, "atdata: error: " + what + "\n");
  }
  fs::remove(file());
  fs::create_directories(file());
  EXPECT_THROW(load_session_file(file()), SessionFileError);
  fs::remove(file());
}

TEST_F(SessionEnv, LogoutClearsADamagedFileAndIsIdempotent) {
  write_raw("{broken");
  auto r = cmd("logout", {});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(file()));
  EXPECT_NE(r.err.find("unusable"), std::string::npos) << r.err;
  auto again = cmd("logout", {});
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(again.out, "not logged in (no session file at " + file().string() + ")\n");
}

// ---- where credentials come from -------------------------------------------------
TEST_F(SessionEnv, EnvironmentCredentialsTakePrecedenceOverTheFile) {
  EXPECT_EQ(credential_source(false), CredentialSource::none);
  EXPECT_EQ(credential_source(true), CredentialSource::session_file);
  ::setenv("ATDATA_HANDLE", "bob.test", 1);  // incomplete: the file still counts
  EXPECT_EQ(credential_source(true), CredentialSource::session_file);
  ::setenv("ATDATA_PASSWORD", "", 1);
  EXPECT_EQ(credential_source(true), CredentialSource::session_file);
  ::setenv("ATDATA_SESSION", "x:::y:::z:::w", 1);
  EXPECT_EQ(credential_source(true), CredentialSource::env_session);
  ::setenv("ATDATA_PASSWORD", "pw", 1);
  EXPECT_EQ(credential_source(true), CredentialSource::env_password);
  EXPECT_EQ(credential_source(false), CredentialSource::env_password);

  // With the environment complete, a damaged file is not even read: the
  // command fails on the (unreachable) server, not on the file.
  write_raw("{broken");
  auto r = cmd("whoami", {});
  EXPECT_EQ(r.status, kExitError) << r.err;
  EXPECT_EQ(r.err.find("session file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pw"), std::string::npos) << r.err;
  ::unsetenv("ATDATA_PASSWORD");
  ::unsetenv("ATDATA_SESSION");
  r = cmd("whoami", {});
  EXPECT_EQ(r.status, kExitAuth);
  EXPECT_NE(r.err.find("session file"), std::string::npos) << r.err;
}

TEST_F(SessionEnv, ClientOptionsPreferTheEnvironmentOverTheFile) {
  StoredSession s = sample_session();
  ::unsetenv("ATDATA_PDS_URL");
  ::unsetenv("ATDATA_PLC_URL");
  auto o = client_options(&s);
  EXPECT_EQ(o.base_url, s.pds_url);
  EXPECT_EQ(o.identity.plc_url, s.plc_url);
  ::setenv("ATDATA_PDS_URL", "http://env-pds", 1);
  ::setenv("ATDATA_PLC_URL", "http://env-plc", 1);
  o = client_options(&s);
  EXPECT_EQ(o.base_url, "http://env-pds");
  EXPECT_EQ(o.identity.plc_url, "http://env-plc");
}

// ---- exit statuses ----------------------------------------------------------------
TEST(CliExitStatus, EachFailureHasItsCode) {
  EXPECT_EQ(exit_status_for(UsageError("x")), kExitUsage);
  EXPECT_EQ(exit_status_for(NotLoggedIn("x")), kExitAuth);
  EXPECT_EQ(exit_status_for(SessionFileError("x")), kExitAuth);
  EXPECT_EQ(exit_status_for(AuthError("x")), kExitAuth);
  EXPECT_EQ(exit_status_for(XrpcError(401, "n", "AuthenticationRequired", "Invalid identifier or password")),
            kExitAuth);
  EXPECT_EQ(exit_status_for(XrpcError(400, "n", "ExpiredToken", "Token has expired")), kExitAuth);
  EXPECT_EQ(exit_status_for(XrpcError(400, "n", "InvalidToken", "")), kExitAuth);
  EXPECT_EQ(exit_status_for(XrpcError(400, "n", "RecordNotFound", "Could not locate record")), kExitNotFound);
  EXPECT_EQ(exit_status_for(XrpcError(400, "n", "InvalidRequest", "Could not find repo: did:plc:x")),
            kExitNotFound);
  EXPECT_EQ(exit_status_for(XrpcError(400, "n", "InvalidRequest", "bad collection")), kExitError);
  EXPECT_EQ(exit_status_for(XrpcError(500, "n", "InternalServerError", "")), kExitError);
  using Cause = DidResolutionError::Cause;
  EXPECT_EQ(
      exit_status_for(DidResolutionError(Cause::not_found, "did:plc:x", "http://plc", "not found", 404)),
      kExitNotFound);
  EXPECT_EQ(exit_status_for(DidResolutionError(Cause::unreachable, "did:plc:x", "http://plc", "refused")),
            kExitError);
  EXPECT_EQ(exit_status_for(Error("Could not resolve handle x.test: Unable to resolve handle")),
            kExitNotFound);
  EXPECT_EQ(exit_status_for(RecordError("$type", "not a schema record")), kExitError);
  EXPECT_EQ(exit_status_for(std::runtime_error("x")), kExitError);
}

// ---- checks made before any network call ----------------------------------------------
TEST_F(SessionEnv, NotLoggedInIsExit3WithAHint) {
  for (auto r :
       {cmd("whoami", {}), cmd("schema", {"list"}), cmd("dataset", {"list", "--json"}), cmd("lens", {"list"}),
        cmd("ls", {}),
        cmd("publish", {"https://x/a.tar", "--name", "n", "--schema-uri", "at://did:plc:x/c/r"}),
        cmd("lens", {"publish", "--name", "l", "--source", "at://a/b/c", "--target", "at://a/b/d"})}) {
    EXPECT_EQ(r.status, kExitAuth) << r.err;
    EXPECT_EQ(r.err,
              "atdata: error: not logged in: run `atdata login HANDLE`, or set ATDATA_HANDLE and "
              "ATDATA_PASSWORD (or ATDATA_SESSION)\n");
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(SessionEnv, UsageErrorsAreExit2WithTheUsage) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"schema", {}},
      {"schema", {"frobnicate"}},
      {"schema", {"show"}},
      {"schema", {"show", "not-an-at-uri"}},
      {"schema", {"list", "--repo", "not a handle!"}},
      {"schema", {"list", "extra"}},
      {"schema", {"publish"}},
      {"dataset", {"show", "a", "b"}},
      {"dataset", {"list", "--bogus"}},
      {"lens", {"publish", "--name", "l", "--source", "at://a/b/c"}},
      {"lens",
       {"publish", "--name", "l", "--source", "at://a/b/c", "--target", "at://a/b/d", "--getter", "m:f"}},
      {"lens",
       {"publish", "--name", "l", "--source", "at://a/b/c", "--target", "at://a/b/d", "--repository", "r"}},
      {"whoami", {"extra"}},
      {"logout", {"extra"}},
      {"login", {}},
      {"login", {"alice.test"}},  // no password: not a terminal, no ATDATA_PASSWORD
      {"ls", {"a", "b"}},
  };
  for (const auto& [group, args] : cases) {
    SCOPED_TRACE(group + " " + (args.empty() ? "" : args[0]));
    auto r = cmd(group, args);
    EXPECT_EQ(r.status, kExitUsage) << r.err;
    EXPECT_EQ(r.err.rfind("atdata: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("\nusage: atdata "), std::string::npos) << r.err;
  }
  for (const std::string group : {"schema", "dataset", "lens"}) {
    auto h = cmd(group, {"--help"});
    EXPECT_EQ(h.status, 0);
    EXPECT_EQ(h.out.rfind("usage: atdata " + group + " publish", 0), 0u) << h.out;
    auto sub = cmd(group, {"list", "--help"});
    EXPECT_EQ(sub.status, 0);
    EXPECT_NE(sub.out.find("list [--repo HANDLE_OR_DID] [--json]"), std::string::npos) << sub.out;
  }
}

TEST_F(SessionEnv, SchemaFilesAreCheckedBeforeLoggingIn) {
  fs::create_directories(root);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(root / name) << text;
    return (root / name).string();
  };
  const std::string fields =
      R"([{"name":"x","fieldType":{"$type":"ac.foundation.dataset.schemaType#primitive","primitive":"int"},"optional":false}])";
  // No name anywhere: a usage error naming the fix.
  auto r = cmd("schema", {"publish", write("noname.json", fields)});
  EXPECT_EQ(r.status, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("give --name"), std::string::npos) << r.err;
  r = cmd("schema", {"publish", write("bad.json", "{nope")});
  EXPECT_EQ(r.status, kExitError);
  EXPECT_EQ(line_count(r.err), 1u);
  EXPECT_NE(r.err.find("is not JSON"), std::string::npos) << r.err;
  r = cmd("schema", {"publish", write("num.json", "42"), "--name", "n"});
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.err.find("must hold a sampleSchema record"), std::string::npos) << r.err;
  r = cmd("schema", {"publish", write("badfield.json", R"({"name":"n","fields":[{"name":"x"}]})")});
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.err.find("fieldType"), std::string::npos) << r.err;
  r = cmd("schema", {"publish", write("float.json", R"({"name":"n","fields":[],"metadata":{"f":1.5}})")});
  EXPECT_EQ(r.status, kExitError);
  r = cmd("schema", {"publish", (root / "missing.json").string(), "--name", "n"});
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
  // A valid file gets as far as logging in (exit 3: nobody is).
  r = cmd("schema", {"publish", write("ok.json", fields), "--name", "n"});
  EXPECT_EQ(r.status, kExitAuth) << r.err;
}

// ---- output helpers --------------------------------------------------------------------
TEST(CliOutput, CellsStayOnOneLineAndPrettyJsonIsIndented) {
  EXPECT_EQ(tsv_cell("a\tb\nc\rd"), "a b c d");
  auto v = boost::json::parse(R"({"a":[1,{"b":"x"}],"e":{},"f":[]})");
  EXPECT_EQ(pretty_json(v),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}");
  EXPECT_EQ(boost::json::parse(pretty_json(v)), v);
}

TEST(CliOutput, ErrorsAreOneLine) {
  std::ostringstream err;
  print_error(err, "first\nsecond");
  EXPECT_EQ(err.str(), "atdata: error: first second\n");
}

}  // namespace
}  // namespace atdata::cli
