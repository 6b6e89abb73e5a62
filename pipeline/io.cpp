#include "spinescope/io.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>

#include <boost/filesystem.hpp>

#include "spinescope/errors.hpp"

namespace spinescope {

namespace fs = boost::filesystem;

void write_file_atomic(const std::string& path, const std::string& content) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  boost::system::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path temp = dir / fs::unique_path("." + target.filename().string() + ".tmp-%%%%%%%%");
  {
    FILE* f = std::fopen(temp.string().c_str(), "wb");
    if (!f) throw OutputError(path, "cannot create temporary file in " + dir.string());
    const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size() && std::fflush(f) == 0 &&
                    ::fsync(fileno(f)) == 0;
    if (std::fclose(f) != 0 || !ok) {
      fs::remove(temp, ec);
      throw OutputError(path, "write failed (disk full?)");
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw OutputError(path, "cannot rename temporary file into place: " + ec.message());
  }
}

int CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

CsvTable read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open", kExitNoInput);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  CsvTable table;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1, record_line = 1;
  auto end_record = [&] {
    record.push_back(field);
    field.clear();
    field_started = false;
    const bool blank = record.size() == 1 && record[0].empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = record;
        if (!table.header.empty() && table.header[0].rfind("\xEF\xBB\xBF", 0) == 0)
          table.header[0].erase(0, 3);  // UTF-8 byte-order mark from spreadsheet exports
      } else {
        if (record.size() != table.header.size())
          throw InputError(path, "line " + std::to_string(record_line) + ": " + std::to_string(record.size()) +
                                     " fields, header has " + std::to_string(table.header.size()));
        table.rows.push_back(record);
        table.line_numbers.push_back(record_line);
      }
    }
    record.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      field_started = false;
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      end_record();
      record_line = ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw InputError(path, "line " + std::to_string(record_line) + ": unterminated quoted field");
  if (!field.empty() || !record.empty()) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    end_record();
  }
  if (table.header.empty()) throw InputError(path, "empty CSV file (no header)");
  return table;
}

std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << std::setprecision(digits) << value;
  return s.str();
}

// ---- Json ----
Json::Json() = default;
Json::Json(double v) : kind_(Kind::kNumber), number_(v) {}
Json::Json(int v) : kind_(Kind::kNumber), number_(v), integral_(true) {}
Json::Json(long v) : kind_(Kind::kNumber), number_(static_cast<double>(v)), integral_(true) {}
Json::Json(unsigned long v) : kind_(Kind::kNumber), number_(static_cast<double>(v)), integral_(true) {}
Json::Json(bool v) : kind_(Kind::kBool), flag_(v) {}
Json::Json(const char* v) : kind_(Kind::kString), text_(v) {}
Json::Json(std::string v) : kind_(Kind::kString), text_(std::move(v)) {}
Json Json::object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}
Json Json::array() {
  Json j;
  j.kind_ = Kind::kArray;
  return j;
}
Json& Json::set(const std::string& key, Json value) {
  kind_ = Kind::kObject;
  for (auto& m : members_)
    if (m.first == key) {
      m.second = std::move(value);
      return *this;
    }
  members_.emplace_back(key, std::move(value));
  return *this;
}
Json& Json::push(Json value) {
  kind_ = Kind::kArray;
  items_.push_back(std::move(value));
  return *this;
}
std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out + "\n";
}

namespace {
void escape_to(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}
}  // namespace

void Json::dump_to(std::string& out, int indent, int depth) const {
  const std::string pad = indent > 0 ? "\n" + std::string(static_cast<std::size_t>(indent * (depth + 1)), ' ') : "";
  const std::string close = indent > 0 ? "\n" + std::string(static_cast<std::size_t>(indent * depth), ' ') : "";
  switch (kind_) {
    case Kind::kNull: out += "null"; break;
    case Kind::kBool: out += flag_ ? "true" : "false"; break;
    case Kind::kNumber:
      if (!std::isfinite(number_)) out += "null";
      else if (integral_) out += std::to_string(static_cast<long long>(number_));
      else out += format_number(number_, 10);
      break;
    case Kind::kString: escape_to(out, text_); break;
    case Kind::kObject:
      if (members_.empty()) { out += "{}"; break; }
      out += '{';
      for (std::size_t i = 0; i < members_.size(); ++i) {
        out += (i ? "," : "") + pad;
        escape_to(out, members_[i].first);
        out += indent > 0 ? ": " : ":";
        members_[i].second.dump_to(out, indent, depth + 1);
      }
      out += close + '}';
      break;
    case Kind::kArray:
      if (items_.empty()) { out += "[]"; break; }
      out += '[';
      for (std::size_t i = 0; i < items_.size(); ++i) {
        out += (i ? "," : "") + pad;
        items_[i].dump_to(out, indent, depth + 1);
      }
      out += close + ']';
      break;
  }
}

}  // namespace spinescope
