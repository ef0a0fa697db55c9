// Starts what the browser tests drive: a private Azurite, the real app (standalone, as run.sh runs
// it) and the built console on a second origin, so every API call is a real CORS request.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { serveConsole } from "../scripts/serve.mjs";

export const webDir = fileURLToPath(new URL("..", import.meta.url));
export const repoDir = join(webDir, "..");
export const artifactsDir = join(webDir, "e2e", "artifacts");
const devAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, what, child, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${what} exited with ${child.exitCode}`);
    }
    try {
      const response = await fetch(url);
      if (response.status < 500) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer at ${url}`);
}

function appDll() {
  const dll = join(repoDir, "functions/RaptorFlow.Functions/bin/Release/net10.0/RaptorFlow.Functions.dll");
  if (!existsSync(dll)) {
    execFileSync("dotnet", ["build", "functions/RaptorFlow.Functions", "-c", "Release", "-nologo", "-v", "q"], { cwd: repoDir, stdio: "inherit" });
  }
  return dll;
}

function chromiumPath() {
  for (const candidate of [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (candidate && existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error("Chromium not found: install Debian's chromium package (scripts/test.sh does) or set CHROMIUM_PATH.");
}

/** The app's test Razorpay key secret: Checkout's signature is HMAC-SHA256 of order_id|payment_id with it. */
export const razorpayKeySecret = "e2e-key-secret";

/**
 * Razorpay's API as far as the console's flows need it: POST /v1/orders answers a created order
 * (the pay flow), POST /v1/payment_links a created link (an issued invoice's pay link), as Razorpay
 * would; everything else is 404, so no other Razorpay call passes unseen.
 */
function fakeRazorpay(port) {
  let orders = 0;
  let links = 0;
  const server = createHttpServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      if (request.method === "POST" && request.url === "/v1/orders") {
        const order = JSON.parse(body || "{}");
        orders += 1;
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ id: `order_e2e${String(orders).padStart(6, "0")}`, entity: "order", amount: order.amount, currency: order.currency, status: "created", receipt: order.receipt ?? null, notes: order.notes ?? {} }));
        return;
      }
      if (request.method === "POST" && request.url === "/v1/payment_links") {
        const link = JSON.parse(body || "{}");
        links += 1;
        const id = `plink_e2e${String(links).padStart(6, "0")}`;
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ id, amount: link.amount, currency: link.currency, status: "created", short_url: `https://rzp.io/i/${id}`, reference_id: link.reference_id ?? null, notes: link.notes ?? {} }));
        return;
      }
      response.writeHead(404, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ error: { code: "BAD_REQUEST_ERROR", description: `The fake has no ${request.method} ${request.url}` } }));
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** Starts everything; `stop()` ends what it started, in reverse. */
export async function startStack({ platformAdmin }) {
  mkdirSync(artifactsDir, { recursive: true });
  const children = [];
  const stops = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      await s();
    }
    for (const child of children.reverse()) {
      if (child.exitCode === null) {
        // A graceful stop first; the test's storage is thrown away, so a slow one is cut short.
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
    }
  };
  try {
    const [blob, queue, table, apiPort, webPort, razorpayPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const razorpay = await fakeRazorpay(razorpayPort);
    stops.push(() => new Promise((r) => razorpay.close(r)));
    const azurite = spawn("node", [
      join(repoDir, "node_modules/azurite/dist/src/azurite.js"), "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose",
      "--blobHost", "127.0.0.1", "--blobPort", String(blob), "--queueHost", "127.0.0.1", "--queuePort", String(queue),
      "--tableHost", "127.0.0.1", "--tablePort", String(table),
    ], { stdio: "ignore" });
    children.push(azurite);
    await waitFor(`http://127.0.0.1:${table}/`, "Azurite", azurite);

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // A different port is a different origin: the console's calls are cross-origin, preflighted for real.
    const webUrl = `http://127.0.0.1:${webPort}`;
    const app = spawn("dotnet", [appDll(), "--urls", apiUrl], {
      cwd: repoDir,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        ASPNETCORE_ENVIRONMENT: "Development",
        AzureWebJobsStorage: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
          `AccountKey=${devAccountKey};BlobEndpoint=http://127.0.0.1:${blob}/devstoreaccount1;` +
          `QueueEndpoint=http://127.0.0.1:${queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:${table}/devstoreaccount1;`,
        Auth__DevIssuer__Enabled: "true",
        Auth__PlatformAdmins__0: platformAdmin,
        Cors__AllowedOrigins__0: webUrl,
        Razorpay__WebhookSecret: "e2e-webhook-secret",
        Razorpay__KeyId: "rzp_e2e_key",
        Razorpay__KeySecret: razorpayKeySecret,
        Razorpay__BaseUrl: `http://127.0.0.1:${razorpayPort}/v1/`,
        Webhooks__AllowPrivateNetworks: "true",
        Usage__Meter__FlushInterval: "00:00:01",
        Logging__LogLevel__Default: "Warning",
      },
    });
    children.push(app);
    await waitFor(`${apiUrl}/api/healthz`, "the app", app);

    const server = await serveConsole({ port: webPort, config: { apiUrl } });
    stops.push(() => new Promise((r) => server.close(r)));

    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    stops.push(() => browser.close());
    return { apiUrl, webUrl, browser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Builds web/dist unless E2E_SKIP_BUILD is set (scripts/test.sh builds it just before). */
export function buildConsole() {
  if (!process.env.E2E_SKIP_BUILD) {
    execFileSync("npm", ["run", "build", "--silent"], { cwd: webDir, stdio: ["ignore", "ignore", "inherit"] });
  }
}
