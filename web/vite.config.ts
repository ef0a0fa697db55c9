import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Relative asset paths, so dist/ can be served from any origin or folder. The shared client is
// compiled from its source; its one dependency (openapi-fetch) comes from web/node_modules.
export default defineConfig({
  base: "./",
  plugins: [react()],
  resolve: {
    alias: { "@raptorflow/client": decodeURIComponent(new URL("../clients/typescript/src/index.ts", import.meta.url).pathname) },
    dedupe: ["openapi-fetch"],
  },
  build: { outDir: "dist", sourcemap: true },
});
