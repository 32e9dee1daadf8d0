// Extracts a PDF's text per page in a child process started by server/tools/pdf.ts, under
// memory limits that a worker thread cannot set (its ArrayBuffers are not heap). Plain
// JavaScript so that plain Node runs it. Input: the PDF on stdin. Output: JSON on stdout.
import { extractText, getDocumentProxy } from "unpdf";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let answer;
try {
  const document = await getDocumentProxy(new Uint8Array(Buffer.concat(chunks)));
  const { text } = await extractText(document, { mergePages: false });
  answer = { pages: text };
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  // Out of memory under the limit: the parent reports it as too large to extract.
  answer = error instanceof RangeError ? { tooLarge: message } : { error: message };
}
process.stdout.write(JSON.stringify(answer), () => process.exit(0));
