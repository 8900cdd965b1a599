#pragma once
// The string formats and length measures of the Lexicon language, as the
// official validator (@atproto/lexicon with @atproto/syntax) defines them.
// Each check is linear in its input and bounded by the format's length limit.

#include <cstddef>
#include <string_view>

#include "atdata/core/detail/text_codecs.hpp"

namespace atdata::atmosphere::detail {

bool is_lexicon_datetime(std::string_view s);  // format "datetime"
bool is_lexicon_uri(std::string_view s);       // format "uri"
bool is_at_uri(std::string_view s);            // format "at-uri"
bool is_did(std::string_view s);
bool is_handle(std::string_view s);
bool is_at_identifier(std::string_view s);
bool is_nsid(std::string_view s);
bool is_cid_string(std::string_view s);  // format "cid", and `{"$link": …}`
bool is_language_tag(std::string_view s);
bool is_tid(std::string_view s);
bool is_record_key(std::string_view s);

// Extended grapheme clusters (UAX #29) of UTF-8 text; an invalid byte counts
// as one code point.
std::size_t grapheme_count(std::string_view utf8);
// Whether `s` is well-formed UTF-8 (no surrogates, no overlong forms).
using atdata::detail::is_valid_utf8;

}  // namespace atdata::atmosphere::detail
