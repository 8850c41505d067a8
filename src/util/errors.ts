/**
 * Errors that cross part boundaries carry the HTTP status the API layer answers with,
 * so no layer has to guess (DESIGN.md, Conventions). Messages follow Docker's wording
 * where clients match on them (shared/research/docker-api.md §1.5, §0.7).
 */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** 404: the named thing does not exist. */
export const notFound = (message: string) => new EngineError(404, message);
/** 409: name in use, object in use, wrong state. */
export const conflict = (message: string) => new EngineError(409, message);
/** 400: a parameter or body field is invalid. */
export const badRequest = (message: string) => new EngineError(400, message);
/** 304: nothing to do (start a running container, stop a stopped one). */
export const notModified = (message = '') => new EngineError(304, message);
/** 500: a failure of the engine or of a tool it drives. */
export const internal = (message: string) => new EngineError(500, message);

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}

/** The status to answer with for any thrown value; unknown errors are our bugs (500). */
export function statusOf(e: unknown): number {
  return e instanceof EngineError ? e.status : 500;
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
