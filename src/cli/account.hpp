#pragma once
// `atdata login`, `atdata whoami`, `atdata logout`: the account whose
// session the other commands use when the environment holds no credentials.
// See docs/cli.md, "Accounts".

#include <iosfwd>
#include <string>
#include <vector>

namespace atdata::cli {

// `atdata login HANDLE [--pds URL] [--password-stdin]`: creates a session and
// saves it in the session file. The password comes from --password-stdin,
// else ATDATA_PASSWORD, else a prompt without echo when `in` is std::cin and
// standard input is a terminal.
int run_login(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err);

// `atdata whoami [--json]`: the account the other commands act as, checked
// with the server (com.atproto.server.getSession).
int run_whoami(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `atdata logout`: revokes the saved session on its PDS when reachable and
// removes the session file. Succeeds when there is nothing to log out of.
int run_logout(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace atdata::cli
