// The `atdata` command-line tool: `atdata <command> …`.
#include <iostream>
#include <string>
#include <vector>

#include "cat.hpp"
#include "progress.hpp"
#include "publish.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const char* usage =
      "usage: atdata <command> [args]\n"
      "commands:\n"
      "  cat URL|AT_URI [...] [--schema FILE] [--limit N]  print samples as JSON lines\n"
      "  publish SHARDS --name N --schema-uri URI [...]    publish one dataset record\n"
      "  publish-records COLLECTION FILE [...]             bulk-publish JSON-lines records\n"
      "  ls [REPO] [--schemas]                             list dataset or schema records\n"
      "ATProto commands log in from ATDATA_HANDLE + ATDATA_PASSWORD (or ATDATA_SESSION),\n"
      "ATDATA_PDS_URL and ATDATA_PLC_URL. `atdata <command> --help` shows its options.\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  namespace cli = atdata::cli;
  const auto progress = cli::is_terminal(std::cerr) ? cli::ProgressMode::terminal : cli::ProgressMode::lines;
  if (cmd == "cat") return cli::run_cat(args, std::cout, std::cerr);
  if (cmd == "publish") return cli::run_publish(args, std::cout, std::cerr, progress);
  if (cmd == "publish-records") return cli::run_publish_records(args, std::cout, std::cerr, progress);
  if (cmd == "ls") return cli::run_ls(args, std::cout, std::cerr);
  if (cmd == "-h" || cmd == "--help") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "atdata: unknown command '" << cmd << "'\n" << usage;
  return 2;
}
