#include "ctl/protocol.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/json_depth.h"

namespace gb::ctl {

namespace {

Error bad(std::string msg) {
  return Error::make(Errc::bad_request, Side::client, std::move(msg));
}

// RapidJSON's parser and its copies recurse once per level; no message of the protocol
// nests deeper than a few levels.
constexpr int kMaxDepth = 32;

bool shallow(std::string_view line) {
  return json_depth_within(line, kMaxDepth);
}

std::string string_of(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}

// Every line starts the same way; the caller appends the rest of the object.
void begin(rapidjson::Writer<rapidjson::StringBuffer>& w, int64_t id) {
  w.StartObject();
  w.Key("v");
  w.Int(kVersion);
  w.Key("id");
  w.Int64(id);
}

std::string finish(rapidjson::StringBuffer& buf) {
  std::string out(buf.GetString(), buf.GetSize());
  out += '\n';
  return out;
}

}  // namespace

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Request> parse_request(std::string_view line, int64_t* id) {
  *id = 0;
  Request r;
  if (!shallow(line)) {
    return bad("the request nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  rapidjson::Document parsed;
  parsed.Parse(line.data(), line.size());
  const rapidjson::Document& doc = parsed;
  if (doc.HasParseError()) {
    return bad(std::string("not JSON (one object a line): ") +
               rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
               std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) {
    return bad("a request is a JSON object");
  }
  if (auto it = doc.FindMember("id"); it != doc.MemberEnd()) {
    if (!it->value.IsInt64()) {
      return bad("\"id\" must be an integer");
    }
    *id = r.id = it->value.GetInt64();
  }
  if (auto it = doc.FindMember("v"); it != doc.MemberEnd()) {
    if (!it->value.IsInt()) {
      return bad("\"v\" must be an integer");
    }
    r.v = it->value.GetInt();
    if (r.v != kVersion) {
      return Error::make(Errc::version_unsupported, Side::client,
                         "protocol version " + std::to_string(r.v) + " is not spoken here (gbd " +
                             GB_VERSION + " speaks version " + std::to_string(kVersion) + ")");
    }
  }
  auto cmd = doc.FindMember("cmd");
  if (cmd == doc.MemberEnd() || !cmd->value.IsString()) {
    return bad("\"cmd\" (a string) is missing");
  }
  r.cmd = string_of(cmd->value);
  r.args.SetObject();
  if (auto it = doc.FindMember("args"); it != doc.MemberEnd()) {
    if (!it->value.IsObject()) {
      return bad("\"args\" must be an object");
    }
    r.args.CopyFrom(it->value, r.args.GetAllocator());
  }
  return r;
}

std::string ok_line(int64_t id, const rapidjson::Value* data) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  begin(w, id);
  w.Key("ok");
  w.Bool(true);
  if (data != nullptr) {
    w.Key("data");
    data->Accept(w);
  }
  w.EndObject();
  return finish(buf);
}

std::string error_line(int64_t id, Errc code, std::string_view message,
                       const rapidjson::Value* details) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  begin(w, id);
  w.Key("ok");
  w.Bool(false);
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(errc_name(code));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  if (details != nullptr) {
    w.Key("details");
    details->Accept(w);
  }
  w.EndObject();
  w.EndObject();
  return finish(buf);
}

std::string event_line(int64_t id, const rapidjson::Value& event) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  begin(w, id);
  w.Key("event");
  event.Accept(w);
  w.EndObject();
  return finish(buf);
}

std::string end_line(int64_t id, const rapidjson::Value* data) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  begin(w, id);
  w.Key("ok");
  w.Bool(true);
  w.Key("end");
  w.Bool(true);
  if (data != nullptr) {
    w.Key("data");
    data->Accept(w);
  }
  w.EndObject();
  return finish(buf);
}

std::string request_line(int64_t id, std::string_view cmd, const rapidjson::Value& args) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  begin(w, id);
  w.Key("cmd");
  w.String(cmd.data(), static_cast<rapidjson::SizeType>(cmd.size()));
  w.Key("args");
  args.Accept(w);
  w.EndObject();
  return finish(buf);
}

Result<Reply> parse_reply(std::string_view line) {
  Reply r;
  if (!shallow(line)) {
    return bad("the daemon sent a line nested too deeply");
  }
  r.doc.Parse(line.data(), line.size());
  if (r.doc.HasParseError() || !r.doc.IsObject()) {
    return bad("the daemon sent a line that is not a JSON object");
  }
  const rapidjson::Document& doc = r.doc;
  auto id = doc.FindMember("id");
  if (id != doc.MemberEnd() && id->value.IsInt64()) {
    r.id = id->value.GetInt64();
  }
  if (auto ev = doc.FindMember("event"); ev != doc.MemberEnd()) {
    r.kind = Reply::event;
    r.body = &ev->value;
    return r;
  }
  auto ok = doc.FindMember("ok");
  if (ok == doc.MemberEnd() || !ok->value.IsBool()) {
    return bad("the daemon sent a line with neither \"ok\" nor \"event\"");
  }
  if (ok->value.GetBool()) {
    r.kind = Reply::ok;
    auto end = doc.FindMember("end");
    r.end = end != doc.MemberEnd() && end->value.IsBool() && end->value.GetBool();
    auto data = doc.FindMember("data");
    r.body = data != doc.MemberEnd() ? &data->value : nullptr;
    return r;
  }
  r.kind = Reply::error;
  auto err = doc.FindMember("error");
  if (err == doc.MemberEnd() || !err->value.IsObject()) {
    return bad("the daemon sent a refusal without \"error\"");
  }
  r.body = &err->value;
  auto code = err->value.FindMember("code");
  auto msg = err->value.FindMember("message");
  if (code != err->value.MemberEnd() && code->value.IsString()) {
    r.code = string_of(code->value);
  }
  if (msg != err->value.MemberEnd() && msg->value.IsString()) {
    r.message = string_of(msg->value);
  }
  return r;
}

}  // namespace gb::ctl
