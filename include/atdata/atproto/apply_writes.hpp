#pragma once
// com.atproto.repo.applyWrites batching (pure, no I/O). The PDS accepts at
// most 200 writes and a 150 KiB JSON body per call; larger write sets are split
// into consecutive calls in order. Each call is atomic on the PDS; a split set
// as a whole is not (a failure leaves the earlier batches committed).

#include <boost/json/object.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::atproto {

struct WriteOp {
  enum class Action { create, update, remove };
  Action action = Action::create;
  std::string collection;
  std::string rkey;           // optional for create (the PDS then assigns a TID)
  boost::json::object value;  // the record, for create and update

  static WriteOp create(std::string collection, boost::json::object value, std::string rkey = {});
  static WriteOp update(std::string collection, std::string rkey, boost::json::object value);
  static WriteOp remove(std::string collection, std::string rkey);
};

struct ApplyWritesLimits {
  std::size_t max_ops = 200;
  std::size_t max_body_bytes = 150 * 1024;
};

// The `writes[]` element for one op, with its applyWrites#create|#update|#delete $type.
boost::json::object write_op_json(const WriteOp& op);

// Serialized request bodies {"repo":…,"validate":…,"writes":[…]} covering `ops`
// in order, each within `limits`. Throws InvalidArgument when one op alone does
// not fit (naming its index, collection and size).
std::vector<std::string> build_apply_writes_bodies(std::string_view repo, std::span<const WriteOp> ops,
                                                   bool validate = false, ApplyWritesLimits limits = {});

}  // namespace atdata::atproto
