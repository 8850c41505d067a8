// docker's `--format` handling: "table" (default columns), "table TEMPLATE" (headers from the
// row context's header map, columns aligned by the tabwriter), "json" (one JSON object per row)
// or a raw template (one line per row). `\t` and `\n` typed in a template mean tab and newline.
import { tabwrite } from './tabwriter.js';
import { Template } from './template.js';

export interface RowContext {
  /** Column titles by field name ("ID" → "IMAGE ID"). */
  readonly headers: Record<string, string>;
}

export function isTable(format: string): boolean {
  return format === 'table' || format.startsWith('table ');
}

function prepare(format: string): string {
  let f = format;
  if (isTable(f)) f = f.slice('table'.length);
  f = f.trim();
  return f.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/** Resolves docker's shorthand names: "" and "table" → the default table, "json" → {{json .}}. */
export function resolveFormat(
  format: string,
  defaultTable: string,
  quiet = false,
  quietFormat = '{{.ID}}',
): string {
  if (quiet && (format === '' || format === 'table')) return quietFormat;
  if (format === '' || format === 'table') return defaultTable;
  if (format === 'json') return '{{json .}}';
  return format;
}

/** Header object for a table: every field answers its title, also when called with arguments. */
function headerContext(headers: Record<string, string>): Record<string, unknown> {
  return new Proxy(
    {},
    {
      get(_t, prop) {
        if (typeof prop !== 'string') return undefined;
        const title = headers[prop] ?? '';
        // a method with an argument, like {{.Label "com.example.name"}}, is titled by the argument
        const fn = (...args: unknown[]) => {
          if (args.length === 0) return title;
          const parts = String(args[0]).split('.');
          return (parts[parts.length - 1] ?? '').replace(/[-_]/g, ' ');
        };
        return Object.assign(fn, { toString: () => title });
      },
    },
  );
}

/** Renders rows with a resolved format; returns the whole output text. */
export function renderRows(format: string, rows: object[], headers: Record<string, string>): string {
  const table = isTable(format);
  const tmpl = new Template(prepare(format));
  let text = '';
  if (table) text += `${tmpl.execute(headerContext(headers))}\n`;
  for (const row of rows) text += `${tmpl.execute(row)}\n`;
  return table ? tabwrite(text) : text;
}

/** Renders one value (inspect, version, info): the template runs once, output ends with a newline. */
export function renderOne(format: string, value: unknown): string {
  const tmpl = new Template(prepare(format === 'json' ? '{{json .}}' : format));
  return `${tmpl.execute(value)}\n`;
}
