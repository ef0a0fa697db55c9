import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Relative asset paths, so dist/ can be served from any origin or folder.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true },
});
