// Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1, padding 3, pad ' ', no
// flags): tab-terminated cells of consecutive lines form a column whose width is the widest cell
// plus padding; text after a line's last tab is not a cell and is never padded.

export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const DOCKER_TABS: TabOptions = { minwidth: 10, padding: 3 };

function width(s: string): number {
  return [...s].length;
}

export function tabwrite(text: string, opts: TabOptions = DOCKER_TABS): string {
  const endsWithNewline = text.endsWith('\n');
  const rawLines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const lines = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i] as string[];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j] as string;
        if (j < widths.length && j < cells.length - 1)
          s += c + ' '.repeat(Math.max(0, (widths[j] as number) - width(c)));
        else s += c;
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    let start = line0;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= (lines[cur] as string[]).length - 1) continue;
      writeLines(start, cur);
      start = cur;
      let w = opts.minwidth;
      for (; cur < line1; cur++) {
        const cells = lines[cur] as string[];
        if (column >= cells.length - 1) break;
        const cw = width(cells[column] as string) + opts.padding;
        if (cw > w) w = cw;
      }
      widths.push(w);
      format(start, cur);
      widths.pop();
      start = cur;
      cur--;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}
