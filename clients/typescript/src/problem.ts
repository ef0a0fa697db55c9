import type { components } from "./generated/schema.js";

/** The API's problem+json body (RFC 9457 plus a stable `code`). */
export type Problem = components["schemas"]["Problem"];

/**
 * Every non-2xx answer, thrown by the client: the problem's `status`, `code`, `title`, `detail`,
 * the ids to quote when reporting it, and the field errors of a `validation.failed`.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
  readonly errors: Readonly<Record<string, readonly string[]>>;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = "ProblemError";
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail ?? undefined;
    this.requestId = problem.requestId ?? undefined;
    this.traceId = problem.traceId ?? undefined;
    this.errors = problem.errors ?? {};
  }

  /** Reads a failed response: its problem+json body, or a problem made from the status when the body is not one. */
  static async fromResponse(response: Response): Promise<ProblemError> {
    const requestId = response.headers.get("x-request-id") ?? undefined;
    const text = await response.text();
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }

    if (isProblem(body)) {
      const problem: Problem = { ...body };
      if (problem.requestId === undefined && requestId !== undefined) {
        problem.requestId = requestId;
      }

      return new ProblemError(problem);
    }

    const problem: Problem = {
      type: `urn:raptorflow:problem:http.${response.status}`,
      title: response.statusText || "The request failed.",
      status: response.status,
      code: `http.${response.status}`,
    };
    if (requestId !== undefined) {
      problem.requestId = requestId;
    }

    return new ProblemError(problem);
  }
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) {
    return false;
  }

  const candidate = body as Record<string, unknown>;
  return typeof candidate["status"] === "number" && typeof candidate["code"] === "string" && typeof candidate["title"] === "string";
}
