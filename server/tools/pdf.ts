/** PDF text per page, extracted on the server (unpdf): the agent only ships the bytes. */
import { extractText, getDocumentProxy } from "unpdf";
import { AgentError } from "../agent/failure.ts";

/** The text of each page of a PDF. Throws `unsupported_file` when it cannot be parsed. */
export async function pdfPages(
  bytes: Buffer,
  path: string,
): Promise<{ page_number: number; text: string }[]> {
  try {
    const document = await getDocumentProxy(new Uint8Array(bytes));
    const { text } = await extractText(document, { mergePages: false });
    return text.map((pageText, index) => ({ page_number: index + 1, text: pageText }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AgentError(
      "unsupported_file",
      `${path} looks like a PDF but could not be parsed: ${reason}`,
    );
  }
}
