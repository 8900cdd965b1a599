#include "account.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "atdata/atproto/session.hpp"
#include "atdata/atproto/xrpc_client.hpp"
#include "common.hpp"

namespace atdata::cli {

namespace fs = std::filesystem;
namespace json = boost::json;
using atproto::AtmosphereClient;

namespace {

constexpr const char* kLoginUsage = "usage: atdata login HANDLE [--pds URL] [--password-stdin]";
constexpr const char* kWhoamiUsage = "usage: atdata whoami [--json]";
constexpr const char* kLogoutUsage = "usage: atdata logout";
constexpr std::size_t kMaxPasswordBytes = 1024;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Overwrites a secret before its memory is released.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

// One line, without its line break; bounded so a wrong file on stdin cannot
// make us read gigabytes.
std::string read_secret_line(std::istream& in) {
  std::string line;
  char c;
  while (in.get(c)) {
    if (c == '\n') break;
    if (line.size() >= kMaxPasswordBytes) {
      wipe(line);
      throw InvalidArgument("the password is longer than 1024 bytes");
    }
    line.push_back(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The terminal settings to put back if a signal ends the prompt.
termios g_saved_tty;
volatile sig_atomic_t g_tty_changed = 0;

void restore_tty_and_reraise(int sig) {
  if (g_tty_changed) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tty);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Reads the password from the terminal with echo off. Ctrl-C during the
// prompt restores echo before the process ends.
std::string prompt_password(std::istream& in, std::ostream& err, const std::string& who) {
  err << "app password for " << who << ": " << std::flush;
  termios tty{};
  if (::tcgetattr(STDIN_FILENO, &tty) != 0) throw Error("cannot read the terminal settings of stdin");
  g_saved_tty = tty;
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction act {
  }, old[4];
  act.sa_handler = restore_tty_and_reraise;
  sigemptyset(&act.sa_mask);
  for (int i = 0; i < 4; ++i) {
    ::sigaction(sigs[i], nullptr, &old[i]);
    // A signal the caller ignores (nohup, a shell's background job) stays ignored.
    if (old[i].sa_handler != SIG_IGN) ::sigaction(sigs[i], &act, nullptr);
  }
  termios quiet = tty;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  g_tty_changed = 1;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string pw;
  std::exception_ptr failed;
  try {
    pw = read_secret_line(in);
  } catch (...) {
    failed = std::current_exception();
  }
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_tty);
  g_tty_changed = 0;
  for (int i = 0; i < 4; ++i) ::sigaction(sigs[i], &old[i], nullptr);
  err << "\n";  // the user's Enter was not echoed
  if (failed) std::rethrow_exception(failed);
  return pw;
}

}  // namespace

int run_login(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  return guarded(kLoginUsage, err, [&] {
    auto p = parse_args(args, {"--pds"}, {"--password-stdin"});
    if (p.help) {
      out << kLoginUsage << "\n";
      return kExitOk;
    }
    if (p.positional.size() != 1) throw UsageError("give exactly one HANDLE (or DID) to log in as");
    const std::string who = p.positional[0];
    if (who.empty()) throw UsageError("HANDLE is empty");
    // Resolved before any network call: a missing HOME fails fast.
    const auto file = session_file_path();

    std::string password;
    if (p.flag("--password-stdin")) {
      password = read_secret_line(in);
    } else if (auto e = env("ATDATA_PASSWORD"); !e.empty()) {
      password = std::move(e);
    } else if (&in == &std::cin && ::isatty(STDIN_FILENO)) {
      password = prompt_password(in, err, who);
    } else {
      throw UsageError(
          "no password: set ATDATA_PASSWORD, pass --password-stdin, or run on a terminal to be prompted");
    }
    if (password.empty()) {
      throw UsageError("empty password");
    }

    auto opts = AtmosphereClient::options_from_env();
    if (auto pds = p.value("--pds")) opts.base_url = *pds;
    Connection c(err);
    AtmosphereClient client(c.io().get_executor(), opts);
    std::exception_ptr failed;
    try {
      c.run(client.login(who, password));
    } catch (...) {
      failed = std::current_exception();
    }
    wipe(password);
    if (failed) std::rethrow_exception(failed);

    StoredSession s;
    s.handle = client.handle();
    s.did = client.did();
    s.pds_url = client.service_url();
    s.plc_url = env("ATDATA_PLC_URL");
    s.session = client.export_session();
    save_session_file(file, s);
    out << "logged in as " << s.handle << " (" << s.did << ") on " << s.pds_url << "\n";
    err << "session saved to " << file.string() << "\n";
    const auto overriding = credential_source(true);
    if (overriding != CredentialSource::session_file) {
      print_warning(err, "commands will keep using the " + describe(overriding, file) +
                             ", which takes precedence over the saved session");
    }
    return kExitOk;
  });
}

int run_whoami(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kWhoamiUsage, err, [&] {
    auto p = parse_args(args, {}, {"--json"});
    if (p.help) {
      out << kWhoamiUsage << "\n";
      return kExitOk;
    }
    if (!p.positional.empty()) throw UsageError("whoami takes no arguments");
    Connection c(err);
    AtmosphereClient& client = c.logged_in();
    // Asking the server proves the session is still good (and refreshes it,
    // writing the new tokens back, when it was due).
    json::value v = c.run(client.query("com.atproto.server.getSession"));
    std::string handle = client.handle(), did = client.did();
    if (const auto* o = v.if_object()) {
      if (const auto* h = o->if_contains("handle"); h && h->is_string())
        handle = std::string(h->get_string());
      if (const auto* d = o->if_contains("did"); d && d->is_string()) did = std::string(d->get_string());
    }
    const std::string pds = client.service_url();
    // Only a session-file login has a path to show (and there may be no
    // configuration directory at all when the environment logs in).
    const bool from_file = c.source() == CredentialSource::session_file;
    if (p.flag("--json")) {
      json::object o;
      o["handle"] = handle;
      o["did"] = did;
      o["pds"] = pds;
      o["source"] = json_name(c.source());
      if (from_file) o["session_file"] = c.session_path().string();
      out << json::serialize(o) << "\n";
    } else {
      out << "handle\t" << tsv_cell(handle) << "\n"
          << "did\t" << did << "\n"
          << "pds\t" << tsv_cell(pds) << "\n"
          << "source\t" << tsv_cell(describe(c.source(), from_file ? c.session_path() : fs::path())) << "\n";
    }
    return kExitOk;
  });
}

int run_logout(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kLogoutUsage, err, [&] {
    auto p = parse_args(args, {}, {});
    if (p.help) {
      out << kLogoutUsage << "\n";
      return kExitOk;
    }
    if (!p.positional.empty()) throw UsageError("logout takes no arguments");
    const auto file = session_file_path();
    std::optional<StoredSession> stored;
    try {
      stored = load_session_file(file);
    } catch (const SessionFileError&) {
      // Logging out is how a damaged file is cleared: remove it regardless.
      print_warning(err, "the session file " + file.string() +
                             " is unusable; removing it without revoking anything on the server");
    }
    if (stored) {
      // deleteSession takes the refresh token; it revokes the whole session
      // so a copy of the file is useless afterwards.
      try {
        const atproto::Session s = atproto::parse_session_string(stored->session);
        Connection c(err);
        AtmosphereClient& anon = c.anonymous();
        atproto::XrpcClient pds(anon.http(), s.pds_endpoint, anon.options().xrpc);
        atproto::XrpcCall call;
        call.bearer = s.refresh_jwt;
        c.run(pds.procedure_empty("com.atproto.server.deleteSession", std::move(call)));
      } catch (const std::exception& e) {
        print_warning(err, std::string("could not revoke the session on the server (") + e.what() +
                               "); removing the local session file anyway");
      }
    }
    const bool removed = remove_session_file(file);
    if (removed) {
      out << "logged out" << (stored ? " of " + stored->handle : std::string()) << " (removed "
          << file.string() << ")\n";
    } else {
      out << "not logged in (no session file at " << file.string() << ")\n";
    }
    const auto still = credential_source(false);
    if (still != CredentialSource::none) {
      print_warning(err, "the " + describe(still, file) + " still provides credentials to other commands");
    }
    return kExitOk;
  });
}

}  // namespace atdata::cli
