// The live page: follow one test through its event stream and chart every sample (uPlot, vendored).
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

// Each chart: a title, and how a sample gives its series (fixed names, or one per host).
const CHARTS = [
  { id: "packets", title: "packets per second (all peers)",
    fixed: { originated: s => s.originatedPerSecond, received: s => s.receivedPerSecond } },
  { id: "arrived", title: "arrived share (1 - loss), run so far", fixed: { arrived: s => s.arrivedShare } },
  { id: "latency", title: "latency p99 (ms), latest window",
    fixed: { position: s => s.latencyP99.position, profile: s => s.latencyP99.profile, chat: s => s.latencyP99.chat } },
  { id: "connections", title: "connections per peer", fixed: { mean: s => s.connections } },
  { id: "ticklag", title: "tick lag p99 (ms) per host", perHost: s => s.tickLagP99 },
  { id: "cpu", title: "CPU (% of a core) per host", perHost: s => s.cpuPercent },
  { id: "peers", title: "peers reporting / lost; active and the stages' target (--stages)",
    fixed: { reporting: s => s.peersReporting, lost: s => s.peersLost, active: s => s.peersActive,
             target: s => s.peersTarget } },
];

const state = { test: null, source: null, samples: [], charts: {} };

function pct(x) { return x === null || x === undefined ? "n/a" : (100 * x).toFixed(2) + " %"; }

function seriesNames(chart) {
  if (chart.fixed) return Object.keys(chart.fixed);
  const hosts = new Set();
  for (const s of state.samples) for (const h of Object.keys(chart.perHost(s))) hosts.add(h);
  return [...hosts].sort();
}

function valueOf(chart, name, sample) {
  const v = chart.fixed ? chart.fixed[name](sample) : chart.perHost(sample)[name];
  return v === undefined ? null : v;
}

function draw(chart) {
  const names = seriesNames(chart);
  const data = [state.samples.map(s => s.t), ...names.map(n => state.samples.map(s => valueOf(chart, n, s)))];
  let entry = state.charts[chart.id];
  const box = document.getElementById("chart-" + chart.id);
  if (entry && entry.names.join() !== names.join()) { entry.plot.destroy(); entry = null; }
  if (!entry) {
    const target = box.querySelector(".plot");
    const opts = {
      width: Math.max(500, target.clientWidth || 560), height: 220,
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5 }))],
      scales: { x: { time: true } },
    };
    entry = { names, plot: new uPlot(opts, data, target) };
    state.charts[chart.id] = entry;
  } else {
    entry.plot.setData(data);
  }
  box.dataset.points = String(data[0].length);
}

function redraw() { for (const chart of CHARTS) draw(chart); }

function showVerdict(sample) {
  const v = sample.verdict, st = sample.status, el = document.getElementById("verdict");
  el.className = v.harness;
  el.textContent = `verdict so far: harness ${v.harness}` + (v.reasons.length ? ` (${v.reasons.join("; ")})` : "") +
    `; loss ${pct(v.loss)}; arrived ${pct(v.arrivedShare)}; peers lost ${v.peersLost}`;
  document.getElementById("evidence").replaceChildren(...v.evidence.map(line => {
    const item = document.createElement("li"); item.textContent = "evidence: " + line; return item;
  }));
  const phase = st.finished ? "finished" : st.started ? "running" : "not started";
  document.getElementById("status").textContent = `test ${state.test}: ${phase}, ${st.datapoints} datapoints`;
}

function follow(testId) {
  if (state.source) state.source.close();
  state.test = testId; state.samples = [];
  for (const entry of Object.values(state.charts)) entry.plot.destroy();
  state.charts = {};
  const charts = document.getElementById("charts");
  charts.replaceChildren(...CHARTS.map(chart => {
    const box = document.createElement("div");
    box.className = "chart"; box.id = "chart-" + chart.id; box.dataset.points = "0";
    const h = document.createElement("h2"); h.textContent = chart.title;
    const plot = document.createElement("div"); plot.className = "plot";
    box.append(h, plot);
    return box;
  }));
  const source = new EventSource(`/live/${encodeURIComponent(testId)}/events`);
  source.addEventListener("history", e => { state.samples = JSON.parse(e.data); redraw(); });
  source.addEventListener("sample", e => {
    const sample = JSON.parse(e.data);
    const last = state.samples[state.samples.length - 1];
    if (last && last.t === sample.t) state.samples[state.samples.length - 1] = sample;
    else state.samples.push(sample);
    redraw();
    showVerdict(sample);
  });
  state.source = source;
  listTests();
}

async function listTests() {
  const answer = await (await fetch("/live/tests")).json();
  const el = document.getElementById("tests");
  const links = answer.live.map(t => {
    const a = document.createElement("a");
    a.href = "#" + t.id; a.textContent = `${t.id} (${t.finished ? "finished" : t.started ? "running" : "created"})`;
    if (t.id === state.test) a.className = "current";
    return a;
  });
  const stored = answer.stored.map(id => {
    const a = document.createElement("a"); a.href = `/test/${encodeURIComponent(id)}`; a.textContent = id + ".json";
    return a;
  });
  el.replaceChildren("tests: ", ...links, ...(stored.length ? [" stored: ", ...stored] : []));
  if (!links.length && !stored.length) el.textContent = "no tests yet: start a run";
  return answer;
}

async function start() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  const answer = await listTests();
  const running = answer.live.find(t => t.started && !t.finished) || answer.live[0];
  if (wanted) follow(wanted);
  else if (running) follow(running.id);
  else setTimeout(start, 2000);
}

window.addEventListener("hashchange", () => follow(decodeURIComponent(location.hash.slice(1))));
start();
setInterval(() => listTests().catch(e => console.warn("test list:", e)), 5000);
