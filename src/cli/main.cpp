// The `atdata` command-line tool: `atdata <command> …`.
#include <iostream>
#include <string>
#include <vector>

#include "account.hpp"
#include "cat.hpp"
#include "common.hpp"
#include "inspect.hpp"
#include "load.hpp"
#include "local.hpp"
#include "progress.hpp"
#include "publish.hpp"
#include "records.hpp"
#include "watch.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const char* usage =
      "usage: atdata <command> [args]\n"
      "account:\n"
      "  login HANDLE [--pds URL] [--password-stdin]       log in and save the session\n"
      "  whoami [--json]                                   show the account commands act as\n"
      "  logout                                            revoke and remove the saved session\n"
      "records (--json on list/show; --repo HANDLE_OR_DID lists another account, no login needed):\n"
      "  schema publish FILE [--name N] [--version V]      publish a sampleSchema record\n"
      "  schema list | schema show AT_URI\n"
      "  dataset publish SHARDS --name N --schema-uri URI  publish a dataset record (alias: publish)\n"
      "  dataset list | dataset show AT_URI\n"
      "  lens publish --name N --source URI --target URI   publish a lens record\n"
      "  lens list | lens show AT_URI\n"
      "data:\n"
      "  cat URL|AT_URI|local:NAME [...] [--schema FILE]   print samples as JSON lines (s3:// too)\n"
      "  load URL|AT_URI|local:NAME [--batch-size N]       read a dataset through the prefetching pipeline\n"
      "  publish-records COLLECTION FILE [...]             bulk-publish JSON-lines records\n"
      "  ls [REPO] [--schemas]                             same as dataset list / schema list\n"
      "local index (Redis or SQLite; --redis URL | --db FILE):\n"
      "  local ls | local show NAME_OR_CID | local schemas   list and show local entries and schemas\n"
      "  local insert URL... --name N --schema-ref REF      add an entry (or --schema FILE to publish one)\n"
      "  promote NAME_OR_CID [--blobs]                     publish a local entry to ATProto\n"
      "repositories and the event stream (decode and verify files, no network):\n"
      "  frame FILE... [--did-doc FILE] [--no-verify]      event-stream frames as JSON lines\n"
      "  repo FILE.car [--did-doc FILE]                    a repository export's records as JSON lines\n"
      "discovery (follow the network into a catalogue, and query it):\n"
      "  watch [--host URL]... [--jetstream URL] [--db FILE] print schemas/datasets/lenses as published\n"
      "  search [QUERY] --db FILE [--schema URI] [--tag T]   query the catalogue `watch --db` keeps\n"
      "Credentials: ATDATA_HANDLE + ATDATA_PASSWORD, else ATDATA_SESSION, else the session saved by\n"
      "`atdata login` ($ATDATA_CONFIG_DIR, $XDG_CONFIG_HOME/atdata or ~/.config/atdata). ATDATA_PDS_URL\n"
      "and ATDATA_PLC_URL choose the servers. Exit status: 0 ok, 1 error, 2 usage, 3 not logged in or\n"
      "credentials refused, 4 not found. `atdata <command> --help` shows a command's options.\n";
  if (argc < 2) {
    std::cerr << usage;
    return atdata::cli::kExitUsage;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  namespace cli = atdata::cli;
  const auto progress = cli::is_terminal(std::cerr) ? cli::ProgressMode::terminal : cli::ProgressMode::lines;
  if (cmd == "login") return cli::run_login(args, std::cin, std::cout, std::cerr);
  if (cmd == "whoami") return cli::run_whoami(args, std::cout, std::cerr);
  if (cmd == "logout") return cli::run_logout(args, std::cout, std::cerr);
  if (cmd == "schema") return cli::run_schema(args, std::cout, std::cerr);
  if (cmd == "dataset") return cli::run_dataset(args, std::cout, std::cerr, progress);
  if (cmd == "lens") return cli::run_lens(args, std::cout, std::cerr);
  if (cmd == "cat") return cli::run_cat(args, std::cout, std::cerr);
  if (cmd == "load") return cli::run_load(args, std::cout, std::cerr, progress);
  if (cmd == "publish") return cli::run_publish(args, std::cout, std::cerr, progress);
  if (cmd == "publish-records") return cli::run_publish_records(args, std::cout, std::cerr, progress);
  if (cmd == "ls") return cli::run_ls(args, std::cout, std::cerr);
  if (cmd == "local") return cli::run_local(args, std::cout, std::cerr);
  if (cmd == "promote") return cli::run_promote(args, std::cout, std::cerr);
  if (cmd == "frame") return cli::run_frame(args, std::cout, std::cerr);
  if (cmd == "repo") return cli::run_repo(args, std::cout, std::cerr);
  if (cmd == "watch") return cli::run_watch(args, std::cout, std::cerr);
  if (cmd == "search") return cli::run_search(args, std::cout, std::cerr);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << usage;
    return cli::kExitOk;
  }
  cli::print_error(std::cerr, "unknown command '" + cmd + "'");
  std::cerr << usage;
  return cli::kExitUsage;
}
