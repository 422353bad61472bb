// The Octavo log viewer page. Everything a log event carries came from a remote peer:
// it reaches the page only through textContent and attribute setters, never as HTML.
"use strict";

(function () {
  const LEVELS = [
    [10, "NOISY"], [20, "OPERATIONAL"], [23, "UNUSUAL"], [25, "INFREQUENT"],
    [28, "CURIOUS"], [30, "WEIRD"], [35, "SCARY"], [40, "BAD"],
  ];
  const WEIRD = 30;
  const MAX_DEPTH = 32;
  const BUCKETS = 60;
  const SVG = "http://www.w3.org/2000/svg";
  const token = new URLSearchParams(window.location.search).get("token");

  const state = {
    byKey: new Map(),     // key -> entry {ev, row, depth, children: []}
    entries: [],          // in arrival order
    last: -1,             // highest seq received
    dropped: 0,           // dropped by the viewer's store, as it last said
    trimmed: 0,           // dropped by this page, past `limit`
    limit: 100000,        // the store's limit: this page keeps no more rows than it
    filter: { level: 0, facility: "", tubid: "", text: "" },
    collapsed: new Set(), // keys of folded events
    selected: null,
    chartQueued: false,
    shown: 0,             // rows not hidden
    sourceState: "",      // the viewer's word on its source ("" while all is well)
    run: null,            // the viewer's run: its seqs (and "S" keys) mean something only in it
    source: null,         // the EventSource in use; messages of any other are ignored
  };

  const $ = (id) => document.getElementById(id);

  function api(path, params) {
    const query = new URLSearchParams(params || {});
    if (token) query.set("token", token);
    return path + "?" + query.toString();
  }

  function levelName(level) {
    let name = "LEVEL" + level;
    for (const [value, label] of LEVELS) {
      if (level === value) return label;
      if (level > value) name = label + "+" + (level - value);
    }
    return name;
  }

  function levelClass(level) {
    let name = "OPERATIONAL";
    for (const [value, label] of LEVELS) if (level >= value) name = label;
    return "lvl-" + name;
  }

  function severity(level) {
    if (level >= WEIRD) return "high";
    if (level >= 23) return "mid";
    return "low";
  }

  function pad(n, width) { return String(n).padStart(width, "0"); }

  function shortTime(t) {
    const d = new Date(t * 1000);
    if (isNaN(d.getTime())) return String(t);
    const utc = $("utc").checked;
    const [h, m, s] = utc
      ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
      : [d.getHours(), d.getMinutes(), d.getSeconds()];
    return pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(d.getMilliseconds(), 3);
  }

  function redrawTimes() {
    for (const entry of state.entries) {
      entry.row.querySelector("td.time").textContent = shortTime(entry.ev.time);
      if (entry.incidentItem) entry.incidentItem.firstChild.textContent = incidentText(entry.ev);
    }
  }

  function incidentText(ev) {
    return shortTime(ev.time) + " " + levelName(ev.level) + ": " + ev.text.slice(0, 200);
  }

  function longTime(t) {
    const d = new Date(t * 1000);
    return isNaN(d.getTime()) ? String(t) : d.toISOString();
  }

  function cell(row, className, text) {
    const td = document.createElement("td");
    td.className = className;
    if (text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function permalink(key) {
    return window.location.pathname + window.location.search + "#" + key;
  }

  function makeRow(entry) {
    const ev = entry.ev;
    const row = document.createElement("tr");
    row.dataset.seq = String(ev.seq);
    row.id = ev.key;
    row.className = levelClass(ev.level) + (ev.incident ? " incident" : "");
    const fold = cell(row, "fold-cell");
    fold.style.paddingLeft = entry.depth * 1.1 + "em";
    const num = cell(row, "num");
    const link = document.createElement("a");
    link.href = permalink(ev.key);
    link.textContent = ev.num === null ? "-" : String(ev.num);
    link.title = "permalink to this event";
    num.appendChild(link);
    const time = cell(row, "time", shortTime(ev.time));
    time.title = longTime(ev.time) + (ev.inc ? "  incarnation " + ev.inc : "");
    cell(row, "lvl", levelName(ev.level));
    const tub = cell(row, "tub", ev.from.slice(0, 8));
    tub.title = ev.from;
    cell(row, "fac", ev.facility);
    const msg = cell(row, "msg", ev.text);
    if (ev.trigger) {
      const mark = document.createElement("span");
      mark.className = "trigger";
      mark.textContent = "[INCIDENT-TRIGGER]";
      msg.appendChild(mark);
    }
    if (ev.failure !== null) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "failure";
      const pre = document.createElement("pre");
      pre.className = "failure";
      pre.textContent = ev.failure;
      details.append(summary, pre);
      msg.appendChild(details);
    }
    return row;
  }

  function setFoldButton(entry) {
    const td = entry.row.firstChild;
    let button = td.querySelector("button.fold");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "fold";
      button.addEventListener("click", () => toggleFold(entry));
      td.appendChild(button);
    }
    const folded = state.collapsed.has(entry.ev.key);
    button.textContent = folded ? "\u25b8" : "\u25be";
    button.title = (folded ? "show " : "hide ") + entry.children.length + " child event(s)";
  }

  function matches(ev) {
    const f = state.filter;
    return ev.level >= f.level &&
      ev.facility.startsWith(f.facility) &&
      ev.from.startsWith(f.tubid) &&
      (f.text === "" || ev.text.toLowerCase().includes(f.text.toLowerCase()));
  }

  function foldedAway(entry) {
    let parent = entry.parent;
    for (let hops = 0; parent && hops < MAX_DEPTH; hops++) {
      if (state.collapsed.has(parent.ev.key)) return true;
      parent = parent.parent;
    }
    return false;
  }

  function applyVisibility(entry) {
    const show = entry === state.selected || (matches(entry.ev) && !foldedAway(entry));
    entry.row.hidden = !show;
    return show;
  }

  function refreshAll() {
    let shown = 0;
    for (const entry of state.entries) if (applyVisibility(entry)) shown++;
    state.shown = shown;
    updateCounts();
  }

  function updateCounts() {
    let text = state.entries.length + " events, " + state.shown + " shown";
    const dropped = state.dropped + state.trimmed;
    if (dropped) text += ", " + dropped + " oldest dropped";
    $("counts").textContent = text;
  }

  function toggleFold(entry) {
    const key = entry.ev.key;
    if (state.collapsed.has(key)) state.collapsed.delete(key); else state.collapsed.add(key);
    setFoldButton(entry);
    refreshAll();
  }

  function addIncident(entry) {
    const ev = entry.ev;
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = permalink(ev.key);
    link.textContent = incidentText(ev);
    item.appendChild(link);
    entry.incidentItem = item;
    $("incident-list").appendChild(item);
    $("incident-count").textContent = String($("incident-list").childElementCount);
  }

  function addEvent(ev) {
    if (ev.seq <= state.last) return;
    state.last = ev.seq;
    const parent = ev.parent !== null ? state.byKey.get(ev.parent) : undefined;
    const entry = { ev, parent, depth: 0, children: [], row: null };
    if (parent && parent.depth < MAX_DEPTH) {
      entry.depth = parent.depth + 1;
      parent.children.push(entry);
    } else {
      entry.parent = undefined;
    }
    entry.row = makeRow(entry);
    state.byKey.set(ev.key, entry);
    state.entries.push(entry);
    $("event-body").appendChild(entry.row);
    if (entry.parent) setFoldButton(entry.parent);
    if (applyVisibility(entry)) state.shown++;
    if (ev.incident) addIncident(entry);
    trim();
    return entry;
  }

  // Keep at most `limit` rows (plus some slack, to trim in batches): the oldest go first.
  function trim() {
    const excess = state.entries.length - state.limit;
    if (excess <= Math.max(100, state.limit / 100)) return;
    for (const entry of state.entries.splice(0, excess)) {
      if (!entry.row.hidden) state.shown--;
      entry.row.remove();
      if (entry.incidentItem) entry.incidentItem.remove();
      if (state.byKey.get(entry.ev.key) === entry) state.byKey.delete(entry.ev.key);
      state.collapsed.delete(entry.ev.key);
      if (state.selected === entry) state.selected = null;
    }
    state.trimmed += excess;
    $("incident-count").textContent = String($("incident-list").childElementCount);
  }

  function followTail(entry) {
    if ($("follow").checked && entry && !entry.row.hidden) {
      entry.row.scrollIntoView({ block: "end" });
    }
  }

  // ----- timeline -----

  function scheduleChart() {
    if (state.chartQueued) return;
    state.chartQueued = true;
    window.setTimeout(() => { state.chartQueued = false; drawChart(); }, 250);
  }

  function svg(name, attrs) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function drawChart() {
    const chart = $("chart");
    while (chart.firstChild) chart.removeChild(chart.firstChild);
    const entries = state.entries;
    if (entries.length === 0) return;
    let t0 = Infinity, t1 = -Infinity;
    for (const e of entries) { t0 = Math.min(t0, e.ev.time); t1 = Math.max(t1, e.ev.time); }
    const span = Math.max(t1 - t0, 1e-3);
    const buckets = Array.from({ length: BUCKETS }, () => ({ low: 0, mid: 0, high: 0, first: null }));
    for (const e of entries) {
      const i = Math.min(BUCKETS - 1, Math.floor(((e.ev.time - t0) / span) * BUCKETS));
      const b = buckets[i];
      b[severity(e.ev.level)]++;
      if (b.first === null) b.first = e;
    }
    const top = Math.max(...buckets.map((b) => b.low + b.mid + b.high));
    const width = 1000 / BUCKETS, height = 100;
    buckets.forEach((b, i) => {
      let y = height;
      for (const kind of ["low", "mid", "high"]) {
        if (!b[kind]) continue;
        const h = (b[kind] / top) * (height - 4);
        y -= h;
        const rect = svg("rect", { x: i * width + 1, y, width: width - 2, height: h, class: "bar-" + kind });
        const title = svg("title", {});
        title.textContent = b[kind] + " " + kind + " event(s) from " + longTime(t0 + (i * span) / BUCKETS);
        rect.appendChild(title);
        rect.addEventListener("click", () => { if (b.first) selectKey(b.first.ev.key, true); });
        chart.appendChild(rect);
      }
    });
    const start = svg("text", { x: 2, y: 116, class: "axis" });
    start.textContent = longTime(t0);
    const end = svg("text", { x: 998, y: 116, class: "axis", "text-anchor": "end" });
    end.textContent = longTime(t1) + "  (max " + top + " per bar)";
    chart.append(start, end);
  }

  function drawLegend() {
    const legend = $("chart-legend");
    for (const [kind, label] of [["low", "below UNUSUAL"], ["mid", "UNUSUAL to CURIOUS"], ["high", "WEIRD and up"]]) {
      const span = document.createElement("span");
      span.className = "lg-" + kind;
      span.textContent = label;
      legend.appendChild(span);
    }
  }

  // ----- selection and permalinks -----

  function selectKey(key, updateHash) {
    const entry = state.byKey.get(key);
    if (!entry) return false;
    if (state.selected) state.selected.row.classList.remove("selected");
    state.selected = entry;
    for (let p = entry.parent, hops = 0; p && hops < MAX_DEPTH; p = p.parent, hops++) {
      if (state.collapsed.delete(p.ev.key)) setFoldButton(p);
    }
    entry.row.classList.add("selected");
    $("follow").checked = false;
    refreshAll();
    entry.row.scrollIntoView({ block: "center" });
    if (updateHash && window.location.hash !== "#" + key) {
      window.history.replaceState(null, "", permalink(key));
    }
    return true;
  }

  function selectFromHash() {
    const key = window.location.hash.slice(1);
    if (key) selectKey(key, false);
  }

  // ----- data -----

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = "status " + kind;
  }

  async function getJSON(path, params) {
    const response = await fetch(api(path, params), { credentials: "same-origin" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  function describeHeader(h) {
    let text = String(h.type || "header");
    if (h.pid !== undefined && h.pid !== null) text += ", pid " + h.pid;
    if (h.versions) {
      text += ", " + Object.entries(h.versions).map(([k, v]) => k + " " + v).join(", ");
    }
    return text;
  }

  // Forget every event shown: the viewer restarted, and its numbering with it.
  function resetEvents() {
    state.byKey.clear();
    state.entries = [];
    state.last = -1;
    state.dropped = 0;
    state.trimmed = 0;
    state.collapsed.clear();
    state.selected = null;
    state.shown = 0;
    $("event-body").replaceChildren();
    $("incident-list").replaceChildren();
    $("incident-count").textContent = "0";
  }

  // Load what the viewer holds, page by page. Every answer names the viewer's run: if it
  // changes midway (the viewer restarted), start again from nothing.
  async function loadInitial() {
    let info;
    for (let tries = 0; ; tries++) {
      info = await getJSON("info.json");
      $("source").textContent = info.source + (info.live ? " (live)" : "");
      $("source").title = info.headers.map(describeHeader).join("\n");
      if (Number.isInteger(info.limit) && info.limit > 0) state.limit = info.limit;
      if (state.run !== info.run) resetEvents();
      state.run = info.run;
      let more = true, same = true;
      while (more && same) {
        const page = await getJSON("events.json", { after: state.last, run: state.run });
        same = page.run === state.run;
        if (!same) break;
        for (const ev of page.events) addEvent(ev);
        state.dropped = page.dropped;
        more = page.more && page.events.length > 0;
      }
      if (same || tries >= 3) break;
    }
    refreshAll();
    drawChart();
    return info;
  }

  // The viewer restarted (a new run): its seqs started again, so the rows shown and the
  // last seq say nothing about it. Drop them and load what it holds now, keeping the
  // selected event if it is still there (a permalink stays one).
  async function reload() {
    const selected = state.selected ? state.selected.ev.key : null;
    setStatus("the viewer restarted: reloading", "down");
    resetEvents();
    try {
      await loadInitial();
    } catch (err) {
      setStatus("failed: " + err.message, "down");
      window.setTimeout(reload, 5000);
      return;
    }
    if (selected) selectKey(selected, false);
    openStream();
  }

  // The browser reopens a dropped stream by itself, sending the id of the last event
  // it got (Last-Event-ID, "run-seq"), so nothing is repeated or missed. It gives up only
  // when the viewer answers with an error (restarting, too many pages): then we open a
  // new stream ourselves, a while later, from the last event shown. Each stream starts
  // with the viewer's run: another one than ours means the viewer restarted (a new
  // process numbers its events from 0 again), and the page reloads its events.
  function openStream() {
    const source = new EventSource(api("stream", { after: state.last, run: state.run }));
    state.source = source;
    const current = () => state.source === source;
    source.addEventListener("open", () => {
      if (current() && !state.sourceState) setStatus("live", "live");
    });
    source.addEventListener("error", () => {
      if (!current()) return;
      setStatus("reconnecting to the viewer", "down");
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(() => { if (current()) openStream(); }, 5000);
      }
    });
    source.addEventListener("run", (message) => {
      let run;
      try { run = JSON.parse(message.data); } catch (e) { return; }
      if (!current() || typeof run !== "string" || run === state.run) return;
      source.close();
      state.source = null;
      state.sourceState = "";
      reload();
    });
    source.addEventListener("state", (message) => {
      if (!current()) return;
      let text;
      try { text = JSON.parse(message.data); } catch (e) { return; }
      if (typeof text !== "string") return;
      state.sourceState = text;
      if (text) setStatus(text, "down"); else setStatus("live", "live");
    });
    source.addEventListener("log", (message) => {
      if (!current()) return;
      let ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      const entry = addEvent(ev);
      if (!entry) return;
      updateCounts();
      scheduleChart();
      followTail(entry);
    });
  }

  function readFilter() {
    state.filter = {
      level: parseInt($("level").value, 10) || 0,
      facility: $("facility").value,
      tubid: $("tubid").value,
      text: $("text").value,
    };
    refreshAll();
  }

  function wireControls() {
    $("controls").addEventListener("submit", (e) => e.preventDefault());
    $("level").addEventListener("change", readFilter);
    $("utc").addEventListener("change", redrawTimes);
    for (const id of ["facility", "tubid", "text"]) $(id).addEventListener("input", readFilter);
    $("expand-all").addEventListener("click", () => {
      state.collapsed.clear();
      for (const e of state.entries) if (e.children.length) setFoldButton(e);
      refreshAll();
    });
    $("collapse-all").addEventListener("click", () => {
      for (const e of state.entries) if (e.children.length) { state.collapsed.add(e.ev.key); setFoldButton(e); }
      refreshAll();
    });
    window.addEventListener("hashchange", selectFromHash);
  }

  async function start() {
    wireControls();
    drawLegend();
    let info;
    try {
      info = await loadInitial();
    } catch (err) {
      setStatus("failed: " + err.message, "down");
      return;
    }
    selectFromHash();
    document.body.dataset.ready = "true";
    if (info.live) {
      openStream();
    } else {
      setStatus("file read once", "");
    }
  }

  start();
})();
