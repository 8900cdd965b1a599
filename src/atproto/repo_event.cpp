#include "atdata/atproto/repo_event.hpp"

namespace atdata::atproto {

const char* to_string(RepoEvent::Kind kind) noexcept {
  switch (kind) {
    case RepoEvent::Kind::commit:
      return "commit";
    case RepoEvent::Kind::sync:
      return "sync";
    case RepoEvent::Kind::identity:
      return "identity";
    case RepoEvent::Kind::account:
      return "account";
    case RepoEvent::Kind::info:
      return "info";
    case RepoEvent::Kind::rejected:
      return "rejected";
  }
  return "unknown";
}

}  // namespace atdata::atproto
