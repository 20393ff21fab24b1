#pragma once
// Text helpers for search: case folding that covers the portal languages (Latin, Latin-1,
// Latin Extended-A for Polish and German, Cyrillic), and phone digits.

#include <string>
#include <string_view>

namespace server {

// Lower-cases ASCII, Latin-1, Latin Extended-A and Cyrillic letters in UTF-8 text; leaves other
// characters (and invalid bytes) unchanged.
std::string FoldCase(std::string_view utf8);

// The digits of a phone number ("+7 (495) 123-45-67" -> "74951234567").
std::string Digits(std::string_view text);

// Escapes a value for a CSV field separated by `sep` (quotes when needed, doubles quotes), and
// neutralises spreadsheet formulas (a leading = + - @ gets a leading apostrophe).
std::string CsvField(std::string_view value, char sep);

}  // namespace server
