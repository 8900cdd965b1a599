// The `atdata` command-line tool: `atdata <command> …`.
#include <iostream>
#include <string>
#include <vector>

#include "cat.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const char* usage =
      "usage: atdata <command> [args]\ncommands:\n  cat URL [URL...] [--schema FILE] [--limit N]\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "cat") return atdata::cli::run_cat(args, std::cout, std::cerr);
  if (cmd == "-h" || cmd == "--help") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "atdata: unknown command '" << cmd << "'\n" << usage;
  return 2;
}
