/**
 * The console's only door to the API. Kept thin on purpose: it is to be replaced by the shared
 * typed client in clients/typescript (same concerns: auth header, Idempotency-Key on POSTs,
 * cursor pages, problem+json as a typed error).
 */

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  requestId?: string;
  errors?: Record<string, string[]>;
}

export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.title);
    this.name = "ProblemError";
    this.problem = problem;
  }
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | undefined | null>;

export interface ApiOptions {
  baseUrl: string;
  token: () => Promise<string | null>;
}

export class Api {
  private readonly options: ApiOptions;
  constructor(options: ApiOptions) {
    this.options = options;
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.options.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") {
        url.searchParams.set(name, String(value));
      }
    }
    return url.toString();
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.send<T>("GET", path, undefined, query);
  }

  /** One page of a cursor list (?limit=&cursor=). */
  page<T>(path: string, cursor: string | null, query?: Query, limit = 20): Promise<Page<T>> {
    return this.get<Page<T>>(path, { ...query, limit, cursor });
  }

  /** POSTs carry a fresh Idempotency-Key, so a retry by the browser or the user cannot act twice. */
  post<T>(path: string, body?: unknown, idempotencyKey: string = crypto.randomUUID()): Promise<T> {
    return this.send<T>("POST", path, body ?? {}, undefined, { "Idempotency-Key": idempotencyKey });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("PATCH", path, body);
  }

  delete(path: string): Promise<void> {
    return this.send<void>("DELETE", path);
  }

  /** Fetches a non-JSON resource (the printable invoice) with the caller's credentials. */
  async text(path: string): Promise<string> {
    const response = await this.fetch("GET", path, undefined, undefined, { Accept: "text/html" });
    return response.text();
  }

  private async send<T>(method: string, path: string, body?: unknown, query?: Query, headers?: Record<string, string>): Promise<T> {
    const response = await this.fetch(method, path, body, query, headers);
    if (response.status === 204 || response.status === 202 && response.headers.get("Content-Length") === "0") {
      return undefined as T;
    }
    const text = await response.text();
    return (text.length > 0 ? JSON.parse(text) : undefined) as T;
  }

  private async fetch(method: string, path: string, body?: unknown, query?: Query, headers?: Record<string, string>): Promise<Response> {
    const token = await this.options.token();
    const all: Record<string, string> = { Accept: "application/json", ...headers };
    if (token) {
      all.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      all["Content-Type"] = "application/json";
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, query), {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ProblemError({ title: "The API could not be reached", status: 0, code: "network.unreachable", detail: "Check the API URL and that its CORS setting allows this origin." });
    }
    if (!response.ok) {
      throw new ProblemError(await readProblem(response));
    }
    return response;
  }
}

async function readProblem(response: Response): Promise<Problem> {
  const requestId = response.headers.get("X-Request-Id") ?? undefined;
  try {
    const problem = (await response.json()) as Problem;
    return { ...problem, status: problem.status ?? response.status, requestId: problem.requestId ?? requestId };
  } catch {
    return { title: response.statusText || "Request failed", status: response.status, requestId };
  }
}
