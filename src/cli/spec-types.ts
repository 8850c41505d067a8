// Shapes of the command table (spec-data.ts) shared by the flag parser and the help printer.

/** A flag as docker lists it: `type` is pflag's type name ("bool", "string", "list", "bytes", ...). */
export interface FlagSpec {
  long: string;
  short?: string;
  type: string;
  usage: string;
  /** Default as docker prints it in help ("(default 10)"); also the parsed default. */
  def?: string;
  hidden?: boolean;
}

export interface CommandSpec {
  /** Canonical path without the program name: "image ls", "version". Empty for the root. */
  path: string;
  /** What follows the command in the usage line: "[OPTIONS] IMAGE [IMAGE...]". */
  args: string;
  desc: string;
  /** Other paths that run the same command ("images", "image list"). */
  aliases?: string[];
  flags: FlagSpec[];
}
