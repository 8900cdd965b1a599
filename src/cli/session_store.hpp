#pragma once
// The per-user session file written by `atdata login` and used by every
// other command when the environment holds no credentials (docs/cli.md,
// "Accounts"). It holds bearer tokens, so it is created 0600 inside a 0700
// directory and replaced atomically (a crash never leaves a half-written
// file), and errors about it describe its shape, never its content.

#include <filesystem>
#include <optional>
#include <string>

#include "atdata/error.hpp"

namespace atdata::cli {

// The session file exists but cannot be used: unreadable, not the expected
// JSON, readable by other users, or owned by someone else. An AuthError:
// commands treat it like "not logged in" (exit 3) and say how to recover.
class SessionFileError : public AuthError {
 public:
  using AuthError::AuthError;
};

struct StoredSession {
  StoredSession() = default;
  std::string handle;
  std::string did;
  std::string pds_url;  // the PDS the session's tokens belong to
  std::string plc_url;  // empty: the default PLC directory
  // The portable session string shared with the Python SDK
  // (handle:::did:::accessJwt:::refreshJwt:::pds). Secret.
  std::string session;
};

// $ATDATA_CONFIG_DIR, else $XDG_CONFIG_HOME/atdata, else $HOME/.config/atdata
// (empty variables count as unset). InvalidArgument when none is set.
std::filesystem::path config_dir();
// config_dir() / "session.json".
std::filesystem::path session_file_path();

// nullopt when the file does not exist; SessionFileError when it is unusable.
std::optional<StoredSession> load_session_file(const std::filesystem::path& file);

// Writes a temporary file next to `file` (O_CREAT|O_EXCL, mode 0600), syncs
// it and renames it over `file`. Missing directories are created; the last
// one (the atdata directory) with mode 0700. atdata::Error on failure, with
// the old file left untouched.
void save_session_file(const std::filesystem::path& file, const StoredSession& s);

// Removes the file; false when there was none.
bool remove_session_file(const std::filesystem::path& file);

}  // namespace atdata::cli
