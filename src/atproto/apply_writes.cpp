#include "atdata/atproto/apply_writes.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "atdata/error.hpp"

namespace atdata::atproto {

WriteOp WriteOp::create(std::string collection, boost::json::object value, std::string rkey) {
  return WriteOp{Action::create, std::move(collection), std::move(rkey), std::move(value)};
}
WriteOp WriteOp::update(std::string collection, std::string rkey, boost::json::object value) {
  return WriteOp{Action::update, std::move(collection), std::move(rkey), std::move(value)};
}
WriteOp WriteOp::remove(std::string collection, std::string rkey) {
  return WriteOp{Action::remove, std::move(collection), std::move(rkey), {}};
}

boost::json::object write_op_json(const WriteOp& op) {
  boost::json::object o;
  switch (op.action) {
    case WriteOp::Action::create:
      o["$type"] = "com.atproto.repo.applyWrites#create";
      break;
    case WriteOp::Action::update:
      o["$type"] = "com.atproto.repo.applyWrites#update";
      break;
    case WriteOp::Action::remove:
      o["$type"] = "com.atproto.repo.applyWrites#delete";
      break;
  }
  o["collection"] = op.collection;
  if (!op.rkey.empty()) o["rkey"] = op.rkey;
  if (op.action != WriteOp::Action::remove) o["value"] = op.value;
  return o;
}

std::vector<std::string> build_apply_writes_bodies(std::string_view repo, std::span<const WriteOp> ops,
                                                   bool validate, ApplyWritesLimits limits) {
  if (limits.max_ops == 0) throw InvalidArgument("applyWrites: max_ops must be > 0");
  boost::json::object envelope;
  envelope["repo"] = repo;
  envelope["validate"] = validate;
  // Serialize the envelope once with an empty array, then splice writes in.
  std::string head = boost::json::serialize(envelope);
  head.pop_back();  // '}'
  head += ",\"writes\":[";
  static constexpr std::string_view kTail = "]}";
  const std::size_t fixed = head.size() + kTail.size();

  std::vector<std::string> bodies;
  std::string cur;
  std::size_t in_cur = 0;
  auto flush = [&] {
    if (in_cur == 0) return;
    cur += kTail;
    bodies.push_back(std::move(cur));
    cur.clear();
    in_cur = 0;
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    std::string w = boost::json::serialize(write_op_json(ops[i]));
    if (fixed + w.size() > limits.max_body_bytes) {
      throw InvalidArgument("applyWrites: write #" + std::to_string(i) + " (" + ops[i].collection + ") is " +
                            std::to_string(w.size()) + " bytes of JSON; one call may carry at most " +
                            std::to_string(limits.max_body_bytes) + " bytes");
    }
    // +1 for the separating comma.
    if (in_cur > 0 &&
        (in_cur == limits.max_ops || cur.size() + 1 + w.size() + kTail.size() > limits.max_body_bytes)) {
      flush();
    }
    if (in_cur == 0) {
      cur.reserve(std::min(limits.max_body_bytes, fixed + w.size() * (ops.size() - i)));
      cur = head;
    } else {
      cur.push_back(',');
    }
    cur += w;
    ++in_cur;
  }
  flush();
  return bodies;
}

}  // namespace atdata::atproto
