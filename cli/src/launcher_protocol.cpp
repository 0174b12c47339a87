#include "launcher_protocol.hpp"

#include <array>

#include <fmt/format.h>

namespace vitrine::cli {

std::string encode_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += '\t';
    for (char c : fields[i]) {
      switch (c) {
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\\': out += "\\\\"; break;
        default: out += c;
      }
    }
  }
  out += '\n';
  return out;
}

std::expected<std::vector<std::string>, std::string> decode_line(std::string_view line) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\0') return std::unexpected(fmt::format("NUL byte at offset {}", i));
    if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\') {
      if (i + 1 == line.size()) return std::unexpected("backslash at end of line");
      char e = line[++i];
      if (e == 't') fields.back() += '\t';
      else if (e == 'n') fields.back() += '\n';
      else if (e == '\\') fields.back() += '\\';
      else return std::unexpected(fmt::format("unknown escape '\\{}' at offset {}", e, i - 1));
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto b = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest) {
    unsigned v = b(i) << 16;
    if (rest == 2) v |= b(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::expected<std::string, std::string> base64_decode(std::string_view text) {
  std::array<int, 256> map{};
  map.fill(-1);
  for (std::size_t k = 0; k < kAlphabet.size(); ++k) map[static_cast<unsigned char>(kAlphabet[k])] = static_cast<int>(k);
  if (text.size() % 4 != 0) return std::unexpected(fmt::format("base64 length {} is not a multiple of 4", text.size()));
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return std::unexpected("base64 data after padding");
      v[k] = map[static_cast<unsigned char>(c)];
      if (v[k] < 0) return std::unexpected(fmt::format("invalid base64 character at offset {}", i + static_cast<std::size_t>(k)));
    }
    unsigned w = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                 (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((w >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((w >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(w & 0xFF);
  }
  return out;
}

}  // namespace vitrine::cli
