// JSON Schema, as OpenAI clients write it -> Gemini's `Schema` (WIRE.md §1.4.7, §6.3).
//
// Gemini's Schema is an OpenAPI 3.0 subset whose parser refuses every name it does not
// know, so the sanitizer works from an allow-list: it emits only Gemini's keys and drops
// the rest (additionalProperties, $schema, $id, $comment, strict, default, examples, not,
// if/then/else, patternProperties, prefixItems, exclusiveMinimum/Maximum, readOnly,
// writeOnly, contentEncoding, contentMediaType, ...). What it rewrites rather than drops:
//   - $ref into "#/..." (usually #/$defs/X or #/definitions/X) is inlined; sibling keys of
//     the $ref win over the target's. A recursive $ref cannot be written as a Gemini
//     Schema and is refused. External refs are refused.
//   - allOf is flattened into its parent: properties and required are united, other keys
//     taken from the first schema that has them (the parent first).
//   - anyOf / oneOf: {"type":"null"} branches become nullable; one branch left is merged
//     into the parent; several stay an anyOf (oneOf read as anyOf: looser, never stricter).
//     Ignored when the parent has its own type or properties (the branches are then
//     partial constraints Gemini cannot express).
//   - "type": [T, "null"] -> type T, nullable; [A, B] -> anyOf [{type A}, {type B}], each
//     with the keys that apply to its type. Type names are upper-cased (STRING, ...).
//   - No type: OBJECT if there are properties, ARRAY if items, STRING if enum or const.
//   - enum values become strings (numbers as written, booleans as true/false; null makes
//     the schema nullable). Gemini's enum is for STRING only, so an enum on a NUMBER,
//     INTEGER or BOOLEAN is dropped (the values' JSON type matters more to the client).
//   - const (string) -> a one-value enum; other consts are dropped.
//   - format: only "enum" and "date-time" are kept (the formats Gemini honours).
//   - An ARRAY without items (or with items: {} / true) gets items {"type":"STRING"}:
//     Gemini requires items, and strings are what an unconstrained model emits best.
//   - required keeps only names present in properties.
//   - propertyOrdering (optional, for response schemas): the declaration order.
// Pure: no I/O.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace gb::llm::openai {

struct SchemaOptions {
  // Add propertyOrdering to every OBJECT with properties: Gemini otherwise writes an
  // answer's keys in alphabetical order, not in the order the schema declared them.
  bool property_ordering = false;
};

// Limits that keep a hostile schema from growing the translation: output depth, and
// sub-schemas emitted (after $ref inlining, which can multiply a schema).
inline constexpr int kMaxSchemaDepth = 64;
inline constexpr size_t kMaxSchemaNodes = 5000;
inline constexpr size_t kMaxSchemaMembers = 1000;         // in one schema object
inline constexpr size_t kMaxSchemaCopied = 4 << 20;       // title and description bytes

struct SchemaResult {
  bool ok = false;
  rapidjson::Value schema;  // the Gemini Schema, allocated in the allocator passed in
  std::string error;        // why not, for a person
  std::string at;           // where in the input: "properties.city.type" ("" = the root)
};

SchemaResult sanitize_schema(const rapidjson::Value& json_schema,
                             rapidjson::Document::AllocatorType& alloc,
                             const SchemaOptions& opt = {});

// True for a (sanitized) Gemini schema that is an OBJECT, or untyped, with no properties:
// Gemini refuses it as function parameters ("should be non-empty for OBJECT type").
bool schema_without_properties(const rapidjson::Value& gemini_schema);

}  // namespace gb::llm::openai
