import { defineConfig } from "vitest/config";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    // The machine is shared: one worker is plenty for this suite.
    pool: "threads",
    poolOptions: { threads: { singleThread: true } },
  },
});
