// Drives real socket.io clients (the npm socket.io-client) for the Rust tests.
//
// One process hosts any number of named clients. It reads one JSON command per line on
// stdin and answers each with one JSON line on stdout carrying the command's `id`:
//
//   {id, cmd: "connect", client, url, transports, upgrade, auth, timeoutMs, firstEmit?}
//       -> {ok: true, socketId, openedOn, transport, firstAck?} | {ok: false, error: <connect_error message>}
//          | {ok: false, error: "disconnected before connecting: <reason>"}
//       (firstEmit {event, args}: emitted with an ack in the same tick as "connect" arrives)
//   {id, cmd: "emit", client, event, args, ack, timeoutMs}
//       -> {ack: <first argument of the acknowledgement>} | {error: "ack timeout"} | {sent: true}
//   {id, cmd: "next", client, event, timeoutMs}
//       -> {args: [...]} (the oldest unread event of that name) | {timeout: true}
//   {id, cmd: "received", client}      -> {events: [names of every unread event, in order]}
//   {id, cmd: "drain", client}         -> the same, and marks them all read
//   {id, cmd: "upgrade", client, timeoutMs} -> {transport} once the websocket upgrade is done
//   {id, cmd: "disconnect", client}    -> {ok: true}
//
// Every event a client receives is queued from the moment it connects, so a test can never
// miss one by asking too late. Reconnection is off: a test sees exactly what the server did.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const clients = new Map();

function reply(id, body) {
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
}

function client(name) {
  const found = clients.get(name);
  if (!found) throw new Error(`no client named ${name}`);
  return found;
}

/** Resolves with the first queued event named `event`, waiting up to `timeoutMs`. */
function nextEvent(state, event, timeoutMs) {
  return new Promise((resolve) => {
    const take = () => {
      const index = state.queue.findIndex((entry) => entry.event === event);
      if (index === -1) return false;
      const [entry] = state.queue.splice(index, 1);
      resolve({ args: entry.args });
      return true;
    };
    if (take()) return;
    const waiter = () => {
      if (take()) {
        clearTimeout(timer);
        state.waiters.delete(waiter);
      }
    };
    const timer = setTimeout(() => {
      state.waiters.delete(waiter);
      resolve({ timeout: true });
    }, timeoutMs);
    state.waiters.add(waiter);
  });
}

function record(state, event, args) {
  state.queue.push({ event, args });
  for (const waiter of [...state.waiters]) waiter();
}

const commands = {
  connect({ id, client: name, url, transports, upgrade, auth, timeoutMs, firstEmit }) {
    const socket = io(url, {
      path: "/socket.io/",
      transports,
      upgrade,
      auth: auth ?? undefined,
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    const state = { socket, queue: [], waiters: new Set(), openedOn: null };
    clients.set(name, state);
    // The transport the engine.io session opened on (an upgrade may finish before "connect").
    socket.io.on("open", () => {
      state.openedOn = socket.io.engine.transport.name;
    });
    socket.onAny((event, ...args) => record(state, event, args));
    socket.on("disconnect", (reason) => record(state, "disconnect", [reason]));
    let settled = false;
    socket.on("connect", async () => {
      if (settled) return;
      settled = true;
      const connected = {
        ok: true,
        socketId: socket.id,
        openedOn: state.openedOn,
        transport: socket.io.engine.transport.name,
      };
      if (firstEmit) {
        try {
          const ack = await socket.timeout(timeoutMs).emitWithAck(firstEmit.event, ...firstEmit.args);
          reply(id, { ...connected, firstAck: ack });
        } catch {
          reply(id, { ...connected, firstAck: "ack timeout" });
        }
        return;
      }
      reply(id, connected);
    });
    socket.on("connect_error", (error) => {
      if (settled) return;
      settled = true;
      reply(id, { ok: false, error: error.message });
    });
    // A server that disconnects a socket before telling it it is connected.
    socket.on("disconnect", (reason) => {
      if (settled) return;
      settled = true;
      reply(id, { ok: false, error: `disconnected before connecting: ${reason}` });
    });
  },

  emit({ id, client: name, event, args, ack, timeoutMs }) {
    const { socket } = client(name);
    if (!ack) {
      socket.emit(event, ...args);
      reply(id, { sent: true });
      return;
    }
    socket.timeout(timeoutMs).emit(event, ...args, (error, response) => {
      reply(id, error ? { error: "ack timeout" } : { ack: response });
    });
  },

  async next({ id, client: name, event, timeoutMs }) {
    reply(id, await nextEvent(client(name), event, timeoutMs));
  },

  received({ id, client: name }) {
    reply(id, { events: client(name).queue.map((entry) => entry.event) });
  },

  drain({ id, client: name }) {
    const state = client(name);
    reply(id, { events: state.queue.splice(0).map((entry) => entry.event) });
  },

  upgrade({ id, client: name, timeoutMs }) {
    const engine = client(name).socket.io.engine;
    if (engine.transport.name === "websocket") {
      reply(id, { transport: "websocket" });
      return;
    }
    const timer = setTimeout(() => reply(id, { transport: engine.transport.name }), timeoutMs);
    engine.once("upgrade", (transport) => {
      clearTimeout(timer);
      reply(id, { transport: transport.name });
    });
  },

  disconnect({ id, client: name }) {
    client(name).socket.disconnect();
    reply(id, { ok: true });
  },
};

createInterface({ input: process.stdin }).on("line", async (line) => {
  let command;
  try {
    command = JSON.parse(line);
    const run = commands[command.cmd];
    if (!run) throw new Error(`unknown command ${command.cmd}`);
    await run(command);
  } catch (error) {
    reply(command?.id ?? null, { driverError: String(error?.stack ?? error) });
  }
});

// The Rust side closes stdin when it is done: close every client so the process exits.
process.stdin.on("end", () => {
  for (const { socket } of clients.values()) socket.disconnect();
  process.exit(0);
});
