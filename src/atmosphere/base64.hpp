#pragma once
// The ATProto `{"$bytes": …}` base64 lives in core (shared with atproto's
// DAG-CBOR); atmosphere code names it as before.

#include "atdata/core/detail/text_codecs.hpp"

namespace atdata::atmosphere::detail {

using atdata::detail::base64_decode;
using atdata::detail::base64_encode;

}  // namespace atdata::atmosphere::detail
