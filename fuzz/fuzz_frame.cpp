// Event-stream frames as a relay or PDS sends them: decode or throw
// atdata::Error; then the whole Verifier (CAR, commit, signature with the
// captured account's key, MST proofs, prevData inversion) accepts or throws a
// typed error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/verifier.hpp"
#include "atdata/error.hpp"

using namespace atdata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto frame = atproto::decode_event_frame(in);
    (void)frame.seq();
    std::span<const std::byte> car;
    if (const auto* c = std::get_if<atproto::CommitEvent>(&frame.event)) {
      car = c->blocks;
      for (const auto& op : c->ops) (void)op.rkey();
    } else if (const auto* s = std::get_if<atproto::SyncEvent>(&frame.event)) {
      car = s->blocks;
    }
    if (!car.empty()) {
      atproto::CarReader reader(car);
      (void)atproto::BlockMap::from_car(reader);
    }
    // The key of the account in the seed corpus, so mutated frames reach
    // the signature and proof checks.
    static const auto key =
        atproto::PublicKey::from_did_key("did:key:zQ3shbiDjBfgyyx6HNsTnG7xYgDh6dADXcMSk98ZaUFESyLU7");
    static const atproto::Verifier verifier;
    if (std::holds_alternative<atproto::CommitEvent>(frame.event)) {
      (void)verifier.verify_commit(frame, key);
    } else if (std::holds_alternative<atproto::SyncEvent>(frame.event)) {
      (void)verifier.verify_sync(frame, key);
    }
  } catch (const Error&) {
  }
  return 0;
}
