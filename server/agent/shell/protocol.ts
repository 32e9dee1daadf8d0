/** The shell methods of the agent (bash, bash_output, kill_bash …): filled in with the shell engine. */
// biome-ignore lint/complexity/noBannedTypes: an empty table until the shell engine lands
export type ShellMethods = {};
