/** Builds small PDF files for tests from their objects, with a correct cross-reference table. */

/**
 * A PDF of `objects`, numbered from 1 (object 1 must be the catalog). A string is written as a
 * plain object; a Buffer as a FlateDecode stream, so it must already be deflated.
 */
export function pdfOf(objects: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from("%PDF-1.4\n", "latin1")];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const object =
      typeof body === "string"
        ? Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`, "latin1")
        : Buffer.concat([
            Buffer.from(
              `${i + 1} 0 obj\n<< /Length ${body.length} /Filter /FlateDecode >>\nstream\n`,
            ),
            body,
            Buffer.from("\nendstream\nendobj\n"),
          ]);
    offsets.push(length);
    parts.push(object);
    length += object.length;
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) tail += `${String(offset).padStart(10, "0")} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  return Buffer.concat([...parts, Buffer.from(tail, "latin1")]);
}
