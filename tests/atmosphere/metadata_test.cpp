#include "atdata/atmosphere/metadata.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

std::vector<std::byte> hex(std::string_view h) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(Metadata, EncodesLikePythonPackb) {
  // msgpack.packb({"split": "train", "samples": 10000}).hex()
  EXPECT_EQ(encode_metadata(json::object{{"split", "train"}, {"samples", 10000}}),
            hex("82a573706c6974a5747261696ea773616d706c6573cd2710"));
  // msgpack.packb({"a": -1, "b": 1.5, "c": None, "d": [True, False], "e": {}}).hex()
  EXPECT_EQ(
      encode_metadata(json::object{
          {"a", -1}, {"b", 1.5}, {"c", nullptr}, {"d", json::array{true, false}}, {"e", json::object{}}}),
      hex("85a161ffa162cb3ff8000000000000a163c0a16492c3c2a16580"));
  EXPECT_EQ(encode_metadata(json::object{}), hex("80"));
}

TEST(Metadata, DecodesWhatItEncodes) {
  json::object m = json::parse(R"({"split":"train","samples":10000,"neg":-70000,"big":18446744073709551615,
      "ratio":0.25,"nested":{"list":[1,"two",null,[]]},"ok":true})")
                       .as_object();
  EXPECT_EQ(decode_metadata(encode_metadata(m)), m);
}

TEST(Metadata, DecodesBinFloat32AndIntegerKeys) {
  // {"raw": b"\x01\x02", "f": float32(0.5), 7: "seven"}
  json::object m = decode_metadata(hex("83a3726177c4020102a166ca3f00000007a5736576656e"));
  EXPECT_EQ(m.at("raw"), json::parse(R"({"$bytes":"AQI="})"));
  EXPECT_EQ(m.at("f"), 0.5);
  EXPECT_EQ(m.at("7"), "seven");
}

TEST(Metadata, RejectsNonMapsAndBrokenBytes) {
  EXPECT_THROW(decode_metadata({}), atdata::DecodeError);
  EXPECT_THROW(decode_metadata(hex("92c0c0")), atdata::DecodeError);        // array
  EXPECT_THROW(decode_metadata(hex("81a161")), atdata::DecodeError);        // truncated value
  EXPECT_THROW(decode_metadata(hex("8fa161")), atdata::DecodeError);        // count > bytes
  EXPECT_THROW(decode_metadata(hex("80c0")), atdata::DecodeError);          // trailing byte
  EXPECT_THROW(decode_metadata(hex("81c0c0")), atdata::DecodeError);        // nil key
  EXPECT_THROW(decode_metadata(hex("81a161d40100")), atdata::DecodeError);  // ext
  // Deep nesting is refused, not recursed into.
  std::vector<std::byte> deep = hex("81a161");
  for (int i = 0; i < 200; ++i) deep.push_back(std::byte{0x91});
  deep.push_back(std::byte{0xc0});
  EXPECT_THROW(decode_metadata(deep), atdata::DecodeError);
}

}  // namespace
