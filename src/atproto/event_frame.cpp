#include "atdata/atproto/event_frame.hpp"

#include <string>

#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

using Kind = DagCborValue::Kind;

// Field access for one body: errors name the message type and the field, and
// point at the body's first byte (the decoder keeps no per-value offsets).
class Fields {
 public:
  Fields(const DagCborValue& map, std::string_view type, std::size_t offset)
      : map_(map), type_(type), offset_(offset) {}

  [[noreturn]] void fail(std::string_view field, const std::string& what) const {
    throw DecodeError(std::string(field), std::string(type_) + " body: " + what, offset_);
  }

  const DagCborValue* get(std::string_view field, Kind kind, bool required, bool nullable = false) const {
    const DagCborValue* v = map_.find(field);
    if (!v) {
      if (required) fail(field, "missing");
      return nullptr;
    }
    if (v->is_null()) {
      if (!nullable) fail(field, "is null");
      return nullptr;
    }
    if (v->kind() != kind)
      fail(field, std::string("is ") + to_string(v->kind()) + ", expected " + to_string(kind));
    return v;
  }

  std::string_view text(std::string_view field) const { return get(field, Kind::text, true)->as_text(); }
  std::optional<std::string_view> opt_text(std::string_view field, bool required = false) const {
    const auto* v = get(field, Kind::text, required, true);
    return v ? std::optional(v->as_text()) : std::nullopt;
  }
  std::int64_t seq() const {
    const std::int64_t s = get("seq", Kind::integer, true)->as_int();
    if (s < 0) fail("seq", "is negative");
    return s;
  }
  bool boolean(std::string_view field, bool required) const {
    const auto* v = get(field, Kind::boolean, required);
    return v && v->as_bool();
  }
  std::span<const std::byte> link(std::string_view field, bool required, bool nullable = false) const {
    const auto* v = get(field, Kind::link, required, nullable);
    return v ? v->as_link() : std::span<const std::byte>{};
  }
  std::span<const std::byte> bytes(std::string_view field) const {
    return get(field, Kind::bytes, true)->as_bytes();
  }
  const DagCborValue& list(std::string_view field, bool required) const {
    static const DagCborValue empty = DagCborValue::make_list({});
    const auto* v = get(field, Kind::list, required);
    return v ? *v : empty;
  }

 private:
  const DagCborValue& map_;
  std::string_view type_;
  std::size_t offset_;
};

RepoOp decode_op(const DagCborValue& v, const Fields& body, std::size_t index, std::size_t offset) {
  const std::string name = "ops[" + std::to_string(index) + "]";
  if (v.kind() != Kind::map) body.fail(name, "is not a map");
  const Fields f(v, "#commit", offset);
  RepoOp op;
  const std::string_view action = f.text("action");
  if (action == "create") {
    op.action = RepoOp::Action::create;
  } else if (action == "update") {
    op.action = RepoOp::Action::update;
  } else if (action == "delete") {
    op.action = RepoOp::Action::remove;
  } else {
    body.fail(name + ".action", "unknown action \"" + std::string(action) + "\"");
  }
  op.path = f.text("path");
  if (op.path.find('/') == std::string_view::npos) body.fail(name + ".path", "is not collection/rkey");
  op.cid = f.link("cid", true, true);
  if (op.action == RepoOp::Action::remove ? !op.cid.empty() : op.cid.empty()) {
    body.fail(name + ".cid", op.action == RepoOp::Action::remove ? "is set on a delete" : "is null");
  }
  op.prev = f.link("prev", false, true);
  return op;
}

CommitEvent decode_commit(const Fields& f, std::size_t offset) {
  CommitEvent e;
  e.seq = f.seq();
  e.repo = f.text("repo");
  e.rev = f.text("rev");
  e.since = f.opt_text("since", true);
  e.commit = f.link("commit", true);
  e.blocks = f.bytes("blocks");
  e.time = f.text("time");
  e.too_big = f.boolean("tooBig", true);
  e.rebase = f.boolean("rebase", false);
  e.prev_data = f.link("prevData", false, true);
  const DagCborValue& ops = f.list("ops", true);
  e.ops.reserve(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) e.ops.push_back(decode_op(ops.items()[i], f, i, offset));
  for (const auto& b : f.list("blobs", false).items()) {
    if (b.kind() != Kind::link) f.fail("blobs", "holds a value that is not a link");
    e.blobs.push_back(b.as_link());
  }
  return e;
}

}  // namespace

const char* to_string(RepoOp::Action action) noexcept {
  switch (action) {
    case RepoOp::Action::create:
      return "create";
    case RepoOp::Action::update:
      return "update";
    case RepoOp::Action::remove:
      return "delete";
  }
  return "?";
}

std::optional<std::int64_t> EventFrame::seq() const {
  return std::visit(
      [&](const auto& e) -> std::optional<std::int64_t> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (requires { e.seq; }) {
          return e.seq;
        } else if constexpr (std::is_same_v<E, UnknownEvent>) {
          const auto* s = body.find("seq");
          if (s && s->kind() == Kind::integer) return s->as_int();
          return std::nullopt;
        } else {
          return std::nullopt;
        }
      },
      event);
}

EventFrame decode_event_frame(std::span<const std::byte> frame, const FrameOptions& options) {
  if (frame.size() > options.max_frame_bytes) {
    throw DecodeError("event frame of " + std::to_string(frame.size()) + " bytes exceeds the limit of " +
                          std::to_string(options.max_frame_bytes),
                      0);
  }
  if (frame.empty()) throw DecodeError("event frame is empty", 0);
  EventFrame out;
  out.bytes = frame;
  auto head = dag_cbor_decode_prefix(frame, options.limits);
  out.header = std::move(head.value);
  out.body_offset = head.end;
  if (out.header.kind() != Kind::map) throw DecodeError("event frame header is not a map", 0);
  const Fields h(out.header, "header", 0);
  out.op = h.get("op", Kind::integer, true)->as_int();
  if (out.op != 1 && out.op != -1) h.fail("op", "is " + std::to_string(out.op) + " (expected 1 or -1)");
  if (out.op == 1) out.type = h.text("t");
  if (head.end == frame.size()) throw DecodeError("event frame has no body after its header", head.end);
  try {
    out.body = dag_cbor_decode(frame.subspan(head.end), options.limits);
  } catch (const DecodeError& e) {
    throw e.rebased("event frame body: ", head.end);
  }
  if (out.body.kind() != Kind::map) throw DecodeError("event frame body is not a map", head.end);
  const Fields f(out.body, out.op == -1 ? std::string_view("error frame") : out.type, head.end);

  if (out.op == -1) {
    ErrorFrame e;
    e.error = f.text("error");
    e.message = f.opt_text("message");
    out.event = e;
  } else if (out.type == "#commit") {
    out.event = decode_commit(f, head.end);
  } else if (out.type == "#sync") {
    SyncEvent e;
    e.seq = f.seq();
    e.did = f.text("did");
    e.rev = f.text("rev");
    e.blocks = f.bytes("blocks");
    e.time = f.text("time");
    out.event = e;
  } else if (out.type == "#identity") {
    IdentityEvent e;
    e.seq = f.seq();
    e.did = f.text("did");
    e.time = f.text("time");
    e.handle = f.opt_text("handle");
    out.event = e;
  } else if (out.type == "#account") {
    AccountEvent e;
    e.seq = f.seq();
    e.did = f.text("did");
    e.time = f.text("time");
    e.active = f.boolean("active", true);
    e.status = f.opt_text("status");
    out.event = e;
  } else if (out.type == "#info") {
    InfoEvent e;
    e.name = f.text("name");
    e.message = f.opt_text("message");
    out.event = e;
  } else {
    out.event = UnknownEvent{out.type};
  }
  return out;
}

}  // namespace atdata::atproto
