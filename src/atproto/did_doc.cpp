#include "atdata/atproto/did_doc.hpp"

#include <boost/json/value.hpp>

#include "atdata/atproto/syntax.hpp"
#include "atdata/error.hpp"

namespace atdata::atproto {

std::optional<std::string> DidDocument::handle() const {
  for (const auto& aka : also_known_as) {
    if (aka.rfind("at://", 0) == 0 && is_valid_handle(std::string_view(aka).substr(5))) return aka.substr(5);
  }
  return std::nullopt;
}

namespace {
bool is_http_url(std::string_view s) {
  return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
}
}  // namespace

DidDocument parse_did_document(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) throw RecordError("DID document: not a JSON object");
  const auto* id = o->if_contains("id");
  if (!id || !id->is_string()) throw RecordError("DID document: member 'id' missing or not a string");
  DidDocument doc;
  doc.id = std::string(id->as_string());
  if (const auto* aka = o->if_contains("alsoKnownAs"); aka && aka->is_array()) {
    for (const auto& a : aka->as_array()) {
      if (a.is_string()) doc.also_known_as.emplace_back(a.as_string());
    }
  }
  const auto* services = o->if_contains("service");
  if (services && services->is_array()) {
    const std::string full_id = doc.id + "#atproto_pds";
    for (const auto& s : services->as_array()) {
      const auto* so = s.if_object();
      if (!so) continue;
      const auto* sid = so->if_contains("id");
      const auto* type = so->if_contains("type");
      const auto* ep = so->if_contains("serviceEndpoint");
      if (!sid || !sid->is_string() || !type || !type->is_string() || !ep || !ep->is_string()) continue;
      if (sid->as_string() != "#atproto_pds" && sid->as_string() != full_id) continue;
      if (type->as_string() != "AtprotoPersonalDataServer") continue;
      std::string_view url = ep->as_string();
      if (!is_http_url(url)) continue;
      while (!url.empty() && url.back() == '/') url.remove_suffix(1);
      doc.pds_endpoint = std::string(url);
      break;
    }
  }
  return doc;
}

std::string did_web_document_url(std::string_view did, bool allow_http_localhost) {
  if (!is_valid_did(did) || did.substr(0, 8) != "did:web:") throw InvalidArgument("not a did:web DID");
  auto rest = did.substr(8);
  // The host part ends at the first ':'; a port is percent-encoded as %3A.
  auto colon = rest.find(':');
  std::string_view host_enc = rest.substr(0, colon);
  std::string host;
  for (std::size_t i = 0; i < host_enc.size(); ++i) {
    if (host_enc[i] == '%') {
      if (host_enc.substr(i, 3) != "%3A" && host_enc.substr(i, 3) != "%3a") {
        throw InvalidArgument("did:web: only %3A (port) may be percent-encoded in the host");
      }
      host.push_back(':');
      i += 2;
    } else {
      host.push_back(host_enc[i]);
    }
  }
  auto port_pos = host.find(':');
  std::string_view hostname = std::string_view(host).substr(0, port_pos);
  if (port_pos != std::string::npos) {
    auto port = std::string_view(host).substr(port_pos + 1);
    if (port.empty() || port.size() > 5) throw InvalidArgument("did:web: bad port");
    for (char c : port) {
      if (c < '0' || c > '9') throw InvalidArgument("did:web: bad port");
    }
  }
  bool local = hostname == "localhost" || hostname == "127.0.0.1";
  if (!local && !is_valid_handle(hostname)) throw InvalidArgument("did:web: host is not a domain name");
  std::string url = (allow_http_localhost && local ? "http://" : "https://") + host;
  if (colon == std::string_view::npos) return url + "/.well-known/did.json";
  auto path = rest.substr(colon + 1);
  std::size_t start = 0;
  for (;;) {
    auto next = path.find(':', start);
    auto seg = path.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.find('%') != std::string_view::npos) {
      throw InvalidArgument("did:web: bad path segment");
    }
    url.push_back('/');
    url.append(seg);
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  return url + "/did.json";
}

}  // namespace atdata::atproto
