// OME-XML in the first ImageDescription: a small tag scanner (no XML library), enough for Pixels and TiffData.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <vector>

#include "stages/load/stack_metadata.hpp"

namespace spinescope::stages::load {
namespace {

struct Tag {
  std::string name;  ///< without namespace prefix
  std::map<std::string, std::string> attributes;
};

std::string decode_entities(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string::npos) {
      out += s[i];
      continue;
    }
    const std::string e = s.substr(i + 1, semi - i - 1);
    if (e == "amp")
      out += '&';
    else if (e == "lt")
      out += '<';
    else if (e == "gt")
      out += '>';
    else if (e == "quot")
      out += '"';
    else if (e == "apos")
      out += '\'';
    else if (e.size() > 1 && e[0] == '#')
      append_utf8(out, e[1] == 'x' || e[1] == 'X' ? std::strtoul(e.c_str() + 2, nullptr, 16)
                                                  : std::strtoul(e.c_str() + 1, nullptr, 10));
    else
      out += "&" + e + ";";
    i = semi;
  }
  return out;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-' || c == '.';
}

// Start tags in document order (end tags, comments, processing instructions skipped).
std::vector<Tag> scan_tags(const std::string& xml) {
  std::vector<Tag> tags;
  std::size_t i = 0;
  while ((i = xml.find('<', i)) != std::string::npos) {
    ++i;
    if (i >= xml.size()) break;
    if (xml[i] == '/' || xml[i] == '?' || xml[i] == '!') {
      const char* close = xml.compare(i, 3, "!--") == 0 ? "-->" : ">";
      const auto end = xml.find(close, i);
      if (end == std::string::npos) break;
      i = end + 1;
      continue;
    }
    Tag tag;
    const std::size_t name_begin = i;
    while (i < xml.size() && is_name_char(xml[i])) ++i;
    tag.name = xml.substr(name_begin, i - name_begin);
    const auto colon = tag.name.rfind(':');
    if (colon != std::string::npos) tag.name = tag.name.substr(colon + 1);
    while (i < xml.size() && xml[i] != '>') {
      if (!is_name_char(xml[i])) {
        ++i;
        continue;
      }
      const std::size_t key_begin = i;
      while (i < xml.size() && is_name_char(xml[i])) ++i;
      std::string key = xml.substr(key_begin, i - key_begin);
      while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) ++i;
      if (i >= xml.size() || xml[i] != '=') continue;
      ++i;
      while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) ++i;
      if (i >= xml.size() || (xml[i] != '"' && xml[i] != '\'')) continue;
      const char quote = xml[i++];
      const auto end = xml.find(quote, i);
      if (end == std::string::npos) throw std::invalid_argument("OME-XML is cut off inside an attribute");
      tag.attributes[key] = decode_entities(xml.substr(i, end - i));
      i = end + 1;
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

long size_attribute(const Tag& pixels, const std::string& key, bool required) {
  const auto it = pixels.attributes.find(key);
  if (it == pixels.attributes.end()) {
    if (required) throw std::invalid_argument("OME-XML Pixels has no " + key);
    return 1;
  }
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || errno != 0 || *end != '\0' || v < 1)
    throw std::invalid_argument("OME-XML Pixels has " + key + "=\"" + it->second + "\" (expected a positive count)");
  return v;
}

std::optional<double> physical_size_um(const Tag& pixels, const std::string& axis) {
  const auto it = pixels.attributes.find("PhysicalSize" + axis);
  if (it == pixels.attributes.end()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || errno != 0 || *end != '\0' || !std::isfinite(v) || v <= 0.0)
    throw std::invalid_argument("OME-XML has PhysicalSize" + axis + "=\"" + it->second +
                                "\" (expected a positive number)");
  const auto unit_it = pixels.attributes.find("PhysicalSize" + axis + "Unit");
  const std::string unit = unit_it == pixels.attributes.end() ? "\xC2\xB5m" : unit_it->second;  // OME default µm
  const auto factor = unit_length_um(unit);
  if (!factor)
    throw std::invalid_argument("OME-XML PhysicalSize" + axis + "Unit=\"" + unit + "\" is not a length unit");
  return v * *factor;
}

}  // namespace

std::optional<OmeDescription> parse_ome_xml(const std::string& text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || text[start] != '<' || text.find("OME", start) == std::string::npos)
    return std::nullopt;
  const std::vector<Tag> tags = scan_tags(text);
  bool is_ome = false;
  for (const auto& t : tags) is_ome = is_ome || t.name == "OME";
  if (!is_ome) return std::nullopt;

  OmeDescription d;
  const Tag* pixels = nullptr;
  for (const auto& t : tags) {
    if (t.name == "Image") ++d.image_count;
    if (t.name == "Pixels" && !pixels) pixels = &t;
    if (t.name == "UUID") {
      const auto f = t.attributes.find("FileName");
      if (f != t.attributes.end()) d.file_names.insert(f->second);
    }
  }
  if (!pixels) throw std::invalid_argument("OME-XML has no Pixels element");
  d.size_x = size_attribute(*pixels, "SizeX", true);
  d.size_y = size_attribute(*pixels, "SizeY", true);
  d.size_z = size_attribute(*pixels, "SizeZ", false);
  d.size_c = size_attribute(*pixels, "SizeC", false);
  d.size_t = size_attribute(*pixels, "SizeT", false);
  const auto order = pixels->attributes.find("DimensionOrder");
  d.dimension_order = order == pixels->attributes.end() ? "XYZCT" : order->second;
  const std::string& o = d.dimension_order;
  const bool valid_order = o.size() == 5 && o.compare(0, 2, "XY") == 0 && o.find('Z') != std::string::npos &&
                           o.find('C') != std::string::npos && o.find('T') != std::string::npos;
  if (!valid_order) throw std::invalid_argument("OME-XML DimensionOrder=\"" + o + "\" is not one of XY{ZCT}");
  d.x_um = physical_size_um(*pixels, "X");
  d.y_um = physical_size_um(*pixels, "Y");
  d.z_um = physical_size_um(*pixels, "Z");
  return d;
}

void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace spinescope::stages::load
