#include "session/Session.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/Error.hpp"
#include "io/Formats.hpp"

namespace ptyx::session {
namespace {

using Json = nlohmann::ordered_json;

// Field access with messages that name the file, the line and the field.
class LineReader {
 public:
  LineReader(const std::string& path, int line, const Json& json)
      : path_(path), line_(line), json_(json) {}

  [[nodiscard]] LineReader at(const Json& inner) const { return {path_, line_, inner}; }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(path_, "line " + std::to_string(line_), what);
  }
  [[nodiscard]] bool has(const char* key) const { return json_.contains(key); }
  [[nodiscard]] const Json& require(const char* key) const {
    if (!json_.contains(key)) fail(std::string("missing \"") + key + "\"");
    return json_.at(key);
  }
  [[nodiscard]] std::string text(const char* key, bool required = true) const {
    if (!json_.contains(key)) {
      if (required) fail(std::string("missing \"") + key + "\"");
      return {};
    }
    const Json& v = json_.at(key);
    if (!v.is_string()) fail(std::string("\"") + key + "\" must be a string");
    return v.get<std::string>();
  }
  [[nodiscard]] int integer(const char* key, bool required = true) const {
    if (!json_.contains(key)) {
      if (required) fail(std::string("missing \"") + key + "\"");
      return 0;
    }
    const Json& v = json_.at(key);
    if (!v.is_number_integer()) fail(std::string("\"") + key + "\" must be an integer");
    return v.get<int>();
  }
  /// A number, or null for "not known" (NaN).
  [[nodiscard]] double number(const char* key) const {
    const Json& v = require(key);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) fail(std::string("\"") + key + "\" must be a number");
    return v.get<double>();
  }
  [[nodiscard]] std::string object(const char* key) const {
    if (!json_.contains(key)) return {};
    if (!json_.at(key).is_object()) fail(std::string("\"") + key + "\" must be an object");
    return json_.at(key).dump();
  }

 private:
  const std::string& path_;
  int line_;
  const Json& json_;
};

Header parseHeader(const LineReader& r) {
  if (r.text("type", false) != "header" || r.text("format", false) != kFormatName) {
    r.fail(std::string("not a session file: line 1 must be the header {\"type\": \"header\", "
                       "\"format\": \"") +
           kFormatName + "\", ...}");
  }
  Header h;
  h.version = r.integer("version");
  if (h.version < 1) r.fail("format version " + std::to_string(h.version) + " is not valid");
  if (h.version > kFormatVersion) {
    r.fail("format version " + std::to_string(h.version) + " is newer than this ptyx reads (" +
           std::to_string(kFormatVersion) + "): replay it with a newer ptyx");
  }
  h.program = r.text("program");
  h.programVersion = r.text("program_version");
  h.host = r.text("host", false);
  h.started = r.text("started");
  h.name = r.text("name", false);
  h.parameters = r.object("parameters");
  return h;
}

Action parseAction(const LineReader& r, const Json& j, int line) {
  Action a;
  a.line = line;
  a.seq = r.integer("seq");
  a.time = r.text("time");
  a.offset_s = r.number("offset_s");
  if (!std::isfinite(a.offset_s) || a.offset_s < 0.0) r.fail("\"offset_s\" must be >= 0");
  a.command = r.text("command");
  if (a.command.empty()) r.fail("\"command\" is empty");
  if (r.has("arguments")) a.arguments = r.object("arguments");
  a.iteration = r.integer("iteration", false);
  a.startsRun = r.integer("starts_run", false);
  a.parameters = r.object("parameters");
  if (r.has("files")) {
    if (!j["files"].is_array()) r.fail("\"files\" must be an array");
    for (const auto& f : j["files"]) {
      if (!f.is_object()) r.fail("\"files\" entries must be objects");
      const LineReader fr = r.at(f);
      a.files.push_back({fr.text("argument"), fr.text("path"), fr.text("sha256")});
    }
  }
  if (r.has("result")) {
    const Json& res = j["result"];
    if (!res.is_object()) r.fail("\"result\" must be an object");
    const LineReader rr = r.at(res);
    a.result = ResultHashes{rr.integer("run"), rr.integer("iteration"), rr.text("object_sha256"),
                            rr.text("probe_sha256")};
  }
  return a;
}

Json numberOrNull(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

}  // namespace

Session readSession(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", std::string("cannot be opened: ") + std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Session session;
  session.path = path;
  std::map<int, std::size_t> bySeq;  // action seq -> index in entries
  std::size_t pos = 0;
  int line = 0;
  bool haveHeader = false;
  while (pos < content.size()) {
    ++line;
    const std::size_t end = content.find('\n', pos);
    const bool complete = end != std::string::npos;
    const std::string text = content.substr(pos, complete ? end - pos : std::string::npos);
    pos = complete ? end + 1 : content.size();
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j;
    try {
      j = Json::parse(text);
    } catch (const Json::parse_error& e) {
      if (!complete && haveHeader) {
        // The recorder writes whole lines; a partial last one means it died mid-write.
        session.warnings.push_back(
            "line " + std::to_string(line) +
            " is cut short (the recording program stopped mid-line); ignored");
        break;
      }
      throw InputError(path, "line " + std::to_string(line),
                       std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object())
      throw InputError(path, "line " + std::to_string(line), "must be a JSON object");
    const LineReader r(path, line, j);
    if (!haveHeader) {
      session.header = parseHeader(r);
      haveHeader = true;
      continue;
    }
    const std::string type = r.text("type");
    if (type == "action") {
      Action a = parseAction(r, j, line);
      if (bySeq.contains(a.seq)) r.fail("action seq " + std::to_string(a.seq) + " appears twice");
      bySeq[a.seq] = session.entries.size();
      session.entries.emplace_back(std::move(a));
    } else if (type == "effect") {
      const int seq = r.integer("seq");
      const auto it = bySeq.find(seq);
      if (it == bySeq.end())
        r.fail("effect of action seq " + std::to_string(seq) + ", which comes nowhere before");
      auto& a = std::get<Action>(session.entries[it->second]);
      const Json& at = r.require("iteration");
      if (at.is_null()) {
        a.effect = Action::Effect::None;
      } else if (at.is_number_integer() && at.get<int>() >= 0) {
        a.effect = Action::Effect::At;
        a.effectIteration = at.get<int>();
      } else {
        r.fail("\"iteration\" must be an integer >= 0 or null");
      }
    } else if (type == "checkpoint") {
      Checkpoint c;
      c.line = line;
      c.run = r.integer("run");
      c.iteration = r.integer("iteration");
      c.fourierError = r.number("fourier_error");
      c.overlapError = r.number("overlap_error");
      c.objectError = r.has("object_error") ? r.number("object_error") : c.objectError;
      c.reason = r.text("reason", false);
      session.entries.emplace_back(c);
    } else if (type == "run_end") {
      RunEnd e;
      e.line = line;
      e.run = r.integer("run");
      e.iteration = r.integer("iteration");
      e.reason = r.text("reason");
      session.entries.emplace_back(e);
    } else if (type == "name") {
      session.header.name = r.text("name");
    } else if (type == "header") {
      r.fail("a second header");
    } else {
      // A later minor addition within the same version: keep going, but say so.
      session.warnings.push_back("line " + std::to_string(line) + ": unknown line type \"" + type +
                                 "\" ignored");
    }
  }
  if (!haveHeader) throw InputError(path, "line 1", "the file is empty: no session header");
  return session;
}

SessionWriter::SessionWriter(const std::string& path, const Header& header) : path_(path) {
  // "x": never overwrite an existing session.
  file_ = std::fopen(path.c_str(), "wx");
  if (file_ == nullptr) {
    throw Error(path + ": cannot create the session file: " + std::strerror(errno));
  }
  Json j;
  j["type"] = "header";
  j["format"] = kFormatName;
  j["version"] = header.version;
  j["program"] = header.program;
  j["program_version"] = header.programVersion;
  j["host"] = header.host;
  j["started"] = header.started;
  j["name"] = header.name;
  if (!header.parameters.empty()) j["parameters"] = Json::parse(header.parameters);
  writeLine(j.dump(), true);
}

SessionWriter::~SessionWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void SessionWriter::writeLine(const std::string& json, bool sync) {
  const std::string line = json + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    throw Error(path_ + ": cannot write the session file: " + std::strerror(errno));
  }
  // Actions are rare and what a replay needs most: on disk even if the machine goes down.
  // Checkpoints only reach the kernel (they survive the program, not a power cut).
  if (sync) ::fdatasync(::fileno(file_));
}

void SessionWriter::write(const Action& a) {
  Json j;
  j["type"] = "action";
  j["seq"] = a.seq;
  j["time"] = a.time;
  j["offset_s"] = std::round(a.offset_s * 1000.0) / 1000.0;
  j["command"] = a.command;
  j["arguments"] = Json::parse(a.arguments.empty() ? "{}" : a.arguments);
  j["iteration"] = a.iteration;
  if (a.startsRun > 0) j["starts_run"] = a.startsRun;
  if (!a.files.empty()) {
    Json files = Json::array();
    for (const auto& f : a.files) {
      files.push_back({{"argument", f.argument}, {"path", f.path}, {"sha256", f.sha256}});
    }
    j["files"] = files;
  }
  if (!a.parameters.empty()) j["parameters"] = Json::parse(a.parameters);
  if (a.result) {
    j["result"] = {{"run", a.result->run},
                   {"iteration", a.result->iteration},
                   {"object_sha256", a.result->objectSha256},
                   {"probe_sha256", a.result->probeSha256}};
  }
  writeLine(j.dump(), true);
}

void SessionWriter::writeEffect(int seq, std::optional<int> iteration) {
  Json j;
  j["type"] = "effect";
  j["seq"] = seq;
  j["iteration"] = iteration ? Json(*iteration) : Json(nullptr);
  writeLine(j.dump(), false);
}

void SessionWriter::write(const Checkpoint& c) {
  Json j;
  j["type"] = "checkpoint";
  j["run"] = c.run;
  j["iteration"] = c.iteration;
  j["fourier_error"] = numberOrNull(c.fourierError);
  j["overlap_error"] = numberOrNull(c.overlapError);
  j["object_error"] = numberOrNull(c.objectError);
  j["reason"] = c.reason;
  writeLine(j.dump(), false);
}

void SessionWriter::write(const RunEnd& e) {
  Json j;
  j["type"] = "run_end";
  j["run"] = e.run;
  j["iteration"] = e.iteration;
  j["reason"] = e.reason;
  writeLine(j.dump(), true);
}

void SessionWriter::writeName(const std::string& name) {
  Json j;
  j["type"] = "name";
  j["name"] = name;
  writeLine(j.dump(), true);
}

std::string arraySha256(const Image<cfloat>& image) {
  static_assert(sizeof(cfloat) == 2 * sizeof(float));
  const auto values = image.span();
  return sha256Hex({reinterpret_cast<const unsigned char*>(values.data()),  // NOLINT: bytes
                    values.size() * sizeof(cfloat)});
}

ResultHashes resultHashes(const Reconstruction& result, int run) {
  return {run, static_cast<int>(result.history.size()), arraySha256(result.object),
          arraySha256(result.probe)};
}

std::string isoNowMillis() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char full[48];
  std::snprintf(full, sizeof full, "%s.%03dZ", text, static_cast<int>(millis));
  return full;
}

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

}  // namespace ptyx::session
