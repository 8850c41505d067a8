import { badRequest } from '../util/errors.js';
import type { Filters, Query } from './types.js';

const truthy = new Set(['1', 'true', 'True', 'TRUE', 'yes']);
const falsy = new Set(['0', 'false', 'False', 'FALSE', 'no', '']);

/** Parses the `filters` query value, accepting both encodings clients use (docker-api.md §0.11). */
export function parseFilters(raw: string | undefined): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter '${raw}': not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest(`invalid filter '${raw}': expected a JSON object`);
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out.set(key, value.map(String));
    else if (value && typeof value === 'object') {
      out.set(
        key,
        Object.entries(value as Record<string, unknown>)
          .filter(([, on]) => on !== false)
          .map(([v]) => v),
      );
    } else throw badRequest(`invalid filter '${key}': expected a list or a map of values`);
  }
  return out;
}

export function makeQuery(params: URLSearchParams): Query {
  return {
    get: (name) => params.get(name) ?? undefined,
    all: (name) => params.getAll(name),
    has: (name) => params.has(name),
    bool(name, fallback = false) {
      const v = params.get(name);
      if (v === null) return fallback;
      if (truthy.has(v)) return true;
      if (falsy.has(v)) return false;
      throw badRequest(`invalid boolean value for parameter ${name}: '${v}'`);
    },
    int(name, fallback = 0) {
      const v = params.get(name);
      if (v === null || v === '') return fallback;
      const n = Number(v);
      if (!Number.isFinite(n))
        throw badRequest(`invalid value for parameter ${name}: '${v}' is not a number`);
      return Math.trunc(n);
    },
    filters: () => parseFilters(params.get('filters') ?? undefined),
  };
}

/** Checks that only known filter names are used, with Docker's message otherwise. */
export function checkFilterNames(filters: Filters, allowed: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw badRequest(`invalid filter '${key}'`);
  }
}
