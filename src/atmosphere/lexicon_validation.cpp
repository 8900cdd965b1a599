#include "atdata/atmosphere/lexicon_validation.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/error.hpp"
#include "atmosphere/base64.hpp"
#include "atmosphere/lexicon_formats.hpp"

namespace atdata::atmosphere {

namespace detail {
// Generated at build time from lexicons/ (cmake/EmbedLexicons.cmake).
extern const ShippedLexicon kShippedLexicons[];
extern const std::size_t kShippedLexiconCount;
}  // namespace detail

namespace json = boost::json;

namespace {

// A record nested deeper than this is refused rather than walked (the stack
// must not depend on the input). Real records are a handful of levels deep.
constexpr int kMaxRecordDepth = 128;
constexpr int kMaxDocumentDepth = 64;

struct Fail {
  std::string message;
};

// @atproto/lexicon's toLexUri: "#def" is relative to the document, anything
// else gains the "lex:" scheme.
std::string to_lex_uri(std::string_view ref, std::string_view base) {
  if (std::count(ref.begin(), ref.end(), '#') > 1) throw Fail{"Uri can only have one hash segment"};
  if (ref.starts_with("lex:")) return std::string(ref);
  if (ref.starts_with('#')) {
    if (base.empty()) throw Fail{"Unable to resolve uri without anchor: " + std::string(ref)};
    return std::string(base) + std::string(ref);
  }
  return "lex:" + std::string(ref);
}

std::string_view string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string_view type_of(const json::object& def) {
  const json::value* v = def.if_contains("type");
  if (!v) return "undefined";
  return v->is_string() ? std::string_view(v->get_string()) : std::string_view("invalid");
}

std::optional<double> number_member(const json::object& def, std::string_view key) {
  const json::value* v = def.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

// A number as JavaScript's `${n}` prints it (for the bounds in messages).
std::string js_number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(d));
    return std::string(buf, r.ptr);
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// A JSON value as `${v}` / Array.join print it.
std::string js_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::int64:
      return js_number(static_cast<double>(v.get_int64()));
    case json::kind::uint64:
      return js_number(static_cast<double>(v.get_uint64()));
    case json::kind::double_:
      return js_number(v.get_double());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::null:
      return "";
    default:
      return json::serialize(v);
  }
}

std::string join(const json::array& a, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i) out += sep;
    out += js_text(a[i]);
  }
  return out;
}

bool contains_string(const json::value* list, std::string_view s) {
  if (!list || !list->is_array()) return false;
  for (const auto& v : list->get_array()) {
    if (v.is_string() && v.get_string() == s) return true;
  }
  return false;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

// `{"$link": "<cid>"}` and nothing else.
bool is_cid_link(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o || o->size() != 1) return false;
  const json::value* link = o->if_contains("$link");
  return link && link->is_string() && detail::is_cid_string(link->get_string());
}

// A typed blob ref exactly as a PDS returns it from uploadBlob.
const json::object* typed_blob(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o || o->size() != 4) return nullptr;
  const json::value* t = o->if_contains("$type");
  const json::value* ref = o->if_contains("ref");
  const json::value* mime = o->if_contains("mimeType");
  const json::value* size = o->if_contains("size");
  if (!t || !ref || !mime || !size) return nullptr;
  if (!t->is_string() || t->get_string() != "blob") return nullptr;
  if (!is_cid_link(*ref)) return nullptr;
  if (!mime->is_string() || mime->get_string().find('/') == json::string::npos) return nullptr;
  if (!(size->is_uint64() || (size->is_int64() && size->get_int64() >= 0))) return nullptr;
  return o;
}

bool mime_matches(std::string_view mime, const json::array& accept) {
  for (const auto& a : accept) {
    if (!a.is_string()) continue;
    std::string_view pat = a.get_string();
    if (pat == "*/*" || pat == mime) return true;
    if (pat.ends_with("/*") && mime.starts_with(pat.substr(0, pat.size() - 1))) return true;
  }
  return false;
}

}  // namespace

// The validation walk. Paths are kept as segments and only spelled out when
// a problem is found.
class LexiconValidator {
 public:
  explicit LexiconValidator(const LexiconCatalog& cat) : cat_(cat) {}

  std::optional<LexiconProblem> record(std::string_view nsid, const json::object& rec) {
    try {
      const json::value* type = rec.if_contains("$type");
      if (!type || !type->is_string()) return problem("$type", "Record/$type must be a string");
      std::string want = to_lex_uri(nsid, "");
      if (to_lex_uri(type->get_string(), "") != want) {
        return problem("$type",
                       "Invalid $type: must be " + want + ", got " + std::string(type->get_string()));
      }
      const json::object* def = find(want);
      if (!def) return problem("", "Lexicon not found: " + want);
      if (type_of(*def) != "record") return problem("", "Not a record lexicon: " + want);
      const json::value* body = def->if_contains("record");
      if (!body || !body->is_object())
        return problem("", "Invalid lexicon: " + want + " has no record object");
      if (auto p = object_members(body->get_object(), rec, 0)) return p;
      return data_model(rec);
    } catch (const Fail& f) {
      return problem_here(f.message);
    }
  }

 private:
  struct Seg {
    std::string_view key;
    std::size_t index = 0;
    bool is_index = false;
  };

  const LexiconCatalog& cat_;
  std::vector<Seg> path_;

  const json::object* find(std::string_view lex_uri) const {
    auto it = cat_.defs_.find(lex_uri);
    return it == cat_.defs_.end() ? nullptr : it->second;
  }
  const json::object& resolve(std::string_view lex_uri) const {
    const json::object* d = find(lex_uri);
    if (!d) throw Fail{"Lexicon not found: " + std::string(lex_uri)};
    return *d;
  }

  std::string official_path() const {
    std::string s = "Record";
    for (const Seg& g : path_) {
      s += '/';
      s += g.is_index ? std::to_string(g.index) : std::string(g.key);
    }
    return s;
  }
  std::string member_path() const {
    std::string s;
    for (const Seg& g : path_) {
      if (g.is_index) {
        s += '[' + std::to_string(g.index) + ']';
      } else {
        if (!s.empty()) s += '.';
        s += g.key;
      }
    }
    return s;
  }
  static LexiconProblem problem(std::string member, std::string message) {
    return {std::move(member), std::move(message)};
  }
  // "<path> <what>" about the value at the current path.
  LexiconProblem fail(std::string_view what) const {
    return {member_path(), official_path() + " " + std::string(what)};
  }
  // A message that is not about a path (lexicon errors), at the current member.
  LexiconProblem problem_here(std::string message) const { return {member_path(), std::move(message)}; }

  struct Push {
    std::vector<Seg>& p;
    Push(std::vector<Seg>& path, Seg s) : p(path) { p.push_back(s); }
    ~Push() { p.pop_back(); }
  };

  // validateOneOf: resolves a ref or the union member named by `$type`, then validates.
  std::optional<LexiconProblem> one_of(const json::object& def, const json::value* value, int depth) {
    try {
      return one_of_unchecked(def, value, depth);
    } catch (const Fail& f) {
      return problem_here(f.message);  // e.g. "Lexicon not found: lex:…"
    }
  }

  std::optional<LexiconProblem> one_of_unchecked(const json::object& def, const json::value* value,
                                                 int depth) {
    std::string_view type = type_of(def);
    if (type == "union") {
      const json::object* o = value ? value->if_object() : nullptr;
      const json::value* t = o ? o->if_contains("$type") : nullptr;
      if (!t || !t->is_string()) return fail("must be an object which includes the \"$type\" property");
      const json::value* refs = def.if_contains("refs");
      const json::array empty;
      const json::array& list = refs && refs->is_array() ? refs->get_array() : empty;
      if (!refs_contain(list, t->get_string())) {
        const json::value* closed = def.if_contains("closed");
        if (closed && closed->is_bool() && closed->get_bool()) {
          return fail("$type must be one of " + join(list, ", "));
        }
        return std::nullopt;  // open union: an unknown member is fine
      }
      return validate(resolve(to_lex_uri(t->get_string(), "")), value, depth);
    }
    if (type == "ref") return validate(resolve(string_member(def, "ref")), value, depth);
    return validate(def, value, depth);
  }

  static bool refs_contain(const json::array& refs, std::string_view type) {
    std::string uri = to_lex_uri(type, "");
    auto has = [&](std::string_view u) { return contains_string_array(refs, u); };
    if (has(uri)) return true;
    if (uri.ends_with("#main")) return has(std::string_view(uri).substr(0, uri.size() - 5));
    return uri.find('#') == std::string::npos && has(uri + "#main");
  }
  static bool contains_string_array(const json::array& a, std::string_view s) {
    for (const auto& v : a) {
      if (v.is_string() && v.get_string() == s) return true;
    }
    return false;
  }

  std::optional<LexiconProblem> validate(const json::object& def, const json::value* value, int depth) {
    std::string_view type = type_of(def);
    if (type == "object") return object(def, value, depth);
    if (type == "array") return array(def, value, depth);
    if (type == "blob") return blob(def, value);
    if (type == "boolean") return boolean(def, value);
    if (type == "integer") return integer(def, value);
    if (type == "string") return string(def, value);
    if (type == "bytes") return bytes(def, value);
    if (type == "cid-link") {
      if (value && is_cid_link(*value)) return std::nullopt;
      return fail("must be a CID");
    }
    if (type == "unknown") {
      // The official validator also lets arrays through; the data model says object.
      if (value && value->is_object()) return std::nullopt;
      return fail("must be an object");
    }
    return problem_here("Unexpected lexicon type: " + std::string(type));
  }

  std::optional<LexiconProblem> deeper(int depth) const {
    if (depth >= kMaxRecordDepth) {
      return fail("is nested too deeply (more than " + std::to_string(kMaxRecordDepth) + " levels)");
    }
    return std::nullopt;
  }

  // Whether a missing value passes: a primitive with a default of its type.
  bool default_applies(const json::object& def) const {
    const json::object& d = type_of(def) == "ref" ? resolve(string_member(def, "ref")) : def;
    const json::value* dv = d.if_contains("default");
    if (!dv) return false;
    std::string_view t = type_of(d);
    if (t == "string") return dv->is_string();
    if (t == "integer") return dv->is_number();
    if (t == "boolean") return dv->is_bool();
    return false;
  }

  std::optional<LexiconProblem> object(const json::object& def, const json::value* value, int depth) {
    // The official validator treats any JS object (arrays too) as an object.
    if (!value || !value->is_object()) return fail("must be an object");
    if (auto p = deeper(depth)) return p;
    return object_members(def, value->get_object(), depth);
  }

  std::optional<LexiconProblem> object_members(const json::object& def, const json::object& obj, int depth) {
    const json::value* props = def.if_contains("properties");
    if (!props || !props->is_object()) return std::nullopt;
    const json::value* required = def.if_contains("required");
    const json::value* nullable = def.if_contains("nullable");
    for (const auto& kv : props->get_object()) {
      if (!kv.value().is_object()) continue;
      const json::object& prop = kv.value().get_object();
      const json::value* v = obj.if_contains(kv.key());
      if (v && v->is_null() && contains_string(nullable, kv.key())) continue;
      if (!v) {
        if (!contains_string(required, kv.key())) continue;
        try {
          if (default_applies(prop)) continue;
        } catch (const Fail& f) {
          return problem_here(f.message);
        }
        return LexiconProblem{join_member(member_path(), kv.key()),
                              official_path() + " must have the property \"" + std::string(kv.key()) + "\""};
      }
      Push push(path_, Seg{kv.key()});
      if (auto p = one_of(prop, v, depth + 1)) return p;
    }
    return std::nullopt;
  }

  static std::string join_member(std::string base, std::string_view key) {
    if (!base.empty()) base += '.';
    base += key;
    return base;
  }

  std::optional<LexiconProblem> array(const json::object& def, const json::value* value, int depth) {
    if (!value || !value->is_array()) return fail("must be an array");
    if (auto p = deeper(depth)) return p;
    const json::array& a = value->get_array();
    auto n = static_cast<double>(a.size());
    if (auto max = number_member(def, "maxLength"); max && n > *max)
      return fail("must not have more than " + js_number(*max) + " elements");
    if (auto min = number_member(def, "minLength"); min && n < *min)
      return fail("must not have fewer than " + js_number(*min) + " elements");
    const json::value* items = def.if_contains("items");
    static const json::object kNoItems;
    const json::object& item_def = items && items->is_object() ? items->get_object() : kNoItems;
    for (std::size_t i = 0; i < a.size(); ++i) {
      Push push(path_, Seg{{}, i, true});
      if (auto p = one_of(item_def, &a[i], depth + 1)) return p;
    }
    return std::nullopt;
  }

  std::optional<LexiconProblem> blob(const json::object& def, const json::value* value) {
    const json::object* b = value ? typed_blob(*value) : nullptr;
    if (!b) return fail("should be a blob ref");
    std::string_view mime = b->at("mimeType").get_string();
    if (const json::value* accept = def.if_contains("accept"); accept && accept->is_array()) {
      if (!mime_matches(mime, accept->get_array())) {
        return fail("mimeType must be one of (" + join(accept->get_array(), "|") + "), got " +
                    std::string(mime));
      }
    }
    if (auto max = number_member(def, "maxSize")) {
      double size = *as_number(b->at("size"));
      if (size > *max) {
        return fail("must not be larger than " + js_number(*max) + " bytes, got " + js_number(size));
      }
    }
    return std::nullopt;
  }

  std::optional<LexiconProblem> boolean(const json::object& def, const json::value* value) {
    if (!value) {
      if (const json::value* d = def.if_contains("default"); d && d->is_bool()) return std::nullopt;
      return fail("must be a boolean");
    }
    if (!value->is_bool()) return fail("must be a boolean");
    if (const json::value* c = def.if_contains("const");
        c && c->is_bool() && c->get_bool() != value->get_bool())
      return fail(std::string("must be ") + (c->get_bool() ? "true" : "false"));
    return std::nullopt;
  }

  std::optional<LexiconProblem> integer(const json::object& def, const json::value* value) {
    if (!value) {
      if (const json::value* d = def.if_contains("default"); d && d->is_number()) return std::nullopt;
      return fail("must be an integer");
    }
    // A double is refused even when integral: the data model has no floats.
    if (!value->is_int64() && !value->is_uint64()) return fail("must be an integer");
    double v = *as_number(*value);
    if (auto c = number_member(def, "const"); c && v != *c) return fail("must be " + js_number(*c));
    if (const json::value* e = def.if_contains("enum"); e && e->is_array()) {
      bool found = false;
      for (const auto& x : e->get_array()) {
        if (auto xn = as_number(x); xn && *xn == v) found = true;
      }
      if (!found) return fail("must be one of (" + join(e->get_array(), "|") + ")");
    }
    if (auto max = number_member(def, "maximum"); max && v > *max)
      return fail("can not be greater than " + js_number(*max));
    if (auto min = number_member(def, "minimum"); min && v < *min)
      return fail("can not be less than " + js_number(*min));
    return std::nullopt;
  }

  std::optional<LexiconProblem> string(const json::object& def, const json::value* value) {
    if (!value) {
      if (const json::value* d = def.if_contains("default"); d && d->is_string()) return std::nullopt;
      return fail("must be a string");
    }
    if (!value->is_string()) return fail("must be a string");
    std::string_view s = value->get_string();
    if (const json::value* c = def.if_contains("const"); c && c->is_string() && c->get_string() != s)
      return fail("must be " + std::string(c->get_string()));
    if (const json::value* e = def.if_contains("enum"); e && e->is_array()) {
      if (!contains_string_array(e->get_array(), s))
        return fail("must be one of (" + join(e->get_array(), "|") + ")");
    }
    // Lengths are UTF-8 bytes.
    auto len = static_cast<double>(s.size());
    if (auto max = number_member(def, "maxLength"); max && len > *max)
      return fail("must not be longer than " + js_number(*max) + " characters");
    if (auto min = number_member(def, "minLength"); min && len < *min)
      return fail("must not be shorter than " + js_number(*min) + " characters");
    auto max_g = number_member(def, "maxGraphemes");
    auto min_g = number_member(def, "minGraphemes");
    if (max_g || min_g) {
      auto g = static_cast<double>(detail::grapheme_count(s));
      if (max_g && g > *max_g) return fail("must not be longer than " + js_number(*max_g) + " graphemes");
      if (min_g && g < *min_g) return fail("must not be shorter than " + js_number(*min_g) + " graphemes");
    }
    std::string_view format = string_member(def, "format");
    struct Format {
      std::string_view name;
      bool (*ok)(std::string_view);
      std::string_view message;
    };
    static constexpr Format kFormats[] = {
        {"datetime", detail::is_lexicon_datetime,
         "must be an valid atproto datetime (both RFC-3339 and ISO-8601)"},
        {"uri", detail::is_lexicon_uri, "must be a uri"},
        {"at-uri", detail::is_at_uri, "must be a valid at-uri"},
        {"did", detail::is_did, "must be a valid did"},
        {"handle", detail::is_handle, "must be a valid handle"},
        {"at-identifier", detail::is_at_identifier, "must be a valid did or a handle"},
        {"nsid", detail::is_nsid, "must be a valid nsid"},
        {"cid", detail::is_cid_string, "must be a cid string"},
        {"language", detail::is_language_tag, "must be a well-formed BCP 47 language tag"},
        {"tid", detail::is_tid, "must be a valid TID"},
        {"record-key", detail::is_record_key, "must be a valid Record Key"},
    };
    for (const Format& f : kFormats) {
      if (f.name == format && !f.ok(s)) return fail(f.message);
    }
    return std::nullopt;
  }

  std::optional<LexiconProblem> bytes(const json::object& def, const json::value* value) {
    const json::object* o = value ? value->if_object() : nullptr;
    const json::value* b = o && o->size() == 1 ? o->if_contains("$bytes") : nullptr;
    std::optional<std::vector<std::byte>> data;
    if (b && b->is_string()) data = detail::base64_decode(b->get_string());
    if (!data) return fail("must be a byte array");
    auto n = static_cast<double>(data->size());
    if (auto max = number_member(def, "maxLength"); max && n > *max)
      return fail("must not be larger than " + js_number(*max) + " bytes");
    if (auto min = number_member(def, "minLength"); min && n < *min)
      return fail("must not be smaller than " + js_number(*min) + " bytes");
    return std::nullopt;
  }

  // What the ATProto data model adds to any lexicon: no floating-point
  // numbers (a PDS cannot store them) and UTF-8 text, in every member,
  // declared or not. Iterative, so depth costs heap, not stack.
  std::optional<LexiconProblem> data_model(const json::object& root) {
    struct Item {
      const json::value* v;
      std::size_t depth;  // path_ size to restore
      Seg seg;
    };
    std::vector<Item> stack;
    path_.clear();
    for (auto it = root.end(); it != root.begin();) {
      --it;
      if (!detail::is_valid_utf8(it->key())) {
        Push push(path_, Seg{it->key()});
        return fail("has a member name that is not valid UTF-8");
      }
      stack.push_back({&it->value(), 0, Seg{it->key()}});
    }
    while (!stack.empty()) {
      Item it = stack.back();
      stack.pop_back();
      path_.resize(it.depth);
      path_.push_back(it.seg);
      switch (it.v->kind()) {
        case json::kind::double_:
          return fail("must not be a floating-point number (the ATProto data model has only integers)");
        case json::kind::string:
          if (!detail::is_valid_utf8(it.v->get_string())) return fail("must be valid UTF-8");
          break;
        case json::kind::array: {
          const json::array& a = it.v->get_array();
          for (std::size_t i = a.size(); i-- > 0;) stack.push_back({&a[i], path_.size(), Seg{{}, i, true}});
          break;
        }
        case json::kind::object: {
          const json::object& o = it.v->get_object();
          std::vector<Item> kids;
          for (const auto& kv : o) {
            if (!detail::is_valid_utf8(kv.key())) {
              Push push(path_, Seg{kv.key()});
              return fail("has a member name that is not valid UTF-8");
            }
            kids.push_back({&kv.value(), path_.size(), Seg{kv.key()}});
          }
          stack.insert(stack.end(), kids.rbegin(), kids.rend());
          break;
        }
        default:
          break;
      }
    }
    path_.clear();
    return std::nullopt;
  }
};

// ---- LexiconCatalog --------------------------------------------------------

namespace {

// Rewrites every `ref` / `union` target to its absolute "lex:" form, as the
// official Lexicons.add does, so validation needs no knowledge of which
// document a definition came from.
void resolve_refs(json::value& v, std::string_view base, int depth) {
  if (depth > kMaxDocumentDepth) throw InvalidArgument("lexicon document is nested too deeply");
  if (json::array* a = v.if_array()) {
    for (auto& x : *a) resolve_refs(x, base, depth + 1);
    return;
  }
  json::object* o = v.if_object();
  if (!o) return;
  const json::value* type = o->if_contains("type");
  try {
    if (type && type->is_string() && type->get_string() == "ref") {
      json::value* ref = o->if_contains("ref");
      if (!ref || !ref->is_string()) throw InvalidArgument("lexicon ref without a string 'ref'");
      *ref = to_lex_uri(ref->get_string(), base);
    } else if (type && type->is_string() && type->get_string() == "union") {
      json::value* refs = o->if_contains("refs");
      if (!refs || !refs->is_array()) throw InvalidArgument("lexicon union without a 'refs' array");
      for (auto& r : refs->get_array()) {
        if (!r.is_string()) throw InvalidArgument("lexicon union refs must be strings");
        r = to_lex_uri(r.get_string(), base);
      }
    }
  } catch (const Fail& f) {
    throw InvalidArgument("lexicon document: " + f.message);
  }
  for (auto& kv : *o) resolve_refs(kv.value(), base, depth + 1);
}

}  // namespace

void LexiconCatalog::add(const json::value& doc_in) {
  const json::object* o = doc_in.if_object();
  if (!o) throw InvalidArgument("a lexicon document must be a JSON object");
  const json::value* version = o->if_contains("lexicon");
  if (!version || !version->is_int64() || version->get_int64() != 1)
    throw InvalidArgument("not a lexicon document: 'lexicon' must be 1");
  std::string_view id = string_member(*o, "id");
  if (!detail::is_nsid(id)) throw InvalidArgument("lexicon document has no valid NSID 'id'");
  const json::value* defs = o->if_contains("defs");
  if (!defs || !defs->is_object())
    throw InvalidArgument("lexicon " + std::string(id) + " has no 'defs' object");
  for (const auto& kv : defs->get_object()) {
    if (!kv.value().is_object() || !kv.value().get_object().if_contains("type"))
      throw InvalidArgument("lexicon " + std::string(id) + ": definition '" + std::string(kv.key()) +
                            "' must be an object with a 'type'");
  }
  if (docs_.contains(id)) throw InvalidArgument("lexicon " + std::string(id) + " has already been added");

  json::value doc = doc_in;
  const std::string base = "lex:" + std::string(id);
  resolve_refs(doc, base, 0);
  auto [it, inserted] = docs_.emplace(std::string(id), std::move(doc));
  for (const auto& kv : it->second.get_object().at("defs").get_object()) {
    const json::object* def = &kv.value().get_object();
    defs_[base + "#" + std::string(kv.key())] = def;
    if (kv.key() == "main") defs_[base] = def;
  }
}

void LexiconCatalog::add(std::string_view json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec) throw InvalidArgument("lexicon document is not JSON: " + ec.message());
  add(v);
}

bool LexiconCatalog::has_record(std::string_view nsid) const noexcept {
  auto it = defs_.find("lex:" + std::string(nsid));
  return it != defs_.end() && type_of(*it->second) == "record";
}

std::vector<std::string> LexiconCatalog::ids() const {
  std::vector<std::string> out;
  out.reserve(docs_.size());
  for (const auto& kv : docs_) out.push_back(kv.first);
  return out;
}

std::optional<LexiconProblem> LexiconCatalog::check_record(std::string_view nsid,
                                                           const json::object& record) const {
  return LexiconValidator(*this).record(nsid, record);
}

void LexiconCatalog::validate_record(std::string_view nsid, const json::object& record) const {
  if (auto p = check_record(nsid, record)) throw RecordError(std::move(p->member), p->message);
}

const LexiconCatalog& LexiconCatalog::shipped() {
  static const LexiconCatalog cat = [] {
    LexiconCatalog c;
    for (const ShippedLexicon& l : shipped_lexicons()) c.add(l.json);
    return c;
  }();
  return cat;
}

std::span<const ShippedLexicon> shipped_lexicons() noexcept {
  return {detail::kShippedLexicons, detail::kShippedLexiconCount};
}

std::optional<LexiconProblem> check_record(const json::object& record) {
  const json::value* t = record.if_contains("$type");
  if (!t || !t->is_string()) return LexiconProblem{"$type", "Record/$type must be a string"};
  return LexiconCatalog::shipped().check_record(t->get_string(), record);
}

std::optional<LexiconProblem> check_record(std::string_view nsid, const json::object& record) {
  return LexiconCatalog::shipped().check_record(nsid, record);
}

void validate_record(const json::object& record) {
  if (auto p = check_record(record)) throw RecordError(std::move(p->member), p->message);
}

void validate_record(std::string_view nsid, const json::object& record) {
  LexiconCatalog::shipped().validate_record(nsid, record);
}

}  // namespace atdata::atmosphere
