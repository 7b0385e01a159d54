#pragma once
// A small built-in bitmap font (5 columns, 7 rows above the baseline, 2 below for descenders) so
// that figures carry legible labels without a font library. Text is UTF-8; besides printable
// ASCII it knows the few symbols figures need (pi, micro, degree, times, minus).
#include <array>
#include <cstdint>
#include <string_view>

namespace ptyx::render {

struct Glyph {
  static constexpr int kColumns = 5;
  static constexpr int kRows = 9;          ///< 7 above the baseline, 2 descender rows
  std::array<std::uint8_t, kRows> bits{};  ///< bit (kColumns-1-c) of bits[r] is pixel (r, c)
  int left = 0;                            ///< first inked column; glyphs are set proportionally
  int width = 0;                           ///< inked columns (0 for space)

  [[nodiscard]] bool ink(int row, int col) const {
    return ((bits[static_cast<std::size_t>(row)] >> (kColumns - 1 - col)) & 1U) != 0;
  }
};

inline constexpr int kCapHeight = 7;    ///< font pixels from the top of a capital to the baseline
inline constexpr int kLineHeight = 11;  ///< font pixels from one line's top to the next

/// The glyph for a code point; unknown code points give a hollow box.
const Glyph& glyph(char32_t codePoint);

/// Decodes the next code point of UTF-8 text at `pos`, advancing it; malformed bytes give U+FFFD.
char32_t nextCodePoint(std::string_view text, std::size_t& pos);

/// Width in device pixels of `text` set at integer `scale` (no trailing spacing).
int textWidth(std::string_view text, int scale);

}  // namespace ptyx::render
