/** Command-line options of `npm run bench`. */

export const USAGE = `Usage: npm run bench -- [--only PATTERN] [--runs N] [--no-dockerd]

Runs the same docker CLI commands against an isolated berthd and (when /usr/sbin/dockerd is
installed) an isolated dockerd, and prints medians and berth/dockerd ratios.

  --only PATTERN   run only scenarios whose id or title matches PATTERN (a regular expression)
  --runs N         timing runs per scenario and side (default: per scenario, 3 to 10)
  --no-dockerd     measure berth only
`;

export interface Options {
  only?: RegExp;
  runs?: number;
  dockerd: boolean;
}

export function parseArgs(argv: string[]): Options | 'help' {
  const opts: Options = { dockerd: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') return 'help';
    else if (a === '--no-dockerd') opts.dockerd = false;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : value();
      try {
        opts.only = new RegExp(v, 'i');
      } catch {
        throw new Error(`--only: not a valid pattern: ${JSON.stringify(v)}`);
      }
    } else if (a === '--runs' || a.startsWith('--runs=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new Error(`--runs: want a whole number 1..1000, got ${JSON.stringify(v)}`);
      opts.runs = n;
    } else throw new Error(`unknown option ${JSON.stringify(a)}`);
  }
  return opts;
}
