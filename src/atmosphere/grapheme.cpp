// Extended grapheme cluster counting (UAX #29, rules GB3–GB13 including the
// Indic conjunct rule GB9c), with property tables derived from the ICU that
// the official validator's JavaScript engine uses (tools/unicode).

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "atmosphere/lexicon_formats.hpp"

namespace atdata::atmosphere::detail {

namespace {

// Grapheme_Cluster_Break values; keep in step with tools/unicode/grapheme-table.js.
enum Gcb : std::uint8_t {
  kOther,
  kCR,
  kLF,
  kControl,
  kExtend,
  kZWJ,
  kRI,
  kPrepend,
  kSpacingMark,
  kL,
  kV,
  kT,
  kLV,
  kLVT
};
// Indic_Conjunct_Break values.
enum Incb : std::uint8_t { kNone, kLinker, kConsonant, kIncbExtend };

struct Run {
  std::uint32_t first;
  std::uint8_t props;
};

constexpr Run kRuns[] = {
#include "atmosphere/grapheme_table.inc"
};

struct Props {
  Gcb gcb;
  Incb incb;
  bool pictographic;
};

Props props_of(std::uint32_t cp) {
  auto it = std::upper_bound(std::begin(kRuns), std::end(kRuns), cp,
                             [](std::uint32_t c, const Run& r) { return c < r.first; });
  std::uint8_t p = std::prev(it)->props;
  return {static_cast<Gcb>(p & 0x0f), static_cast<Incb>((p >> 4) & 0x07), (p & 0x80) != 0};
}

// Decodes one code point at s[i], advancing i; an ill-formed sequence yields
// U+FFFD and consumes one byte.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return 0xfffd;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return 0xfffd;
  }
  for (int k = 1; k < len; ++k) {
    unsigned char b = byte(i + static_cast<std::size_t>(k));
    if ((b & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++i;
    return 0xfffd;
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

bool is_control(Gcb g) {
  return g == kControl || g == kCR || g == kLF;
}

}  // namespace

std::size_t grapheme_count(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  Props prev{};
  // GB11: inside "ExtPict Extend*" (1) or right after its ZWJ (2).
  int emoji = 0;
  // GB9c: after an InCB consonant followed by extends/linkers (1), with at
  // least one linker among them (2).
  int conjunct = 0;
  // GB12/13: regional indicators in the current run.
  std::size_t ri_run = 0;
  while (i < s.size()) {
    Props cur = props_of(next_code_point(s, i));
    bool brk = true;
    if (count == 0) {
      brk = true;
    } else if (prev.gcb == kCR && cur.gcb == kLF) {
      brk = false;  // GB3
    } else if (is_control(prev.gcb) || is_control(cur.gcb)) {
      brk = true;  // GB4, GB5
    } else if (prev.gcb == kL && (cur.gcb == kL || cur.gcb == kV || cur.gcb == kLV || cur.gcb == kLVT)) {
      brk = false;  // GB6
    } else if ((prev.gcb == kLV || prev.gcb == kV) && (cur.gcb == kV || cur.gcb == kT)) {
      brk = false;  // GB7
    } else if ((prev.gcb == kLVT || prev.gcb == kT) && cur.gcb == kT) {
      brk = false;  // GB8
    } else if (cur.gcb == kExtend || cur.gcb == kZWJ || cur.gcb == kSpacingMark || prev.gcb == kPrepend) {
      brk = false;  // GB9, GB9a, GB9b
    } else if (cur.incb == kConsonant && conjunct == 2) {
      brk = false;  // GB9c
    } else if (prev.gcb == kZWJ && cur.pictographic && emoji == 2) {
      brk = false;  // GB11
    } else if (prev.gcb == kRI && cur.gcb == kRI && ri_run % 2 == 1) {
      brk = false;  // GB12, GB13
    }
    if (brk) ++count;

    if (cur.pictographic) {
      emoji = 1;
    } else if (emoji == 1 && cur.gcb == kExtend) {
      emoji = 1;
    } else if (emoji == 1 && cur.gcb == kZWJ) {
      emoji = 2;
    } else {
      emoji = 0;
    }
    if (cur.incb == kConsonant) {
      conjunct = 1;
    } else if (conjunct != 0 && cur.incb == kLinker) {
      conjunct = 2;
    } else if (conjunct == 0 || cur.incb != kIncbExtend) {
      conjunct = 0;
    }
    ri_run = cur.gcb == kRI ? ri_run + 1 : 0;
    prev = cur;
  }
  return count;
}

}  // namespace atdata::atmosphere::detail
