import { defineConfig } from "vite";

// No React plugin: esbuild's automatic JSX runtime is all the placeholder needs (no fast refresh).
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    // nginx serves /assets/ with a one-year immutable cache, so everything there must be hashed.
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a local orchestrator (make dev) behaves like nginx does in compose.
    proxy: {
      "/api/v1": "http://127.0.0.1:8000",
      "/api": { target: "http://127.0.0.1:8000", rewrite: (path) => path.replace(/^\/api/, "") },
      "/events": "http://127.0.0.1:3000",
    },
  },
});
