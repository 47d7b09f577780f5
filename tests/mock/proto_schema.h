// The request messages of the Gemini API as proto3-JSON sees them (WIRE.md §0.1, §1.4):
// field names, kinds and whether they repeat. The checker in proto_check.h walks a parsed
// body against these tables and answers the way Google's transcoder does, so that a
// translator that emits a misspelt or misplaced field fails in tests as it would in
// production.
//
// Only lowerCamelCase names are listed; the snake_case proto names are derived.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gb::mock {

enum class FieldKind {
  message,     // a nested message (type)
  schema_map,  // map<string, type>, e.g. Schema.properties
  string,
  boolean,
  int32,
  int64,
  number,
  enumeration,  // name in enum_name
  bytes,        // base64
  structure,    // google.protobuf.Struct: any JSON object
  any,          // google.protobuf.Value: any JSON value
};

struct MessageType;
using TypeRef = const MessageType& (*)();

struct FieldSpec {
  std::string_view name;  // lowerCamelCase
  FieldKind kind;
  bool repeated = false;
  TypeRef type = nullptr;           // message and schema_map
  std::string_view enum_name = {};  // enumeration
  std::string snake = {};           // filled by MessageType
};

inline std::string camel_to_snake(std::string_view camel) {
  std::string out;
  out.reserve(camel.size() + 4);
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

struct MessageType {
  MessageType(std::string_view n, std::vector<FieldSpec> f) : name(n), fields(std::move(f)) {
    for (FieldSpec& s : fields) {
      s.snake = camel_to_snake(s.name);
    }
  }
  // The field a JSON member names, in either spelling; nullptr if none.
  const FieldSpec* find(std::string_view key) const {
    for (const FieldSpec& f : fields) {
      if (key == f.name || key == f.snake) {
        return &f;
      }
    }
    return nullptr;
  }
  std::string_view name;
  std::vector<FieldSpec> fields;
};

namespace proto {

using K = FieldKind;

inline FieldSpec msg(std::string_view n, TypeRef t, bool rep = false) {
  return {n, K::message, rep, t};
}
inline FieldSpec scalar(std::string_view n, K k, bool rep = false) {
  return {n, k, rep};
}
inline FieldSpec enm(std::string_view n, std::string_view e, bool rep = false) {
  return {n, K::enumeration, rep, nullptr, e};
}

inline const MessageType& schema();

inline const MessageType& blob() {
  static const MessageType t{
      "Blob",
      {scalar("mimeType", K::string), scalar("data", K::bytes), scalar("displayName", K::string)}};
  return t;
}

inline const MessageType& file_data() {
  static const MessageType t{"FileData",
                             {scalar("mimeType", K::string), scalar("fileUri", K::string),
                              scalar("displayName", K::string)}};
  return t;
}

inline const MessageType& function_call() {
  static const MessageType t{
      "FunctionCall",
      {scalar("id", K::string), scalar("name", K::string), scalar("args", K::structure)}};
  return t;
}

inline const MessageType& function_response_part() {
  static const MessageType t{"FunctionResponsePart",
                             {msg("inlineData", &blob), msg("fileData", &file_data)}};
  return t;
}

inline const MessageType& function_response() {
  static const MessageType t{
      "FunctionResponse",
      {scalar("id", K::string), scalar("name", K::string), scalar("response", K::structure),
       msg("parts", &function_response_part, true), scalar("willContinue", K::boolean),
       enm("scheduling", "FunctionResponse.Scheduling")}};
  return t;
}

inline const MessageType& executable_code() {
  static const MessageType t{"ExecutableCode",
                             {enm("language", "ExecutableCode.Language"), scalar("code", K::string),
                              scalar("id", K::string)}};
  return t;
}

inline const MessageType& code_execution_result() {
  static const MessageType t{"CodeExecutionResult",
                             {enm("outcome", "CodeExecutionResult.Outcome"),
                              scalar("output", K::string), scalar("id", K::string)}};
  return t;
}

inline const MessageType& video_metadata() {
  static const MessageType t{
      "VideoMetadata",
      {scalar("startOffset", K::string), scalar("endOffset", K::string), scalar("fps", K::number)}};
  return t;
}

inline const MessageType& part_media_resolution() {
  static const MessageType t{"MediaResolution", {enm("level", "MediaResolution.Level")}};
  return t;
}

inline const MessageType& part() {
  static const MessageType t{
      "Part",
      {scalar("text", K::string), msg("inlineData", &blob), msg("fileData", &file_data),
       msg("functionCall", &function_call), msg("functionResponse", &function_response),
       msg("executableCode", &executable_code), msg("codeExecutionResult", &code_execution_result),
       scalar("thought", K::boolean), scalar("thoughtSignature", K::bytes),
       msg("videoMetadata", &video_metadata), msg("mediaResolution", &part_media_resolution),
       scalar("partMetadata", K::structure)}};
  return t;
}

inline const MessageType& content() {
  static const MessageType t{"Content", {msg("parts", &part, true), scalar("role", K::string)}};
  return t;
}

inline const MessageType& schema() {
  static const MessageType t{"Schema",
                             {enm("type", "Type"),
                              scalar("format", K::string),
                              scalar("title", K::string),
                              scalar("description", K::string),
                              scalar("nullable", K::boolean),
                              scalar("enum", K::string, true),
                              msg("items", &schema),
                              scalar("maxItems", K::int64),
                              scalar("minItems", K::int64),
                              {"properties", K::schema_map, false, &schema},
                              scalar("required", K::string, true),
                              scalar("minProperties", K::int64),
                              scalar("maxProperties", K::int64),
                              scalar("minLength", K::int64),
                              scalar("maxLength", K::int64),
                              scalar("pattern", K::string),
                              scalar("example", K::any),
                              msg("anyOf", &schema, true),
                              scalar("propertyOrdering", K::string, true),
                              scalar("default", K::any),
                              scalar("minimum", K::number),
                              scalar("maximum", K::number)}};
  return t;
}

inline const MessageType& function_declaration() {
  static const MessageType t{
      "FunctionDeclaration",
      {scalar("name", K::string), scalar("description", K::string), msg("parameters", &schema),
       scalar("parametersJsonSchema", K::any), msg("response", &schema),
       scalar("responseJsonSchema", K::any), enm("behavior", "FunctionDeclaration.Behavior")}};
  return t;
}

inline const MessageType& tool() {
  // The built-in tools carry small option messages that change often; we accept any object.
  static const MessageType t{
      "Tool",
      {msg("functionDeclarations", &function_declaration, true),
       scalar("googleSearchRetrieval", K::structure), scalar("codeExecution", K::structure),
       scalar("googleSearch", K::structure), scalar("urlContext", K::structure),
       scalar("googleMaps", K::structure), scalar("fileSearch", K::structure),
       scalar("computerUse", K::structure), scalar("mcpServers", K::structure, true)}};
  return t;
}

inline const MessageType& function_calling_config() {
  static const MessageType t{
      "FunctionCallingConfig",
      {enm("mode", "FunctionCallingConfig.Mode"), scalar("allowedFunctionNames", K::string, true)}};
  return t;
}

inline const MessageType& tool_config() {
  static const MessageType t{"ToolConfig",
                             {msg("functionCallingConfig", &function_calling_config),
                              scalar("retrievalConfig", K::structure)}};
  return t;
}

inline const MessageType& safety_setting() {
  static const MessageType t{
      "SafetySetting",
      {enm("category", "HarmCategory"), enm("threshold", "SafetySetting.HarmBlockThreshold")}};
  return t;
}

inline const MessageType& thinking_config() {
  static const MessageType t{
      "ThinkingConfig",
      {scalar("includeThoughts", K::boolean), scalar("thinkingBudget", K::int32),
       enm("thinkingLevel", "ThinkingConfig.ThinkingLevel")}};
  return t;
}

inline const MessageType& generation_config() {
  static const MessageType t{"GenerationConfig",
                             {scalar("stopSequences", K::string, true),
                              scalar("responseMimeType", K::string),
                              msg("responseSchema", &schema),
                              scalar("responseJsonSchema", K::any),
                              enm("responseModalities", "GenerationConfig.Modality", true),
                              scalar("candidateCount", K::int32),
                              scalar("maxOutputTokens", K::int32),
                              scalar("temperature", K::number),
                              scalar("topP", K::number),
                              scalar("topK", K::int32),
                              scalar("seed", K::int32),
                              scalar("presencePenalty", K::number),
                              scalar("frequencyPenalty", K::number),
                              scalar("responseLogprobs", K::boolean),
                              scalar("logprobs", K::int32),
                              scalar("enableEnhancedCivicAnswers", K::boolean),
                              scalar("speechConfig", K::structure),
                              msg("thinkingConfig", &thinking_config),
                              scalar("imageConfig", K::structure),
                              enm("mediaResolution", "GenerationConfig.MediaResolution")}};
  return t;
}

inline const MessageType& generate_content_request() {
  static const MessageType t{
      "GenerateContentRequest",
      {scalar("model", K::string), msg("contents", &content, true), msg("tools", &tool, true),
       msg("toolConfig", &tool_config), msg("safetySettings", &safety_setting, true),
       msg("systemInstruction", &content), msg("generationConfig", &generation_config),
       scalar("cachedContent", K::string)}};
  return t;
}

inline const MessageType& count_tokens_request() {
  static const MessageType t{
      "CountTokensRequest",
      {msg("contents", &content, true), msg("generateContentRequest", &generate_content_request)}};
  return t;
}

inline const MessageType& embed_content_request() {
  static const MessageType t{
      "EmbedContentRequest",
      {scalar("model", K::string), msg("content", &content), enm("taskType", "TaskType"),
       scalar("title", K::string), scalar("outputDimensionality", K::int32)}};
  return t;
}

inline const MessageType& batch_embed_contents_request() {
  static const MessageType t{"BatchEmbedContentsRequest",
                             {msg("requests", &embed_content_request, true)}};
  return t;
}

// Gemini's OpenAI-compatible layer (WIRE.md §3, §4.2, §4.7) parses its requests with the
// same transcoder, so an unknown OpenAI field gets the proto-JSON "Unknown name" error.
// The fields are OpenAI's; nested OpenAI objects are accepted as any object or value.
inline const MessageType& stream_options() {
  static const MessageType t{"StreamOptions", {scalar("includeUsage", K::boolean)}};
  return t;
}

inline const MessageType& chat_completion_request() {
  static const MessageType t{"ChatCompletionRequest",
                             {scalar("model", K::string),
                              scalar("messages", K::structure, true),
                              scalar("maxTokens", K::int32),
                              scalar("maxCompletionTokens", K::int32),
                              scalar("temperature", K::number),
                              scalar("topP", K::number),
                              scalar("n", K::int32),
                              scalar("stop", K::any),
                              scalar("seed", K::int64),
                              scalar("stream", K::boolean),
                              msg("streamOptions", &stream_options),
                              scalar("tools", K::structure, true),
                              scalar("toolChoice", K::any),
                              scalar("parallelToolCalls", K::boolean),
                              scalar("responseFormat", K::structure),
                              scalar("reasoningEffort", K::string),
                              scalar("user", K::string),
                              scalar("frequencyPenalty", K::number),
                              scalar("presencePenalty", K::number),
                              scalar("logitBias", K::structure),
                              scalar("logprobs", K::boolean),
                              scalar("topLogprobs", K::int32),
                              scalar("modalities", K::string, true),
                              scalar("audio", K::structure),
                              scalar("prediction", K::structure),
                              scalar("serviceTier", K::string),
                              scalar("store", K::boolean),
                              scalar("metadata", K::structure),
                              scalar("verbosity", K::string),
                              scalar("webSearchOptions", K::structure),
                              scalar("functions", K::structure, true),
                              scalar("functionCall", K::any),
                              scalar("extraBody", K::structure)}};
  return t;
}

inline const MessageType& embeddings_request() {
  static const MessageType t{
      "EmbeddingsRequest",
      {scalar("model", K::string), scalar("input", K::any), scalar("encodingFormat", K::string),
       scalar("dimensions", K::int32), scalar("user", K::string)}};
  return t;
}

}  // namespace proto
}  // namespace gb::mock
