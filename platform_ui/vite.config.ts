import { defineConfig } from "vite";

// No React plugin: esbuild's automatic JSX runtime compiles the TSX (no fast refresh needed).
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    // nginx serves /assets/ with a one-year immutable cache, so everything there must be hashed.
    assetsDir: "assets",
    sourcemap: false,
    // recharts is most of the bundle; one chunk for it keeps the app's own chunk small and
    // lets browsers keep it across deployments that do not change it.
    rollupOptions: {
      output: {
        manualChunks: (id: string) => (id.includes("node_modules") ? (id.includes("recharts") || id.includes("d3-") ? "charts" : "vendor") : undefined),
      },
    },
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
