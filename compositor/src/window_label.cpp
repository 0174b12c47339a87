#include "vitrine/compositor/window_label.hpp"

#include "vitrine/base/utf8.hpp"

#include <cstddef>

namespace vitrine::compositor {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr std::size_t kMaxTagBytes = 64;  // a longer bracketed start is text, not a tag

// One code point from `s` at `i` (advanced past it); malformed, overlong, surrogate and
// out-of-range sequences give U+FFFD and consume one byte (RFC 3629; Unicode 3.9 "best practice").
char32_t decode(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0u) == 0xC0u) {
    n = 1, cp = c & 0x1Fu, min = 0x80;
  } else if ((c & 0xF0u) == 0xE0u) {
    n = 2, cp = c & 0x0Fu, min = 0x800;
  } else if ((c & 0xF8u) == 0xF0u) {
    n = 3, cp = c & 0x07u, min = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + n >= s.size()) {  // the sequence is cut off by the end of the string
    ++i;
    return kReplacement;
  }
  for (std::size_t k = 1; k <= n; ++k) {
    if ((b(i + k) & 0xC0u) != 0x80u) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += n + 1;
  return cp;
}

void encode(char32_t cp, std::string& out) { base::append_utf8(out, cp); }

// Characters that must not reach a host title: controls (C0, DEL, C1) and format characters
// that reorder, hide or break text (bidi embeddings, overrides and isolates, zero-width
// characters, line and paragraph separators, the byte-order mark, soft hyphen).
bool unwanted(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
  if (cp == 0x00AD || cp == 0x061C || cp == 0x180E || cp == 0xFEFF) return true;
  if (cp >= 0x200B && cp <= 0x200F) return true;
  if (cp >= 0x2028 && cp <= 0x202E) return true;
  if (cp >= 0x2060 && cp <= 0x206F) return true;
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return true;  // interlinear annotation
  return false;
}

bool space(char32_t cp) { return cp == U' ' || cp == 0x00A0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200A); }

// The closing bracket for an opening one that could start a fake label, or 0.
char32_t closer(char32_t cp) {
  switch (cp) {
    case U'[': return U']';
    case U'<': return U'>';
    case U'(': return U')';
    case U'{': return U'}';
    case 0xFF3B: return 0xFF3D;  // fullwidth [ ]
    case 0xFF08: return 0xFF09;  // fullwidth ( )
    case 0xFF1C: return 0xFF1E;  // fullwidth < >
    case 0x3010: return 0x3011;  // 【 】
    case 0x3014: return 0x3015;  // 〔 〕
    case 0x3016: return 0x3017;  // 〖 〗
    case 0x27E6: return 0x27E7;  // ⟦ ⟧
    default: return 0;
  }
}

}  // namespace

std::string host_title_part(std::string_view guest_title) {
  // Decode, replacing unwanted characters by spaces and collapsing space runs.
  std::u32string text;
  text.reserve(guest_title.size());
  for (std::size_t i = 0; i < guest_title.size();) {
    char32_t cp = decode(guest_title, i);
    if (unwanted(cp) || space(cp)) cp = U' ';
    if (cp == U' ' && (text.empty() || text.back() == U' ')) continue;
    text.push_back(cp);
  }
  // Leading tags, as often as they come: "[a] [b] (c) title" -> "title".
  std::size_t start = 0;
  for (;;) {
    while (start < text.size() && text[start] == U' ') ++start;
    if (start >= text.size()) break;
    const char32_t close = closer(text[start]);
    if (close == 0) break;
    std::size_t end = start + 1, bytes = 0;
    while (end < text.size() && text[end] != close && bytes <= kMaxTagBytes) {
      bytes += text[end] < 0x80 ? 1 : text[end] < 0x800 ? 2 : text[end] < 0x10000 ? 3 : 4;
      ++end;
    }
    if (end >= text.size() || text[end] != close) break;  // not closed (soon enough): ordinary text
    start = end + 1;
  }
  std::size_t stop = text.size();
  while (stop > start && text[stop - 1] == U' ') --stop;
  std::string out;
  out.reserve(stop - start);
  for (std::size_t k = start; k < stop; ++k) encode(text[k], out);
  return out;
}

std::string labelled_title(const WindowLabel& label, std::string_view guest_title) {
  return label.title_prefix + host_title_part(guest_title);
}

}  // namespace vitrine::compositor
