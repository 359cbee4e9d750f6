// The load of bench/realtime.sh: CLIENTS websocket clients of USERS users, spread evenly
// over ROOMS rooms; SENDERS_PER_ROOM clients of each room send RATE messages a second for
// DURATION seconds. Every message carries its send time; every member that receives it
// records the fan-out latency (send -> receive, one process, one monotonic clock).
// Prints one JSON object with the results on stdout; progress goes to stderr.
//
// Env: BASE_URL (required), SERVER_PID (for RSS), CLIENTS (1000), USERS (100), ROOMS (20),
//      SENDERS_PER_ROOM (2), RATE (4, per sender per second; the server allows 5),
//      DURATION (20), CONNECT_CONCURRENCY (50).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const BASE_URL = process.env.BASE_URL;
const SERVER_PID = process.env.SERVER_PID;
const CLIENTS = env("CLIENTS", 1000);
const USERS = env("USERS", 100);
const ROOMS = env("ROOMS", 20);
const SENDERS_PER_ROOM = env("SENDERS_PER_ROOM", 2);
const RATE = env("RATE", 4);
const DURATION = env("DURATION", 20);
const CONNECT_CONCURRENCY = env("CONNECT_CONCURRENCY", 50);

const log = (message) => process.stderr.write(`[load] ${message}\n`);

/** VmRSS and VmHWM of the server, in MiB. */
function serverMemory() {
  if (!SERVER_PID) return {};
  const status = readFileSync(`/proc/${SERVER_PID}/status`, "utf8");
  const kib = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** CPU seconds the server has used (utime + stime; the kernel counts in 1/100 s). */
function serverCpuSeconds() {
  if (!SERVER_PID) return 0;
  const fields = readFileSync(`/proc/${SERVER_PID}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds this process has used. */
function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function register(index) {
  const response = await fetch(`${BASE_URL}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `bench-${index}-${Date.now()}@example.com`,
      password: "bench password 123",
      name: `Bench ${index}`,
    }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return (await response.json()).accessToken;
}

function connect(token) {
  return new Promise((resolve, reject) => {
    const socket = io(`${BASE_URL}/events`, {
      path: "/socket.io/",
      transports: ["websocket"],
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: 20_000,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

const latencies = [];
let received = 0;

log(`registering ${USERS} users`);
const tokens = await pool([...Array(USERS).keys()], 4, (index) => register(index));

await new Promise((resolve) => setTimeout(resolve, 500));
const beforeConnecting = serverMemory();
log(`connecting ${CLIENTS} websocket clients (server RSS ${beforeConnecting.rssMiB?.toFixed(1)} MiB)`);
const connectStarted = performance.now();
const sockets = await pool([...Array(CLIENTS).keys()], CONNECT_CONCURRENCY, async (index) => {
  const socket = await connect(tokens[index % USERS]);
  const room = `room-${index % ROOMS}`;
  const ack = await socket.timeout(10_000).emitWithAck("join-room", room);
  if (!ack.ok) throw new Error(`join-room: ${ack.error}`);
  socket.on("message", (delivery) => {
    const { sentAt } = JSON.parse(delivery.message);
    latencies.push(performance.now() - sentAt);
    received += 1;
  });
  return { socket, room };
});
const connectSeconds = (performance.now() - connectStarted) / 1000;
await new Promise((resolve) => setTimeout(resolve, 1000));
const connected = serverMemory();
log(`connected in ${connectSeconds.toFixed(1)} s; server RSS ${connected.rssMiB?.toFixed(1)} MiB`);

// The first SENDERS_PER_ROOM clients of each room send (client i is in room i % ROOMS).
const senders = sockets.slice(0, ROOMS * SENDERS_PER_ROOM);
const membersPerRoom = sockets.filter(({ room }) => room === "room-0").length;
let sent = 0;
let refused = 0;
let sequence = 0;
log(`${senders.length} senders x ${RATE}/s for ${DURATION} s, ${membersPerRoom} members per room`);
const sendStarted = performance.now();
const serverCpuBefore = serverCpuSeconds();
const ownCpuBefore = ownCpuSeconds();
const timers = senders.map(({ socket, room }, index) => {
  const send = () => {
    const message = JSON.stringify({ sentAt: performance.now(), sequence: sequence++ });
    socket
      .timeout(10_000)
      .emitWithAck("message", { room, message })
      .then((ack) => (ack.ok ? (sent += 1) : (refused += 1)))
      .catch(() => (refused += 1));
  };
  // Senders start spread over one period, so the load is steady rather than in waves.
  const period = 1000 / RATE;
  let interval;
  const start = setTimeout(() => {
    send();
    interval = setInterval(send, period);
  }, (index * period) / senders.length);
  return () => {
    clearTimeout(start);
    clearInterval(interval);
  };
});
await new Promise((resolve) => setTimeout(resolve, DURATION * 1000));
timers.forEach((stop) => stop());
const sendSeconds = (performance.now() - sendStarted) / 1000;
const serverCpuShare = (serverCpuSeconds() - serverCpuBefore) / sendSeconds;
const ownCpuShare = (ownCpuSeconds() - ownCpuBefore) / sendSeconds;
const during = serverMemory();
// Let the last messages and acks arrive.
await new Promise((resolve) => setTimeout(resolve, 2000));
const after = serverMemory();
for (const { socket } of sockets) socket.disconnect();

latencies.sort((a, b) => a - b);
const expected = sent * membersPerRoom;
console.log(
  JSON.stringify({
    clients: CLIENTS,
    users: USERS,
    rooms: ROOMS,
    membersPerRoom,
    senders: senders.length,
    ratePerSender: RATE,
    durationSeconds: Number(sendSeconds.toFixed(1)),
    connectSeconds: Number(connectSeconds.toFixed(2)),
    messagesSent: sent,
    messagesRefused: refused,
    deliveriesExpected: expected,
    deliveriesReceived: received,
    deliveriesPerSecond: Math.round(received / sendSeconds),
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? null,
    },
    cpuCores: { server: Number(serverCpuShare.toFixed(2)), loadGenerator: Number(ownCpuShare.toFixed(2)) },
    serverMemoryMiB: {
      beforeConnectingRss: beforeConnecting.rssMiB,
      connectedRss: connected.rssMiB,
      rssUnderLoad: during.rssMiB,
      peak: after.peakMiB,
    },
  }),
);
process.exit(0);
