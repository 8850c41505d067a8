/** The bench's results: one row per scenario, printed as a markdown table and saved as JSON. */

export type Side = 'berth' | 'dockerd';

/** What one side measured: a value (seconds or KiB), or why there is none. */
export type Measurement =
  | { status: 'ok'; value: number; detail?: Record<string, unknown> }
  | { status: 'n/a' | 'failed' | 'skipped'; reason: string };

export interface Target {
  /** berth/dockerd must be at most (`<=`) or below (`<`) this. */
  op: '<=' | '<';
  ratio: number;
  text: string;
}

export interface Row {
  id: string;
  title: string;
  issue: number;
  unit: 'seconds' | 'KiB';
  target?: Target;
  berth: Measurement;
  dockerd: Measurement;
}

export interface RowResult extends Row {
  ratio?: number;
  pass?: boolean;
}

export function judge(row: Row): RowResult {
  if (row.berth.status !== 'ok' || row.dockerd.status !== 'ok' || row.dockerd.value <= 0) return { ...row };
  const ratio = row.berth.value / row.dockerd.value;
  // The epsilon keeps exactly-on-target ratios (0.1/0.3 vs 1/3) from failing on rounding.
  const t = row.target;
  const pass = t ? (t.op === '<=' ? ratio <= t.ratio + 1e-9 : ratio < t.ratio - 1e-9) : undefined;
  return { ...row, ratio, pass };
}

export function formatValue(m: Measurement, unit: Row['unit']): string {
  if (m.status !== 'ok') return m.status === 'n/a' ? `n/a (${m.reason})` : m.status;
  if (unit === 'KiB') return `${(m.value / 1024).toFixed(1)} MiB`;
  if (m.value >= 1) return `${m.value.toFixed(2)} s`;
  return `${(m.value * 1000).toFixed(1)} ms`;
}

export function markdownTable(rows: RowResult[], withDockerd: boolean): string {
  const head = withDockerd
    ? ['scenario', 'berth', 'dockerd', 'berth/dockerd', 'target', '']
    : ['scenario', 'berth', 'target'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const cells = withDockerd
      ? [
          r.title,
          formatValue(r.berth, r.unit),
          formatValue(r.dockerd, r.unit),
          r.ratio === undefined ? '—' : r.ratio.toFixed(2),
          r.target?.text ?? '—',
          r.pass === undefined ? '' : r.pass ? '✓' : '✗',
        ]
      : [r.title, formatValue(r.berth, r.unit), r.target?.text ?? '—'];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Failure reasons and other notes under the table, one line each. */
export function notes(rows: RowResult[]): string[] {
  const out: string[] = [];
  for (const side of ['berth', 'dockerd'] as const) {
    const failed = rows.filter((r) => r[side].status === 'failed');
    const reasons = new Set(failed.map((r) => (r[side] as { reason: string }).reason));
    // One daemon that never started fails every row for the same reason: say it once.
    if (failed.length > 1 && reasons.size === 1) {
      out.push(
        `- ${side}: ${failed.length === rows.length ? 'every scenario' : `${failed.length} scenarios`} failed: ${[...reasons][0]}`,
      );
      continue;
    }
    for (const r of failed)
      out.push(`- ${r.title} on ${side} failed: ${(r[side] as { reason: string }).reason}`);
  }
  return out;
}
