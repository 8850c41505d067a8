// encoding/json's output: compact, with <, >, & and U+2028/U+2029 escaped as \u003c etc., and a
// value's own toJSON() honoured (docker's row contexts marshal their fields).
export function goJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v);
  return (s ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
