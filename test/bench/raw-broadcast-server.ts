/**
 * Baseline for the fan-out benchmark: a bare Socket.IO server that sends whatever a trigger
 * client sends to every other client, as a room broadcast (the path board events take).
 * No database, no validation, no ordering. The bench sends the board's own event payload.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { serveClient: false });
io.on("connection", (socket) => {
  void socket.join("all");
  socket.on("broadcast", (payload: unknown, ack?: () => void) => {
    // The sender is not a viewer: it is left out, as the board's mover does not join the board.
    socket.to("all").emit("board:event", payload);
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
