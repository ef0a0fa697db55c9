import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./generated/schema.js";
import { ProblemError } from "./problem.js";

/** How the client authenticates: a user's bearer token (or a function that returns a fresh one), or an org's API key. */
export type Credentials =
  | { bearerToken: string | (() => string | Promise<string>) }
  | { apiKey: string };

export interface RaptorFlowClientOptions {
  /** Where the API is, without `/api`: e.g. `http://127.0.0.1:7071`. */
  baseUrl: string;
  credentials?: Credentials;
  /** A fetch to use instead of the global one (tests, proxies). */
  fetch?: typeof globalThis.fetch;
  /** Makes the `Idempotency-Key` of POSTs that bring none; a random UUID by default. */
  newIdempotencyKey?: () => string;
}

export type RaptorFlowClient = Client<paths>;

/**
 * A typed client of the RaptorFlow API: every path, parameter and body is checked against the
 * generated schema. It sends the credentials, gives each POST an `Idempotency-Key` (pass your
 * own in `params.header` to retry safely), and throws a {@link ProblemError} for every non-2xx answer.
 */
export function createRaptorFlowClient(options: RaptorFlowClientOptions): RaptorFlowClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  client.use(authentication(options.credentials), idempotency(options.newIdempotencyKey ?? (() => crypto.randomUUID())), problems);
  return client;
}

function authentication(credentials: Credentials | undefined): Middleware {
  return {
    async onRequest({ request }) {
      if (credentials === undefined) {
        return request;
      }

      if ("apiKey" in credentials) {
        request.headers.set("X-Api-Key", credentials.apiKey);
      } else {
        const token = typeof credentials.bearerToken === "function" ? await credentials.bearerToken() : credentials.bearerToken;
        request.headers.set("Authorization", `Bearer ${token}`);
      }

      return request;
    },
  };
}

function idempotency(newKey: () => string): Middleware {
  return {
    onRequest({ request }) {
      if (request.method === "POST" && !request.headers.has("Idempotency-Key")) {
        request.headers.set("Idempotency-Key", newKey());
      }

      return request;
    },
  };
}

const problems: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) {
      throw await ProblemError.fromResponse(response);
    }

    return response;
  },
};
