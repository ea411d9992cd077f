/**
 * Baseline for the fan-out benchmark: a bare Socket.IO server that broadcasts whatever a
 * trigger client sends to every other client. No database, no validation, no ordering.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { serveClient: false });
io.on("connection", (socket) => {
  socket.join("all");
  socket.on("broadcast", (payload: unknown, ack?: () => void) => {
    io.to("all").emit("board:event", payload);
    ack?.();
  });
});
http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`serving http://127.0.0.1:${port}\n`);
});
process.on("SIGTERM", () => {
  void io.close();
  process.exit(0);
});
