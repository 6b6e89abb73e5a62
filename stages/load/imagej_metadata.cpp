// ImageJ hyperstack descriptions and length units.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "stages/load/stack_metadata.hpp"

namespace spinescope::stages::load {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

// ImageJ writes non-ASCII characters of metadata values as the 6-character escape \uXXXX.
std::string decode_java_escapes(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 5 < s.size() && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
      const std::string hex = s.substr(i + 2, 4);
      char* end = nullptr;
      const unsigned long code = std::strtoul(hex.c_str(), &end, 16);
      if (hex.size() == 4 && end == hex.c_str() + 4) {
        append_utf8(out, code);
        i += 5;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

int positive_count(const std::string& key, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || errno != 0 || *end != '\0' || v < 1 || v > 100000000)
    throw std::invalid_argument("ImageJ description has " + key + "=" + value + " (expected a positive count)");
  return static_cast<int>(v);
}

}  // namespace

std::optional<double> unit_length_um(const std::string& raw) {
  std::string u = decode_java_escapes(trim(raw));
  for (char& c : u)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (u == "micron" || u == "microns" || u == "um" || u == "\xC2\xB5m" || u == "\xCE\xBCm" || u == "\xB5m" ||
      u == "micrometer" || u == "micrometre" || u == "micrometers" || u == "micrometres")
    return 1.0;
  if (u == "nm" || u == "nanometer" || u == "nanometre" || u == "nanometers" || u == "nanometres") return 1e-3;
  if (u == "mm" || u == "millimeter" || u == "millimetre" || u == "millimeters" || u == "millimetres") return 1e3;
  if (u == "cm" || u == "centimeter" || u == "centimetre") return 1e4;
  if (u == "m" || u == "meter" || u == "metre") return 1e6;
  if (u == "inch" || u == "inches" || u == "in") return 25400.0;
  if (u == "\xC3\x85" || u == "\xE2\x84\xAB" || u == "angstrom") return 1e-4;
  return std::nullopt;
}

std::optional<ImageJDescription> parse_imagej_description(const std::string& text) {
  if (text.compare(0, 7, "ImageJ=") != 0) return std::nullopt;
  ImageJDescription d;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "images") {
      d.images = positive_count(key, value);
    } else if (key == "channels") {
      d.channels = positive_count(key, value);
    } else if (key == "slices") {
      d.slices = positive_count(key, value);
    } else if (key == "frames") {
      d.frames = positive_count(key, value);
    } else if (key == "spacing") {
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(value.c_str(), &end);
      if (value.empty() || errno != 0 || *end != '\0' || !std::isfinite(v) || v <= 0.0)
        throw std::invalid_argument("ImageJ description has spacing=" + value + " (expected a positive number)");
      d.spacing = v;
    } else if (key == "unit") {
      d.unit = decode_java_escapes(value);
    } else if (key == "yunit") {
      d.yunit = decode_java_escapes(value);
    } else if (key == "zunit") {
      d.zunit = decode_java_escapes(value);
    }
  }
  return d;
}

}  // namespace spinescope::stages::load
