import assert from "node:assert/strict";
import { test } from "node:test";
import { createRaptorFlowClient, pages, ProblemError } from "../src/index.js";

type Seen = { method: string; url: string; headers: Headers };

/** A fetch that records each request and answers from a script. */
function fakeFetch(answers: Array<(seen: Seen) => Response>): { fetch: typeof globalThis.fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const entry = { method: request.method, url: request.url, headers: request.headers };
    seen.push(entry);
    const answer = answers.shift();
    assert.ok(answer, `unexpected request ${request.method} ${request.url}`);
    return answer(entry);
  };
  return { fetch, seen };
}

const json = (body: unknown, status = 200, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": type } });

test("sends the API key and an Idempotency-Key on POST only", async () => {
  const { fetch, seen } = fakeFetch([
    () => json({ id: "org_1", name: "Acme", slug: "acme" }, 201),
    () => json({ id: "org_1", name: "Acme", slug: "acme" }),
  ]);
  const client = createRaptorFlowClient({ baseUrl: "http://api.test/", credentials: { apiKey: "rf_test_secret" }, fetch, newIdempotencyKey: () => "key-1" });

  await client.POST("/api/v1/orgs", { body: { name: "Acme", slug: "acme" } });
  await client.GET("/api/v1/orgs/{orgId}", { params: { path: { orgId: "org_1" } } });

  assert.equal(seen[0]?.url, "http://api.test/api/v1/orgs");
  assert.equal(seen[0]?.headers.get("X-Api-Key"), "rf_test_secret");
  assert.equal(seen[0]?.headers.get("Idempotency-Key"), "key-1");
  assert.equal(seen[1]?.headers.get("Idempotency-Key"), null);
});

test("a caller's own Idempotency-Key is kept, and a bearer token may come from a function", async () => {
  const { fetch, seen } = fakeFetch([() => json({ id: "org_1", name: "Acme", slug: "acme" }, 201)]);
  const client = createRaptorFlowClient({ baseUrl: "http://api.test", credentials: { bearerToken: async () => "jwt-1" }, fetch });

  await client.POST("/api/v1/orgs", { body: { name: "Acme", slug: null }, params: { header: { "Idempotency-Key": "retry-me" } } });

  assert.equal(seen[0]?.headers.get("Authorization"), "Bearer jwt-1");
  assert.equal(seen[0]?.headers.get("Idempotency-Key"), "retry-me");
});

test("a problem+json answer is thrown as a ProblemError with its code, ids and field errors", async () => {
  const { fetch } = fakeFetch([
    () => json({
      type: "urn:raptorflow:problem:validation.failed", title: "The request is not valid.", status: 400,
      detail: "One or more fields are invalid; see errors.", code: "validation.failed",
      errors: { name: ["Required."] }, requestId: "req-1", traceId: "trace-1",
    }, 400, "application/problem+json"),
  ]);
  const client = createRaptorFlowClient({ baseUrl: "http://api.test", fetch });

  const error = await client.POST("/api/v1/orgs", { body: { name: "", slug: null } }).then(() => undefined, (e: unknown) => e);

  assert.ok(error instanceof ProblemError);
  assert.equal(error.status, 400);
  assert.equal(error.code, "validation.failed");
  assert.equal(error.title, "The request is not valid.");
  assert.equal(error.detail, "One or more fields are invalid; see errors.");
  assert.equal(error.requestId, "req-1");
  assert.equal(error.traceId, "trace-1");
  assert.deepEqual(error.errors, { name: ["Required."] });
});

test("a failure without a problem body still becomes a ProblemError, with the x-request-id header", async () => {
  const { fetch } = fakeFetch([() => new Response("<html>bad gateway</html>", { status: 502, headers: { "x-request-id": "req-9" } })]);
  const client = createRaptorFlowClient({ baseUrl: "http://api.test", fetch });

  const error = await client.GET("/api/healthz").then(() => undefined, (e: unknown) => e);

  assert.ok(error instanceof ProblemError);
  assert.equal(error.status, 502);
  assert.equal(error.code, "http.502");
  assert.equal(error.requestId, "req-9");
});

test("pages walks every page by nextCursor", async () => {
  const member = (userId: string) => ({ userId, role: "viewer" });
  const { fetch, seen } = fakeFetch([
    () => json({ data: [member("u1"), member("u2")], nextCursor: "c2" }),
    () => json({ data: [member("u3")], nextCursor: null }),
  ]);
  const client = createRaptorFlowClient({ baseUrl: "http://api.test", credentials: { apiKey: "rf_x" }, fetch });

  const ids: string[] = [];
  for await (const m of pages((cursor) =>
    client.GET("/api/v1/orgs/{orgId}/members", { params: { path: { orgId: "org_1" }, query: { limit: 2, ...(cursor === undefined ? {} : { cursor }) } } }))) {
    ids.push(m.userId);
  }

  assert.deepEqual(ids, ["u1", "u2", "u3"]);
  assert.equal(new URL(seen[1]!.url).searchParams.get("cursor"), "c2");
});
