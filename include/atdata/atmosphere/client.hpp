#pragma once
// The client every atmosphere call takes, under the namespace the rest of the
// atmosphere API lives in (Python: `atdata.atmosphere.AtmosphereClient`). It
// is the XRPC layer's client; both names are the same type.

#include "atdata/atproto/atmosphere_client.hpp"

namespace atdata::atmosphere {

using atproto::AtmosphereClient;
using atproto::AtmosphereClientOptions;

}  // namespace atdata::atmosphere
