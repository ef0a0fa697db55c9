/**
 * The console's door to the API: the shared typed client (clients/typescript), which sends the
 * bearer token, gives each POST an Idempotency-Key and throws a ProblemError for problem+json.
 * `client` is the typed client itself; the short helpers below serve the screens that build
 * their paths as strings.
 */
import { createRaptorFlowClient, ProblemError, type Page, type Problem, type RaptorFlowClient } from "@raptorflow/client";
import type { Client } from "openapi-fetch";

export { ProblemError, type Page, type Problem };

type Query = Record<string, string | number | undefined | null>;
// The string-path helpers go through the same client, without its compile-time path checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UntypedClient = Client<any>;

export interface ApiOptions {
  baseUrl: string;
  token: () => Promise<string | null>;
}

/** A fetch that reports an unreachable API (CORS refusals look the same) as a problem. */
const reachingFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch {
    throw new ProblemError({
      type: "urn:raptorflow:problem:network.unreachable",
      title: "The API could not be reached",
      status: 0,
      code: "network.unreachable",
      detail: "Check the API URL and that its CORS setting allows this origin.",
    });
  }
};

export class Api {
  readonly client: RaptorFlowClient;
  private readonly untyped: UntypedClient;

  constructor(options: ApiOptions) {
    this.client = createRaptorFlowClient({
      baseUrl: options.baseUrl,
      credentials: { bearerToken: async () => (await options.token()) ?? "" },
      fetch: reachingFetch,
    });
    this.untyped = this.client as unknown as UntypedClient;
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    const { data } = await this.untyped.GET(path, { params: { query: clean(query) } });
    return data as T;
  }

  /** One page of a cursor list (?limit=&cursor=). */
  page<T>(path: string, cursor: string | null, query?: Query, limit = 20): Promise<Page<T>> {
    return this.get<Page<T>>(path, { ...query, limit, cursor });
  }

  /** POSTs carry a fresh Idempotency-Key (the client's), so a retry by the browser or the user cannot act twice. */
  async post<T>(path: string, body?: unknown, idempotencyKey: string = crypto.randomUUID()): Promise<T> {
    const { data } = await this.untyped.POST(path, { body: body ?? {}, params: { header: { "Idempotency-Key": idempotencyKey } } });
    return data as T;
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    const { data } = await this.untyped.PATCH(path, { body });
    return data as T;
  }

  async delete(path: string): Promise<void> {
    await this.untyped.DELETE(path, {});
  }

  /** Fetches a non-JSON resource (a printable invoice or credit note) with the caller's credentials. */
  async text(path: string): Promise<string> {
    const { data } = await this.untyped.GET(path, { parseAs: "text", headers: { Accept: "text/html" } });
    return data as string;
  }
}

function clean(query: Query | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") {
      out[name] = value;
    }
  }
  return out;
}
