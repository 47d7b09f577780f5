#include "llm/openai/request_parts.h"

#include <optional>

namespace gb::llm::openai::req {

namespace {

// Long enough for signed storage URLs; a longer "URL" is not one gbd should fetch.
constexpr size_t kMaxUrl = 16 * 1024;

// `cache_control` is accepted on every part and ignored: a prompt-caching hint meant for
// other providers (clients that route to several send it); Gemini caches implicitly and
// the answer does not depend on it.
constexpr std::string_view kCacheControl = "cache_control";

Value inline_data(std::string_view mime, std::string_view data, Alloc& a) {
  Value blob(rapidjson::kObjectType);
  blob.AddMember("mimeType", str(mime, a), a);
  blob.AddMember("data", str(data, a), a);
  Value part(rapidjson::kObjectType);
  part.AddMember("inlineData", std::move(blob), a);
  return part;
}

bool base64_data_uri(std::string_view uri, const std::string& param, Alloc& a, Value* out,
                     RequestError* err) {
  std::optional<DataUri> d = parse_data_uri(uri);
  if (!d) {
    return fail(err, bad_value(param,
                               "expected a data: URI with a media type and base64 data "
                               "(data:<type>;base64,<data>)"));
  }
  if (!is_base64(d->data)) {
    return fail(err, bad_value(param, "the data is not valid base64"));
  }
  *out = inline_data(d->mime_type, d->data, a);
  return true;
}

bool has_scheme(std::string_view url, std::string_view scheme) {
  if (url.size() <= scheme.size()) {
    return false;
  }
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = url[i] >= 'A' && url[i] <= 'Z' ? static_cast<char>(url[i] - 'A' + 'a') : url[i];
    if (c != scheme[i]) {
      return false;
    }
  }
  return true;
}

bool image_part(const Value& part, const std::string& path, Family family, Alloc& a, Value* out,
                std::string* remote_url, RequestError* err) {
  if (!only_known(part, {"type", "image_url", kCacheControl}, path, err)) {
    return false;
  }
  std::string at = field_path(path, "image_url");
  const Value* img = find(part, "image_url");
  if (img == nullptr) {
    return fail(err, missing(at));
  }
  std::optional<std::string_view> url;
  std::optional<std::string_view> detail;
  if (img->IsString()) {  // an older shape some clients still send: the URL alone
    url = sv(*img);
  } else if (!img->IsObject()) {
    return fail(err, bad_type(at, "an object"));
  } else if (!only_known(*img, {"url", "detail"}, at, err) ||
             !read_string(*img, "url", at, &url, err) ||
             !read_string(*img, "detail", at, &detail, err)) {
    return false;
  }
  std::string url_at = field_path(at, "url");
  if (!url) {
    return fail(err, missing(url_at));
  }
  if (has_scheme(*url, "data:")) {
    if (!base64_data_uri(*url, url_at, a, out, err)) {
      return false;
    }
  } else if (has_scheme(*url, "http://") || has_scheme(*url, "https://")) {
    if (url->size() > kMaxUrl) {
      return fail(err, bad_value(url_at, "the URL is longer than 16 KiB"));
    }
    *out = inline_data("", "", a);
    *remote_url = std::string(*url);
  } else {
    return fail(err, bad_value(url_at, "expected an http(s) URL or a data: URI"));
  }
  std::string_view level;
  if (detail && *detail != "auto") {
    if (*detail != "low" && *detail != "high") {
      return fail(err, bad_value(field_path(at, "detail"), "expected auto, low or high"));
    }
    level = *detail == "low" ? "MEDIA_RESOLUTION_LOW" : "MEDIA_RESOLUTION_HIGH";
  }
  // Only Gemini 3 takes a resolution per part. Elsewhere detail is a cost hint that does
  // not change what the model is asked; it is ignored.
  if (!level.empty() && family == Family::gemini_3) {
    Value res(rapidjson::kObjectType);
    res.AddMember("level", str(level, a), a);
    out->AddMember("mediaResolution", std::move(res), a);
  }
  return true;
}

bool audio_part(const Value& part, const std::string& path, Alloc& a, Value* out,
                RequestError* err) {
  if (!only_known(part, {"type", "input_audio", kCacheControl}, path, err)) {
    return false;
  }
  std::string at = field_path(path, "input_audio");
  const Value* audio = nullptr;
  if (!read_object(part, "input_audio", path, &audio, err)) {
    return false;
  }
  if (audio == nullptr) {
    return fail(err, missing(at));
  }
  std::optional<std::string_view> data;
  std::optional<std::string_view> format;
  if (!only_known(*audio, {"data", "format"}, at, err) ||
      !read_string(*audio, "data", at, &data, err) ||
      !read_string(*audio, "format", at, &format, err)) {
    return false;
  }
  if (!data) {
    return fail(err, missing(field_path(at, "data")));
  }
  if (!is_base64(*data)) {
    return fail(err, bad_value(field_path(at, "data"), "the data is not valid base64"));
  }
  if (!format || (*format != "wav" && *format != "mp3")) {
    return fail(err, bad_value(field_path(at, "format"), "expected wav or mp3"));
  }
  *out = inline_data(*format == "wav" ? "audio/wav" : "audio/mpeg", *data, a);
  return true;
}

bool file_part(const Value& part, const std::string& path, Alloc& a, Value* out,
               RequestError* err) {
  if (!only_known(part, {"type", "file", kCacheControl}, path, err)) {
    return false;
  }
  std::string at = field_path(path, "file");
  const Value* file = nullptr;
  if (!read_object(part, "file", path, &file, err)) {
    return false;
  }
  if (file == nullptr) {
    return fail(err, missing(at));
  }
  // filename is ignored: Gemini's Blob has no name (displayName is Vertex-only) and the
  // model reads the bytes, not the name.
  std::optional<std::string_view> data;
  std::optional<std::string_view> id;
  std::optional<std::string_view> filename;
  if (!only_known(*file, {"file_data", "file_id", "filename"}, at, err) ||
      !read_string(*file, "file_data", at, &data, err) ||
      !read_string(*file, "file_id", at, &id, err) ||
      !read_string(*file, "filename", at, &filename, err)) {
    return false;
  }
  if (id) {
    return fail(err, unsupported(field_path(at, "file_id"),
                                 "files uploaded to OpenAI do not exist on Gemini; send the "
                                 "bytes as file_data"));
  }
  if (!data) {
    return fail(err, missing(field_path(at, "file_data")));
  }
  return base64_data_uri(*data, field_path(at, "file_data"), a, out, err);
}

}  // namespace

bool user_part(const Value& part, const std::string& path, Family family, Alloc& a, Value* out,
               std::string* remote_url, RequestError* err) {
  out->SetNull();
  if (!part.IsObject()) {
    return fail(err, bad_type(path, "an object"));
  }
  std::optional<std::string_view> type;
  if (!read_string(part, "type", path, &type, err)) {
    return false;
  }
  if (!type) {
    return fail(err, missing(field_path(path, "type")));
  }
  if (*type == "text") {
    std::optional<std::string_view> text;
    if (!only_known(part, {"type", "text", kCacheControl}, path, err) ||
        !read_string(part, "text", path, &text, err)) {
      return false;
    }
    if (!text) {
      return fail(err, missing(field_path(path, "text")));
    }
    if (!text->empty()) {  // Gemini refuses empty text parts
      out->SetObject();
      out->AddMember("text", str(*text, a), a);
    }
    return true;
  }
  if (*type == "image_url") {
    return image_part(part, path, family, a, out, remote_url, err);
  }
  if (*type == "input_audio") {
    return audio_part(part, path, a, out, err);
  }
  if (*type == "file") {
    return file_part(part, path, a, out, err);
  }
  return fail(err, bad_value(field_path(path, "type"),
                             "'" + std::string(*type) +
                                 "'; a user message's parts are text, image_url, input_audio "
                                 "and file"));
}

bool text_content(const Value& content, const std::string& path, bool allow_refusal,
                  std::string* out, RequestError* err) {
  out->clear();
  if (content.IsString()) {
    *out = sv(content);
    return true;
  }
  if (!content.IsArray()) {
    return fail(err, bad_type(path, "a string or an array of text parts"));
  }
  for (rapidjson::SizeType i = 0; i < content.Size(); ++i) {
    const Value& part = content[i];
    std::string at = index_path(path, i);
    if (!part.IsObject()) {
      return fail(err, bad_type(at, "an object"));
    }
    std::optional<std::string_view> type;
    if (!read_string(part, "type", at, &type, err)) {
      return false;
    }
    bool refusal = allow_refusal && type == "refusal";
    if (type != "text" && !refusal) {
      return fail(err, bad_value(field_path(at, "type"),
                                 allow_refusal ? "expected text or refusal"
                                               : "this message takes text parts only"));
    }
    const char* key = refusal ? "refusal" : "text";
    std::optional<std::string_view> text;
    if (!only_known(part, {"type", key, kCacheControl}, at, err) ||
        !read_string(part, key, at, &text, err)) {
      return false;
    }
    if (!text) {
      return fail(err, missing(field_path(at, key)));
    }
    *out += *text;
  }
  return true;
}

}  // namespace gb::llm::openai::req
