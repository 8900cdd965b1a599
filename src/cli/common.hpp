#pragma once
// What every `atdata` command shares: the exit statuses, the one-line error
// policy, where credentials come from (environment first, then the session
// file of `atdata login`), and small output helpers. See docs/cli.md.

#include <exception>
#include <filesystem>
#include <fstream>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/fwd.hpp>

#include "args.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "atdata/io/blocking.hpp"
#include "session_store.hpp"

namespace atdata::cli {

// Exit statuses, the same for every command (docs/cli.md, "Exit status").
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // anything else that went wrong
inline constexpr int kExitUsage = 2;     // bad command line
inline constexpr int kExitAuth = 3;      // not logged in, or the server refused the credentials
inline constexpr int kExitNotFound = 4;  // the record, repository or account does not exist

// Neither the environment nor a session file holds credentials.
class NotLoggedIn : public AuthError {
 public:
  using AuthError::AuthError;
};

// The status for an exception escaping a command.
int exit_status_for(const std::exception& e) noexcept;
// True for XRPC answers that mean "these credentials are not accepted".
bool is_auth_failure(const XrpcError& e) noexcept;

// "atdata: error: <message>" on one line (newlines in the message flattened).
void print_error(std::ostream& err, std::string_view message);
void print_warning(std::ostream& err, std::string_view message);

// Runs a command body with the policy every command shares: a usage error
// prints the message and the usage text (exit 2); any other exception prints
// one line and exits with exit_status_for().
template <class F>
int guarded(std::string_view usage, std::ostream& err, F&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    print_error(err, e.what());
    err << usage << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(err, e.what());
    return exit_status_for(e);
  } catch (...) {
    print_error(err, "unexpected non-standard exception");
    return kExitError;
  }
}

// Where a command's credentials come from, in precedence order.
enum class CredentialSource {
  env_password,  // ATDATA_HANDLE + ATDATA_PASSWORD (both non-empty)
  env_session,   // ATDATA_SESSION
  session_file,  // the file of `atdata login`
  none,
};
// From the environment and whether a session file exists (no I/O).
CredentialSource credential_source(bool session_file_exists);
// "environment (ATDATA_HANDLE, ATDATA_PASSWORD)", "session file <path>", …
std::string describe(CredentialSource s, const std::filesystem::path& file);
// "env_password" | "env_session" | "session_file" | "none" (JSON output).
std::string_view json_name(CredentialSource s);

// One command's connection to the network: an io_context and at most one
// client, either logged in (environment, else session file) or anonymous
// (public reads). A client restored from the session file writes every token
// rotation back to the file; a failed write-back is a warning, not an error.
class Connection {
 public:
  explicit Connection(std::ostream& err);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Logged in with the highest-precedence credentials. NotLoggedIn when there
  // are none, SessionFileError for an unusable file, the server's error for a
  // refused login.
  atproto::AtmosphereClient& logged_in();
  // For reads that need no login: PDS and PLC URLs from the environment, else
  // from the session file when there is a usable one, else the defaults.
  atproto::AtmosphereClient& anonymous();

  // Runs one operation to completion. A refused token of a session-file login
  // becomes an AuthError that says to log in again.
  template <class T>
  T run(boost::asio::awaitable<T> op) {
    try {
      return run_blocking(io_, std::move(op));
    } catch (const XrpcError& e) {
      rethrow_auth_hint(e);
      throw;
    }
  }

  boost::asio::io_context& io() noexcept { return io_; }
  CredentialSource source() const noexcept { return source_; }
  const std::filesystem::path& session_path();

 private:
  void rethrow_auth_hint(const XrpcError& e) const;
  const std::optional<StoredSession>& stored();

  std::ostream* err_;
  // Declared before the client: the client's sockets are bound to it.
  boost::asio::io_context io_;
  std::unique_ptr<atproto::AtmosphereClient> client_;
  CredentialSource source_ = CredentialSource::none;
  std::optional<std::filesystem::path> path_;
  std::optional<std::optional<StoredSession>> stored_;  // outer: loaded yet?
  std::shared_ptr<std::string> writeback_error_;
};

// The session file's content; nullopt when there is none or no configuration
// directory can be named. SessionFileError when it exists but is unusable.
std::optional<StoredSession> stored_session();

// Client options from ATDATA_PDS_URL / ATDATA_PLC_URL, falling back to a
// stored session's URLs.
atproto::AtmosphereClientOptions client_options(const StoredSession* stored);

// A value for one column of plain (tab-separated) output: tabs and line
// breaks become spaces so every record stays on one line.
std::string tsv_cell(std::string_view s);

// `path` opened into `file`, or standard input for "-"; InvalidArgument
// "cannot read '<path>'" when it does not open.
std::istream& open_input(const std::string& path, std::ifstream& file);
// The whole of `path` (or standard input for "-"); InvalidArgument when it
// does not open or holds more than `max_bytes`.
std::string read_input(const std::string& path, std::uint64_t max_bytes);
// JSON indented by two spaces, one member per line (for `show`).
std::string pretty_json(const boost::json::value& v);

}  // namespace atdata::cli
