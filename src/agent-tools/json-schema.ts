import type { GenericSchema } from "valibot";

/** A JSON Schema property as the tools emit it. */
export type JsonSchemaProperty = {
  type: "string" | "integer" | "number" | "boolean";
  description?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
};

/**
 * The JSON Schema (draft-07) of a tool's input: an object with no additional properties.
 * Type aliases rather than interfaces, so they fit the model SDKs' index-signature types.
 */
export type ToolJsonSchema = {
  type: "object";
  properties: Record<string, JsonSchemaProperty>;
  required?: string[];
  additionalProperties: false;
};

interface Node {
  type: string;
  entries?: Record<string, Node>;
  wrapped?: Node;
  options?: string[];
  pipe?: { type: string; requirement?: unknown; description?: string }[];
}

/**
 * Converts the tools' valibot input schemas to JSON Schema. It covers exactly the subset the
 * tools use (strict objects of strings, numbers, booleans and picklists), so the published
 * package needs no converter at run time; a test pins it to `@valibot/to-json-schema`'s output.
 */
export function toToolJsonSchema(schema: GenericSchema): ToolJsonSchema {
  const root = schema as unknown as Node;
  const properties: Record<string, JsonSchemaProperty> = {};
  const required: string[] = [];
  for (const [key, entry] of Object.entries(root.entries ?? {})) {
    const optional = entry.type === "optional";
    properties[key] = toProperty(optional ? entry.wrapped! : entry);
    if (!optional) required.push(key);
  }
  return {
    type: "object",
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function toProperty(node: Node): JsonSchemaProperty {
  const property: JsonSchemaProperty =
    node.type === "picklist"
      ? { type: "string", enum: [...(node.options ?? [])] }
      : { type: node.type as JsonSchemaProperty["type"] };
  for (const action of node.pipe?.slice(1) ?? []) {
    const requirement = action.requirement as number;
    if (action.type === "integer") property.type = "integer";
    else if (action.type === "min_value") property.minimum = requirement;
    else if (action.type === "max_value") property.maximum = requirement;
    else if (action.type === "min_length") property.minLength = requirement;
    else if (action.type === "description") property.description = action.description!;
    else throw new TypeError(`No JSON Schema conversion for the "${action.type}" action`);
  }
  return property;
}
