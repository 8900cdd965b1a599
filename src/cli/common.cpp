#include "common.hpp"

#include <cstdlib>
#include <iostream>
#include <ostream>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "atdata/atproto/session.hpp"

namespace atdata::cli {

namespace json = boost::json;
using atproto::AtmosphereClient;

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool contains(std::string_view s, std::string_view p) {
  return s.find(p) != std::string_view::npos;
}

bool is_not_found(const XrpcError& e) noexcept {
  const std::string& n = e.error();
  // The reference PDS names a missing repository only in the message.
  return n == "RecordNotFound" || n == "RepoNotFound" || n == "BlobNotFound" ||
         (n == "InvalidRequest" && starts_with(e.message(), "Could not find repo"));
}

void put_pretty(std::string& o, const json::value& v, int depth) {
  const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string end_pad(static_cast<std::size_t>(depth) * 2, ' ');
  if (const auto* obj = v.if_object(); obj && !obj->empty()) {
    o += "{\n";
    bool first = true;
    for (const auto& [k, e] : *obj) {
      if (!first) o += ",\n";
      first = false;
      o += pad;
      o += json::serialize(json::value(json::string(k)));
      o += ": ";
      put_pretty(o, e, depth + 1);
    }
    o += "\n" + end_pad + "}";
  } else if (const auto* arr = v.if_array(); arr && !arr->empty()) {
    o += "[\n";
    bool first = true;
    for (const auto& e : *arr) {
      if (!first) o += ",\n";
      first = false;
      o += pad;
      put_pretty(o, e, depth + 1);
    }
    o += "\n" + end_pad + "]";
  } else {
    o += json::serialize(v);
  }
}

}  // namespace

bool is_auth_failure(const XrpcError& e) noexcept {
  const std::string& n = e.error();
  return e.status() == 401 || n == "AuthenticationRequired" || n == "ExpiredToken" || n == "InvalidToken" ||
         n == "AuthFactorTokenRequired" || n == "AccountTakedown" || n == "AccountDeactivated";
}

std::istream& open_input(const std::string& path, std::ifstream& file) {
  if (path == "-") return std::cin;
  file.open(path, std::ios::binary);
  if (!file) throw InvalidArgument("cannot read '" + path + "'");
  return file;
}

std::string read_input(const std::string& path, std::uint64_t max_bytes) {
  std::ifstream file;
  std::istream* in = &open_input(path, file);
  std::string text;
  char buf[8192];
  while (in->read(buf, sizeof buf) || in->gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in->gcount()));
    if (text.size() > max_bytes) {
      throw InvalidArgument("'" + path + "' is larger than " + std::to_string(max_bytes >> 20) + " MiB");
    }
  }
  return text;
}

int exit_status_for(const std::exception& e) noexcept {
  if (dynamic_cast<const UsageError*>(&e)) return kExitUsage;
  if (dynamic_cast<const AuthError*>(&e)) return kExitAuth;
  if (const auto* x = dynamic_cast<const XrpcError*>(&e)) {
    if (is_auth_failure(*x)) return kExitAuth;
    if (is_not_found(*x)) return kExitNotFound;
    return kExitError;
  }
  if (dynamic_cast<const NotFound*>(&e)) return kExitNotFound;
  if (const auto* d = dynamic_cast<const DidResolutionError*>(&e)) {
    return d->cause() == DidResolutionError::Cause::not_found ? kExitNotFound : kExitError;
  }
  // An unknown handle is reported only in the text (the PDS cannot resolve
  // it). A network failure on the way stays exit 1.
  const std::string_view what = e.what();
  if (starts_with(what, "Could not resolve handle") && contains(what, "Unable to resolve handle")) {
    return kExitNotFound;
  }
  return kExitError;
}

void print_error(std::ostream& err, std::string_view message) {
  std::string m(message);
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  err << "atdata: error: " << m << "\n";
}

void print_warning(std::ostream& err, std::string_view message) {
  std::string m(message);
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  err << "atdata: warning: " << m << "\n";
}

CredentialSource credential_source(bool session_file_exists) {
  if (env_set("ATDATA_HANDLE") && env_set("ATDATA_PASSWORD")) return CredentialSource::env_password;
  if (env_set("ATDATA_SESSION")) return CredentialSource::env_session;
  if (session_file_exists) return CredentialSource::session_file;
  return CredentialSource::none;
}

std::string describe(CredentialSource s, const std::filesystem::path& file) {
  switch (s) {
    case CredentialSource::env_password:
      return "environment (ATDATA_HANDLE, ATDATA_PASSWORD)";
    case CredentialSource::env_session:
      return "environment (ATDATA_SESSION)";
    case CredentialSource::session_file:
      return "session file " + file.string();
    case CredentialSource::none:
      break;
  }
  return "none";
}

std::string_view json_name(CredentialSource s) {
  switch (s) {
    case CredentialSource::env_password:
      return "env_password";
    case CredentialSource::env_session:
      return "env_session";
    case CredentialSource::session_file:
      return "session_file";
    case CredentialSource::none:
      break;
  }
  return "none";
}

atproto::AtmosphereClientOptions client_options(const StoredSession* stored) {
  atproto::AtmosphereClientOptions o;
  if (stored) {
    o.base_url = stored->pds_url;
    if (!stored->plc_url.empty()) o.identity.plc_url = stored->plc_url;
  }
  return AtmosphereClient::options_from_env(std::move(o));  // the environment wins
}

// ---------------------------------------------------------------------------
Connection::Connection(std::ostream& err) : err_(&err), writeback_error_(std::make_shared<std::string>()) {}

Connection::~Connection() {
  client_.reset();  // before io_ (declaration order does this too; explicit for the reader)
  if (!writeback_error_->empty()) {
    print_warning(*err_, "the refreshed session could not be saved (" + *writeback_error_ +
                             "); the next command may have to log in again");
  }
}

const std::filesystem::path& Connection::session_path() {
  if (!path_) path_ = session_file_path();
  return *path_;
}

std::optional<StoredSession> stored_session() {
  std::filesystem::path file;
  try {
    file = session_file_path();
  } catch (const InvalidArgument&) {
    return std::nullopt;  // nowhere a file could be: simply not logged in
  }
  return load_session_file(file);
}

const std::optional<StoredSession>& Connection::stored() {
  if (!stored_) stored_.emplace(stored_session());
  return *stored_;
}

AtmosphereClient& Connection::logged_in() {
  if (client_ && client_->is_authenticated()) return *client_;
  // The environment is checked first so that a session file is not even read
  // (nor its errors reported) when the environment overrides it.
  source_ = credential_source(false);
  if (source_ == CredentialSource::none) {
    source_ = stored() ? CredentialSource::session_file : CredentialSource::none;
  }
  switch (source_) {
    case CredentialSource::env_password:
    case CredentialSource::env_session:
      client_ = run(AtmosphereClient::from_env(io_.get_executor()));
      break;
    case CredentialSource::session_file: {
      const StoredSession& s = *stored();
      client_ = std::make_unique<AtmosphereClient>(io_.get_executor(), client_options(&s));
      client_->restore_session(atproto::parse_session_string(s.session));
      // Every rotation is written back, keeping the file's other members.
      AtmosphereClient* c = client_.get();
      StoredSession base = s;
      base.session.clear();
      auto failed = writeback_error_;
      const std::filesystem::path file = session_path();
      client_->on_session_change([c, base, failed, file](const atproto::Session& now) {
        try {
          StoredSession next = base;
          next.handle = now.handle;
          next.pds_url = c->service_url();
          next.session = c->export_session();
          save_session_file(file, next);
          failed->clear();
        } catch (const std::exception& e) {
          *failed = e.what();
        }
      });
      break;
    }
    case CredentialSource::none:
      throw NotLoggedIn(
          "not logged in: run `atdata login HANDLE`, or set ATDATA_HANDLE and ATDATA_PASSWORD "
          "(or ATDATA_SESSION)");
  }
  return *client_;
}

AtmosphereClient& Connection::anonymous() {
  if (client_) return *client_;
  const std::optional<StoredSession>& s = stored();
  client_ = std::make_unique<AtmosphereClient>(io_.get_executor(), client_options(s ? &*s : nullptr));
  return *client_;
}

void Connection::rethrow_auth_hint(const XrpcError& e) const {
  if (source_ == CredentialSource::session_file && is_auth_failure(e)) {
    throw AuthError(std::string(e.what()) +
                    " (the saved session is no longer accepted: run `atdata login HANDLE` again)");
  }
}

std::string tsv_cell(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return o;
}

std::string pretty_json(const json::value& v) {
  std::string o;
  put_pretty(o, v, 0);
  return o;
}

}  // namespace atdata::cli
