import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The client is served by the server itself in production (dist/client);
// in development Vite proxies the API and Socket.IO to the server.
export default defineConfig({
  root: "client",
  plugins: [svelte()],
  resolve: { alias: { $shared: new URL("./shared", import.meta.url).pathname } },
  build: { outDir: "../dist/client", emptyOutDir: true, sourcemap: true },
  server: {
    port: 5173,
    proxy: {
      "/api": "http://127.0.0.1:3000",
      "/healthz": "http://127.0.0.1:3000",
      "/socket.io": { target: "http://127.0.0.1:3000", ws: true },
    },
  },
});
