/**
 * The OpenAPI paths of CONTRACT §11 (binary files and archives), for ./openapi.ts: raw bytes in
 * and out, the JSON answers from the SDK's answer schemas.
 */
import type * as v from "valibot";
import { transferAnswers } from "../../src/protocol/transfer.ts";

type Json = Record<string, unknown>;

/** The schemas and paths of the transfer endpoints, given the document's shared pieces. */
export function transferOpenApi(
  jsonSchema: (schema: v.GenericSchema) => Json,
  operation: (id: string, summary: string, responses: Json, extra?: Json) => Json,
  answer: (description: string, schema: string) => Json,
  common: { sandbox: Json; requestId: Json },
): { schemas: Json; paths: Json } {
  const path = (description: string) => ({
    name: "path",
    in: "query",
    required: true,
    description,
    schema: { type: "string" },
  });
  const format = {
    name: "format",
    in: "query",
    description: "The archive's format",
    schema: { type: "string", enum: ["tar", "tar.gz"], default: "tar" },
  };
  const bytes = (type: string) => ({
    [type]: { schema: { type: "string", contentMediaType: type } },
  });
  const upload = (description: string) => ({
    requestBody: { required: true, description, content: bytes("application/octet-stream") },
  });
  return {
    schemas: {
      UploadAnswer: jsonSchema(transferAnswers.upload),
      ArchiveAnswer: jsonSchema(transferAnswers.archive),
    },
    paths: {
      "/v1/sandboxes/{name}/files": {
        parameters: [common.sandbox, path("The file's absolute path")],
        put: operation(
          "upload",
          "Write a file from raw bytes (parents created, an existing file replaced atomically)",
          { "200": answer("The file written", "UploadAnswer") },
          upload("The file's bytes, streamed; bounded by the sandbox's disk"),
        ),
        get: operation(
          "download",
          "A file's raw bytes; a Range request is answered with 206 (416 outside the file)",
          {
            "200": {
              description: "The file",
              headers: common.requestId,
              content: bytes("application/octet-stream"),
            },
            "206": {
              description: "The range asked for",
              headers: common.requestId,
              content: bytes("application/octet-stream"),
            },
            "416": { $ref: "#/components/responses/Error" },
          },
          { parameters: [{ name: "Range", in: "header", schema: { type: "string" } }] },
        ),
      },
      "/v1/sandboxes/{name}/archive": {
        parameters: [common.sandbox, path("The directory's absolute path"), format],
        put: operation(
          "uploadArchive",
          "Check every entry of a tar, then extract it into the directory (created); a refused archive leaves nothing",
          { "200": answer("What was extracted", "ArchiveAnswer") },
          upload("The tar (or tar.gz), streamed"),
        ),
        get: operation("downloadArchive", "A tar of the directory, streamed as it is made", {
          "200": {
            description: "The archive",
            headers: common.requestId,
            content: { ...bytes("application/x-tar"), ...bytes("application/gzip") },
          },
        }),
      },
    },
  };
}
