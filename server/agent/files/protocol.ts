/** The file-tool methods of the agent (read, write, edit, glob, grep …): filled in with the tools. */
// biome-ignore lint/complexity/noBannedTypes: an empty table until the file tools land
export type FileMethods = {};
