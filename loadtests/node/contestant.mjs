// A connection-holding load generator: many contestants in one Node.js process (socket.io-client).
//
// Driven by loadtests/run.py (`make loadtest SCENARIO=steady GENERATOR=node ...`), configured by LOADTEST_*
// environment variables. Each contestant does what SocketContestant in loadtests/locustfile.py does and speaks
// the protocol of loadtests/protocol.py (docs/realtime.md): log in over HTTP (GET /dang-nhap for the CSRF token,
// POST the form), start the attempt (POST /vong-thi/<round>/bat-dau with confirm=1 -> 302 /luot-thi/<id>), connect over
// WebSocket with the session cookie, "attempt:join", then an "answer" every THINK seconds (after the last
// question it answers the questions again with a higher seq, so the load stays steady).
//
// The ramp (logins at LOADTEST_SPAWN_RATE a second) lasts until every contestant has joined or failed; the hold
// phase of LOADTEST_DURATION_S seconds follows (LOADTEST_BARRIER=1: nobody answers before it starts).
// Output (LOADTEST_NODE_OUT): one JSON line per 10-s window {t, users, connected, answers, errors, hist} with the
// ack latencies as a histogram (ms bucket upper bound -> count), then {final: true, errors: {kind: n}}.
// Every acknowledged answer is appended to LOADTEST_ACK_DIR/acks-node-<pid>.jsonl in AckLog's format, so the
// answer check (loadtests/answer_check.py) compares them with SQL.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { io } from "socket.io-client";

const env = process.env;
const BASE = new URL(env.LOADTEST_HOST || "http://127.0.0.1:8080");
const USERS = parseInt(env.LOADTEST_USERS || "100", 10);
const FIRST = parseInt(env.LOADTEST_FIRST_INDEX || "1", 10);
const SPAWN_RATE = parseFloat(env.LOADTEST_SPAWN_RATE || "20");
const DURATION_S = parseFloat(env.LOADTEST_DURATION_S || "60");
const [THINK_MIN, THINK_MAX] = (env.LOADTEST_THINK || "2,6").split(",").map(Number);
const ROUND_ID = env.LOADTEST_ROUND_ID || "1";
const PREFIX = env.LOADTEST_PREFIX || "0599";
const PASSWORD = env.LOADTEST_PASSWORD || "thitai12345";
const SPREAD = !["0", "", "false", "no"].includes(env.LOADTEST_SPREAD_ADDRESSES ?? "1");
const ACK_DIR = env.LOADTEST_ACK_DIR || "";
const OUT = env.LOADTEST_NODE_OUT || "node-stats.jsonl";
// Peak scenario: nobody answers before everyone is connected, so the measured phase has every client.
const BARRIER = env.LOADTEST_BARRIER === "1";
// Give up waiting for the last logins after this long: the hold phase starts with whoever is connected.
const RAMP_LIMIT_S = parseFloat(env.LOADTEST_RAMP_LIMIT_S || String(USERS / SPAWN_RATE + 300));
const ACK_TIMEOUT_MS = 30000;
const WINDOW_MS = 10000;

const t0 = Date.now();
const out = fs.createWriteStream(OUT, { flags: "a" });
let ackLog = null;
if (ACK_DIR) {
  fs.mkdirSync(ACK_DIR, { recursive: true });
  ackLog = fs.createWriteStream(path.join(ACK_DIR, `acks-node-${process.pid}.jsonl`), { flags: "a" });
}

// --- statistics ---------------------------------------------------------------------------------------
const errors = {};
let window = { answers: 0, errors: 0, hist: new Map(), since: Date.now() };
let connected = 0;
let started = 0;

function bucket(ms) {
  if (ms <= 100) return Math.max(1, Math.ceil(ms));
  if (ms <= 1000) return Math.ceil(ms / 5) * 5;
  return Math.ceil(ms / 50) * 50;
}

function recordAck(ms) {
  window.answers += 1;
  const b = bucket(ms);
  window.hist.set(b, (window.hist.get(b) || 0) + 1);
}

function recordError(kind) {
  errors[kind] = (errors[kind] || 0) + 1;
  window.errors += 1;
}

function flushWindow() {
  const line = {
    t: Math.round((Date.now() - t0) / 1000),
    at: Date.now() / 1000,
    span: (Date.now() - window.since) / 1000,
    users: started,
    connected,
    answers: window.answers,
    errors: window.errors,
    hist: Object.fromEntries(window.hist),
  };
  out.write(JSON.stringify(line) + "\n");
  window = { answers: 0, errors: 0, hist: new Map(), since: Date.now() };
}

// --- HTTP as a browser does it ---------------------------------------------------------------------------
function sourceAddress(index) {
  // loadtests/addresses.py: 127.a.b.c, one per simulated user
  const i = index - 1;
  return `127.${1 + (Math.floor(i / (254 * 254)) % 254)}.${1 + (Math.floor(i / 254) % 254)}.${1 + (i % 254)}`;
}

function request(user, method, pathName, form) {
  return new Promise((resolve, reject) => {
    const body = form ? new URLSearchParams(form).toString() : null;
    const headers = { Cookie: cookieHeader(user) };
    if (body) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const req = http.request(
      {
        host: BASE.hostname,
        port: BASE.port,
        method,
        path: pathName,
        headers,
        agent: user.agent,
        ...(SPREAD ? { localAddress: user.address } : {}),
        timeout: 60000,
      },
      (res) => {
        for (const c of res.headers["set-cookie"] || []) {
          const [pair] = c.split(";");
          const eq = pair.indexOf("=");
          user.cookies[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
        }
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("http timeout")));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

function cookieHeader(user) {
  return Object.entries(user.cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join("; ");
}

const CSRF_RE = /name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"/;
function csrf(html) {
  const m = CSRF_RE.exec(html || "");
  return m ? m[1] || m[2] : "";
}

function phone(index) {
  return PREFIX + String(index).padStart(10 - PREFIX.length, "0");
}

// --- the ramp: every contestant settles once (joined, or failed), then the hold phase starts ---------------
let settled = 0;
let releaseHold;
const holdStarted = new Promise((resolve) => (releaseHold = resolve));
function settle(user) {
  if (user.settled) return;
  user.settled = true;
  settled += 1;
  if (settled >= USERS) releaseHold();
}

// --- one contestant ------------------------------------------------------------------------------------------
const sockets = [];
let stopping = false;

function emitWithAck(socket, event, payload) {
  return new Promise((resolve) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => resolve(err ? { timeout: true } : ack));
  });
}

function think() {
  return (THINK_MIN + Math.random() * (THINK_MAX - THINK_MIN)) * 1000;
}

async function contestant(index) {
  const user = {
    cookies: {},
    address: sourceAddress(index),
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  try {
    const page = await request(user, "GET", "/dang-nhap");
    const login = await request(user, "POST", "/dang-nhap", {
      login: phone(index),
      password: PASSWORD,
      csrf_token: csrf(page.text),
    });
    if (login.status !== 302) {
      settle(user);
      return recordError(`login ${login.status}`);
    }
    const home = await request(user, "GET", "/");
    const start = await request(user, "POST", `/vong-thi/${ROUND_ID}/bat-dau`, { csrf_token: csrf(home.text), confirm: "1" });
    const m = /\/luot-thi\/(\d+)/.exec(start.headers.location || "");
    if (!m) {
      settle(user);
      return recordError(`start ${start.status}`);
    }
    user.agent.destroy(); // the page connection is done: only the WebSocket stays
    const attemptId = parseInt(m[1], 10);
    await play(user, attemptId);
  } catch (err) {
    recordError(`http ${err.code || err.message}`);
  }
  settle(user);
}

function play(user, attemptId) {
  return new Promise((resolve) => {
    const socket = io(BASE.origin, {
      transports: ["websocket"],
      reconnection: false,
      extraHeaders: { Cookie: cookieHeader(user) },
      ...(SPREAD ? { localAddress: user.address } : {}),
      timeout: 60000,
    });
    sockets.push(socket);
    let alive = true;
    socket.on("connect_error", (err) => {
      recordError(`connect ${err.message}`);
      settle(user);
      alive = false;
      resolve();
    });
    socket.on("disconnect", (reason) => {
      if (alive && !stopping) recordError(`disconnect ${reason}`);
      if (alive) connected -= 1;
      alive = false;
      resolve();
    });
    socket.on("connect", async () => {
      connected += 1;
      const joined = await emitWithAck(socket, "attempt:join", { attempt_id: attemptId });
      if (!joined || !joined.ok) {
        recordError(joined && joined.timeout ? "join timeout" : `join ${joined && joined.error}`);
        settle(user);
        return;
      }
      settle(user);
      if (BARRIER) await holdStarted;
      const questions = joined.state.questions;
      let seq = joined.state.seq || 0;
      let next = 0;
      while (alive && !stopping) {
        await new Promise((r) => setTimeout(r, think()));
        if (!alive || stopping) break;
        const q = questions[next % questions.length];
        next += 1;
        const option = q.options[Math.floor(Math.random() * q.options.length)];
        const selected = [typeof option === "object" ? option.id : option];
        seq += 1;
        const sent = performance.now();
        const ack = await emitWithAck(socket, "answer", {
          attempt_id: attemptId,
          question_id: q.id,
          selected,
          seq,
        });
        const ms = performance.now() - sent;
        if (ack && ack.ok) {
          recordAck(ms);
          if (ackLog) ackLog.write(JSON.stringify({ a: attemptId, q: q.id, s: [...selected].sort(), n: seq }) + "\n");
        } else {
          recordError(ack && ack.timeout ? "answer timeout" : `answer ${ack && ack.error}`);
        }
      }
    });
  });
}

// --- the run: ramp, hold, stop -------------------------------------------------------------------------------
const windows = setInterval(flushWindow, WINDOW_MS);
const interval = 1000 / SPAWN_RATE;
for (let i = 0; i < USERS; i++) {
  const at = t0 + i * interval;
  setTimeout(() => {
    if (stopping) return;
    started += 1;
    contestant(FIRST + i);
  }, Math.max(0, at - Date.now()));
}

function finish() {
  if (stopping) return;
  stopping = true;
  clearInterval(windows);
  flushWindow();
  for (const s of sockets) s.disconnect();
  out.write(JSON.stringify({ final: true, users: started, errors }) + "\n");
  const closing = [out];
  if (ackLog) closing.push(ackLog);
  let open = closing.length;
  for (const stream of closing) stream.end(() => --open || process.exit(0));
}

// The hold phase (DURATION) starts once every contestant has settled, or after RAMP_LIMIT_S.
setTimeout(releaseHold, RAMP_LIMIT_S * 1000);
holdStarted.then(() => {
  out.write(JSON.stringify({ hold_start: Math.round((Date.now() - t0) / 1000), connected }) + "\n");
  setTimeout(finish, DURATION_S * 1000);
});
process.on("SIGTERM", finish);
process.on("SIGINT", finish);
