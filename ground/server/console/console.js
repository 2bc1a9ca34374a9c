// The cubesat web console: the ground server's API in a browser. Every value goes into the page
// with textContent (never as HTML), every change carries the session's CSRF token, and the only
// library is uPlot, served by the ground server itself.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  user: null, csrf: "", dict: null, craft: null, latest: {}, trend: {}, events: [],
  live: null, current: null, plot: null, linkTimer: null, commands: new Map(),
  latency: [], // seconds from the server's decoding of a housekeeping packet to this page showing it
};
window.consoleLatency = S.latency;
const SEVERITY = { 1: "info", 2: "low", 3: "medium", 4: "high" };
const INT_TYPES = { u8: [0, 255], u16: [0, 65535], u32: [0, 4294967295], i16: [-32768, 32767], i32: [-2147483648, 2147483647] };

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", c));
  return tr;
}

function utc(t) {
  return t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) : "";
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { "X-CSRF-Token": S.csrf } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = new Error((data && data.message) || resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return data;
}

// --- login --------------------------------------------------------------------------------------
async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    const s = await api("POST", "/api/v1/session", { token: $("token").value });
    $("token").value = "";
    await start(s);
  } catch (e) {
    $("login-error").textContent = "login refused: " + e.message;
  }
}

async function logout() {
  try { await api("DELETE", "/api/v1/session"); } catch (e) { /* gone already */ }
  location.reload();
}

async function start(session) {
  S.user = session.user;
  S.csrf = session.csrf;
  $("who").textContent = session.user + " (" + session.role + ")";
  S.dict = await api("GET", "/api/v1/dictionary");
  const crafts = (await api("GET", "/api/v1/spacecraft")).spacecraft;
  const sel = $("craft");
  sel.replaceChildren();
  for (const c of crafts) sel.appendChild(new Option(c.name + " (SCID " + c.scid + ")", c.name));
  S.craft = crafts.length ? crafts[0].name : null;
  buildCommandList();
  $("login").hidden = true;
  $("app").hidden = false; // once the forms are built from the dictionary
  await selectCraft();
  setInterval(renderTelemetry, 1000);
}

async function selectCraft() {
  S.craft = $("craft").value || S.craft;
  S.latest = {}; S.trend = {}; S.events = []; S.latency.length = 0;
  const now = Date.now() / 1000;
  const params = (await api("GET", "/api/v1/spacecraft/" + encodeURIComponent(S.craft) + "/parameters")).parameters;
  for (const [name, p] of Object.entries(params)) S.latest[name] = { v: p.value, t: p.t_onboard, at: now };
  const evs = await api("GET", "/api/v1/events?since=0&limit=500&spacecraft=" + encodeURIComponent(S.craft));
  S.events = evs.events;
  renderTelemetry(); renderEvents(); connectLive(); loadHistory(); loadPlotParams();
}

function connectLive() {
  if (S.live) S.live.close();
  const src = new EventSource("/api/v1/live?spacecraft=" + encodeURIComponent(S.craft));
  src.onopen = () => { $("live-state").textContent = "live"; };
  src.onerror = () => { $("live-state").textContent = "reconnecting"; };
  src.addEventListener("tm", (m) => onPacket(JSON.parse(m.data)));
  src.addEventListener("command", (m) => onCommand(JSON.parse(m.data)));
  S.live = src;
}

// --- telemetry ----------------------------------------------------------------------------------
function onPacket(p) {
  const d = p.data || {};
  if (d.values && !d.playback) {
    const now = Date.now() / 1000;
    for (const [name, v] of Object.entries(d.values)) {
      S.latest[name] = { v, t: p.t_onboard, at: now };
      const tr = (S.trend[name] = S.trend[name] || []);
      tr.push(v);
      if (tr.length > 60) tr.shift();
    }
    renderTelemetry();
    if (S.latency.length < 100000) S.latency.push(Date.now() / 1000 - p.t_ground);
  }
  if (d.event && !d.playback) {
    S.events.push({ t_onboard: p.t_onboard, t_ground: p.t_ground, severity: p.subtype, name: d.event, text: d.text });
    if (S.events.length > 2000) S.events.shift();
    renderEvents();
  }
}

function limitState(name, v) {
  const t = S.dict.telemetry[name];
  if (!t) return ["ok", "ok"];
  const [rlo, rhi] = t.red, [ylo, yhi] = t.yellow;
  if ((rlo !== null && v < rlo) || (rhi !== null && v > rhi)) return ["red", v < rlo ? "RED LOW" : "RED HIGH"];
  if ((ylo !== null && v < ylo) || (yhi !== null && v > yhi)) return ["yellow", v < ylo ? "yellow low" : "yellow high"];
  return ["ok", "ok"];
}

function spark(values) {
  const c = document.createElement("canvas");
  c.width = 120; c.height = 24; c.className = "spark";
  if (values && values.length > 1) {
    const g = c.getContext("2d"), lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    g.strokeStyle = "#2563eb"; g.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * 118 + 1, y = 22 - ((v - lo) / span) * 20;
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  }
  const td = document.createElement("td");
  td.appendChild(c);
  return td;
}

function renderTelemetry() {
  if (!S.dict) return;
  const body = $("tm-table").tBodies[0];
  const now = Date.now() / 1000;
  body.replaceChildren();
  for (const name of Object.keys(S.latest).sort()) {
    const { v, at } = S.latest[name];
    const [state, text] = limitState(name, v);
    const value = el("td", typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(5)) : v, "num");
    value.dataset.param = name;
    const tr = row([el("td", name), value, el("td", (S.dict.telemetry[name] || {}).unit || ""),
      el("td", text, "limit-" + state), el("td", Math.round(now - at) + " s", "num"), spark(S.trend[name])]);
    tr.dataset.param = name;
    body.appendChild(tr);
  }
}

// --- events -------------------------------------------------------------------------------------
function renderEvents() {
  const body = $("ev-table").tBodies[0];
  const sev = Number($("ev-severity").value), q = $("ev-search").value.toLowerCase();
  body.replaceChildren();
  for (const e of S.events.slice().reverse()) {
    if (sev && e.severity !== sev) continue;
    const text = e.text || e.name;
    if (q && !text.toLowerCase().includes(q)) continue;
    body.appendChild(row([el("td", e.t_onboard === null ? "" : Math.round(e.t_onboard), "num"),
      el("td", utc(e.t_ground)), el("td", SEVERITY[e.severity] || e.severity), el("td", text)]));
  }
}

// --- commands -----------------------------------------------------------------------------------
function buildCommandList() {
  const sel = $("cmd-name");
  sel.replaceChildren();
  for (const name of Object.keys(S.dict.commands).sort()) sel.appendChild(new Option(name, name));
  sel.value = "ping";
  buildArgs();
}

function paramInfo(id) {
  return S.dict.params.find((p) => String(p.id) === String(id));
}

function buildArgs() {
  const cmd = S.dict.commands[$("cmd-name").value];
  $("cmd-description").textContent = cmd.description + (cmd.hazardous ? " (hazardous: " + cmd.roles.join(" or ") + ", with confirmation)" : "");
  $("cmd-confirm-label").hidden = !cmd.hazardous;
  $("cmd-confirm").checked = false;
  const box = $("cmd-args");
  box.replaceChildren();
  for (const a of cmd.args) {
    const label = el("label", a.name + (a.unit ? " [" + a.unit + "] " : " "));
    let input;
    if (a.enum) {
      input = document.createElement("select");
      for (const v of a.enum) input.appendChild(new Option(v, v));
    } else if ($("cmd-name").value.startsWith("param_") && a.name === "param_id") {
      input = document.createElement("select");
      for (const p of S.dict.params) input.appendChild(new Option(p.name + " (" + p.id + ")", p.id));
      input.addEventListener("change", paramRange);
    } else {
      input = document.createElement("input");
      input.type = a.type in INT_TYPES || a.type === "f32" ? "number" : "text";
      if (a.type === "f32") input.step = "any";
      if (a.min !== null) input.min = a.min;
      if (a.max !== null) input.max = a.max;
    }
    input.name = a.name; input.dataset.type = a.type; input.id = "arg-" + a.name;
    label.appendChild(input);
    box.appendChild(label);
  }
  paramRange();
}

function paramRange() {
  const pid = document.querySelector("#cmd-args [name=param_id]"), value = document.querySelector("#cmd-args [name=value]");
  if (!pid || !value) return;
  const p = paramInfo(pid.value);
  value.min = p.min; value.max = p.max; value.placeholder = p.min + " .. " + p.max + (p.unit ? " " + p.unit : "");
}

function readArgs(name) {
  // the form refuses what the dictionary would refuse, before anything is sent
  const cmd = S.dict.commands[name], out = {};
  for (const a of cmd.args) {
    const input = document.querySelector("#cmd-args [name=" + a.name + "]");
    const raw = input.value.trim();
    if (raw === "") throw new Error(a.name + ": a value is needed");
    if (a.enum) { out[a.name] = raw; continue; }
    if (a.type in INT_TYPES || a.type === "f32") {
      const v = Number(raw);
      let [lo, hi] = a.type in INT_TYPES ? INT_TYPES[a.type] : [-3.4e38, 3.4e38];
      if (a.min !== null) lo = Math.max(lo, a.min);
      if (a.max !== null) hi = Math.min(hi, a.max);
      if (name.startsWith("param_set") && a.name === "value") {
        const p = paramInfo(out.param_id);
        lo = p.min; hi = p.max;
      }
      if (!Number.isFinite(v) || (a.type in INT_TYPES && !Number.isInteger(v)))
        throw new Error(a.name + ": " + (a.type in INT_TYPES ? "a whole number" : "a number") + " is needed, got " + raw);
      if (v < lo || v > hi) throw new Error(a.name + " must be " + lo + " .. " + hi + ", got " + raw);
      out[a.name] = v;
    } else {
      out[a.name] = raw;
    }
  }
  return out;
}

async function sendCommand(ev) {
  ev.preventDefault();
  $("cmd-error").textContent = "";
  const name = $("cmd-name").value, cmd = S.dict.commands[name];
  let args;
  try {
    args = readArgs(name);
    if (cmd.hazardous && !$("cmd-confirm").checked) throw new Error(name + " is hazardous: tick confirm to send it");
  } catch (e) {
    $("cmd-error").textContent = "not sent: " + e.message;
    return;
  }
  try {
    const rec = await api("POST", "/api/v1/spacecraft/" + encodeURIComponent(S.craft) + "/commands",
      { command: name, args, confirm: $("cmd-confirm").checked, wait: "queued", timeout: 0 });
    S.current = rec.id;
    showCommand(rec);
  } catch (e) {
    $("cmd-error").textContent = "refused by the server: " + e.message;
    return;
  }
  // the live stream brings each stage; a long poll until the end covers a stage the stream
  // brought before this page knew the command's id
  for (let i = 0; i < 20 && S.current !== null; i++) {
    const id = S.current;
    try {
      const rec = await api("GET", "/api/v1/commands/" + id + "?wait=done&timeout=30");
      if (id !== S.current) return;
      showCommand(rec);
      if (["completed", "failed", "rejected", "unconfirmed"].includes(rec.status)) return;
    } catch (e) {
      return;
    }
  }
}

function onCommand(rec) {
  const known = S.commands.get(rec.id);
  if (!known || rec.stages.length >= known.stages.length) S.commands.set(rec.id, rec);
  if (S.commands.size > 200) S.commands.delete(S.commands.keys().next().value);
  if (rec.id === S.current) showCommand(rec);
}

function showCommand(rec) {
  // the most advanced of what came: the POST's answer, the stream's, the long poll's
  const known = S.commands.get(rec.id);
  if (known && known.stages.length > rec.stages.length) rec = known;
  else S.commands.set(rec.id, rec);
  renderCommand(rec);
}

function renderCommand(rec) {
  $("cmd-result").hidden = false;
  $("cmd-title").textContent = "#" + rec.id + " " + rec.name + " " + JSON.stringify(rec.args);
  const list = $("cmd-stages");
  list.replaceChildren();
  for (const s of rec.stages) {
    const li = el("li", s.stage + "  " + utc(s.t) + (s.detail ? "  " + s.detail : ""), "stage-" + s.stage);
    li.dataset.stage = s.stage;
    list.appendChild(li);
  }
  const st = $("cmd-status");
  st.textContent = "status: " + rec.status + (rec.failure ? " (" + rec.failure.name + ": " + rec.failure.text + ")" : "");
  st.className = "status-" + rec.status;
  $("cmd-reply").textContent = rec.reply ? JSON.stringify(rec.reply, null, 2) : "";
}

// --- history ------------------------------------------------------------------------------------
async function loadHistory() {
  const got = await api("GET", "/api/v1/commands?since=0&limit=500&spacecraft=" + encodeURIComponent(S.craft));
  const body = $("hist-table").tBodies[0];
  body.replaceChildren();
  for (const c of got.commands.slice().reverse()) {
    const stages = c.stages.map((s) => s.stage + " " + utc(s.t).slice(11)).join(", ");
    body.appendChild(row([el("td", c.id, "num"), el("td", utc(c.t)), el("td", c.user + " (" + c.role + ")"),
      el("td", c.name + " " + JSON.stringify(c.args)), el("td", c.status, "status-" + c.status), el("td", stages),
      el("td", c.failure || "")]));
  }
}

// --- plots --------------------------------------------------------------------------------------
async function loadPlotParams() {
  const names = (await api("GET", "/api/v1/archive/parameters")).parameters;
  const sel = $("plot-param"), keep = sel.value;
  sel.replaceChildren();
  for (const n of names) sel.appendChild(new Option(n, n));
  if (keep) sel.value = keep;
}

async function drawPlot() {
  const name = $("plot-param").value, span = Number($("plot-range").value);
  if (!name) return;
  const latest = S.latest.obt_s ? S.latest.obt_s.v : 0;
  const from = span ? latest - span : 0;
  const got = await api("GET", "/api/v1/archive/samples?spacecraft=" + encodeURIComponent(S.craft) +
    "&parameter=" + encodeURIComponent(name) + "&from=" + from + "&to=1e12");
  const t = S.dict.telemetry[name] || { unit: "", yellow: [null, null], red: [null, null] };
  const limits = [[t.yellow, "#d97706"], [t.red, "#dc2626"]];
  const box = $("plot");
  box.replaceChildren();
  if (S.plot) S.plot.destroy();
  const opts = {
    width: Math.min(1100, window.innerWidth - 40), height: 360, title: name + (t.unit ? " [" + t.unit + "]" : ""),
    scales: {
      x: { time: false },
      // the yellow limits stay in view, so the lines show how far the values are from them
      y: { range: (u, lo, hi) => {
        const ys = t.yellow.filter((v) => v !== null);
        lo = Math.min(lo, ...ys); hi = Math.max(hi, ...ys);
        const pad = (hi - lo) * 0.05 || 1;
        return [lo - pad, hi + pad];
      } },
    },
    axes: [{ label: "onboard time [s]" }, { label: name + (t.unit ? " [" + t.unit + "]" : "") }],
    series: [{ label: "onboard t" }, { label: name, stroke: "#2563eb", points: { show: got.t.length < 200 } }],
    hooks: {
      draw: [(u) => {
        const g = u.ctx;
        for (const [pair, colour] of limits) {
          for (const y of pair) {
            if (y === null) continue;
            const py = u.valToPos(y, "y", true);
            if (py < u.bbox.top || py > u.bbox.top + u.bbox.height) continue;
            g.save(); g.strokeStyle = colour; g.setLineDash([6, 4]); g.beginPath();
            g.moveTo(u.bbox.left, py); g.lineTo(u.bbox.left + u.bbox.width, py); g.stroke(); g.restore();
          }
        }
      }],
    },
  };
  S.plot = new uPlot(opts, [got.t, got.value], box);
  window.consolePlot = S.plot;
  $("plot-info").textContent = got.t.length + " samples (drag to zoom, double-click to reset)";
}

// --- link ---------------------------------------------------------------------------------------
function flatten(prefix, obj, out) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(key, v, out);
    else out.push([key, Array.isArray(v) ? v.join(", ") : v]);
  }
  return out;
}

async function renderLink() {
  const crafts = (await api("GET", "/api/v1/spacecraft")).spacecraft;
  const c = crafts.find((x) => x.name === S.craft);
  const body = $("link-table").tBodies[0];
  body.replaceChildren();
  if (!c) return;
  for (const [k, v] of flatten("", { link: c.link, secured: c.secured, ...c.stats }, [])) body.appendChild(row([k, String(v)]));
}

// --- navigation -----------------------------------------------------------------------------------
function show(page) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.page === page);
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + page;
  clearInterval(S.linkTimer);
  if (page === "history") loadHistory();
  if (page === "plots") loadPlotParams();
  if (page === "link") { renderLink(); S.linkTimer = setInterval(renderLink, 2000); }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("craft").addEventListener("change", selectCraft);
  $("cmd-name").addEventListener("change", buildArgs);
  $("cmd-form").addEventListener("submit", sendCommand);
  $("ev-severity").addEventListener("change", renderEvents);
  $("ev-search").addEventListener("input", renderEvents);
  $("hist-refresh").addEventListener("click", loadHistory);
  $("plot-go").addEventListener("click", drawPlot);
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.page));
  try {
    await start(await api("GET", "/api/v1/session"));
  } catch (e) {
    $("login").hidden = false;
  }
});
