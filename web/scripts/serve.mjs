// Serves the built console (web/dist) and its runtime config.json, for scripts/run.sh and the
// browser tests. Usage: node scripts/serve.mjs --port 5173 --api-url http://127.0.0.1:7071
// config.json is answered from the arguments, so the same build runs against any API.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".map": "application/json",
};

export function serveConsole({ port = 0, host = "127.0.0.1", dir, config }) {
  const root = dir ?? fileURLToPath(new URL("../dist/", import.meta.url));
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    if (path === "/config.json") {
      response.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      response.end(JSON.stringify(config));
      return;
    }
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(normalize(root))) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const config = { apiUrl: arg("api-url", "http://127.0.0.1:7071") };
  for (const [name, key] of [["entra-client-id", "entraClientId"], ["authority", "authority"], ["api-scope", "apiScope"]]) {
    if (arg(name)) config[key] = arg(name);
  }
  const server = await serveConsole({ port: Number(arg("port", "5173")), host: arg("host", "127.0.0.1"), config });
  const { address, port } = server.address();
  console.log(`Console: http://${address}:${port}/`);
}
