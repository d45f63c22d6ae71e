// billclock's dashboard: shows the JSON of what is clicked, filters events
// by type, advances the clock and follows it (advancing -> ready) by
// polling the clock's status. The timeline itself is drawn by the server.
"use strict";

(function () {
  const clock = document.getElementById("clock");
  const hidden = new Set(); // event types filtered out

  // The JSON of an item, as the provider's API returns it.
  let selected = null;
  async function inspect(el) {
    const base = clock && clock.dataset.objects;
    if (!base) return;
    const kind = el.dataset.kind, id = el.dataset.id;
    if (!kind || !id) return;
    if (selected) selected.classList.remove("selected");
    selected = el;
    el.classList.add("selected");
    const title = document.getElementById("json-title");
    const source = document.getElementById("json-source");
    const pre = document.getElementById("json");
    document.getElementById("inspector").classList.add("open");
    title.textContent = kind.replace("_", " ") + " " + id;
    source.textContent = "loading…";
    pre.textContent = "";
    try {
      const resp = await fetch(base + encodeURIComponent(kind) + "/" + encodeURIComponent(id),
        { headers: { "Accept": "application/json" } });
      const ans = await resp.json();
      if (ans.error) {
        source.textContent = ans.error;
        return;
      }
      let src = ans.api_request ? ans.api_request + " → " + ans.api_status : "";
      if (ans.note) src = (src ? src + ". " : "") + ans.note;
      source.textContent = src;
      pre.textContent = JSON.stringify(ans.body, null, 2);
      pre.dataset.kind = kind;
      pre.dataset.id = id;
    } catch (e) {
      source.textContent = "could not load: " + e;
    }
  }

  document.addEventListener("click", (ev) => {
    if (ev.target.closest("#json-close")) {
      document.getElementById("inspector").classList.remove("open");
      if (selected) selected.classList.remove("selected");
      selected = null;
      return;
    }
    const el = ev.target.closest(".inspectable");
    if (el) inspect(el);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const el = ev.target.closest && ev.target.closest(".inspectable");
    if (el) inspect(el);
  });

  // Event filters.
  function applyFilters() {
    document.querySelectorAll(".type-filter").forEach((box) => {
      box.checked = !hidden.has(box.value);
    });
    document.querySelectorAll(".ev[data-type]").forEach((el) => {
      el.classList.toggle("off", hidden.has(el.dataset.type));
    });
  }
  document.addEventListener("change", (ev) => {
    const box = ev.target.closest(".type-filter");
    if (!box) return;
    if (box.checked) hidden.delete(box.value); else hidden.add(box.value);
    applyFilters();
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-filter]");
    if (!b) return;
    document.querySelectorAll(".type-filter").forEach((box) => {
      if (b.dataset.filter === "all") hidden.delete(box.value); else hidden.add(box.value);
    });
    applyFilters();
  });

  if (!clock) return;
  const base = clock.dataset.base;
  const message = document.getElementById("advance-message");
  let last = { status: clock.dataset.status, frozen: clock.dataset.frozen, moves: null };
  let fast = false;
  let timer = null;

  async function refreshTimeline() {
    const resp = await fetch(base + "/timeline");
    if (!resp.ok) return;
    const html = await resp.text();
    const box = document.getElementById("timeline");
    box.innerHTML = html;
    applyFilters();
    if (selected) {
      const again = box.querySelector('.inspectable[data-kind="' + selected.dataset.kind + '"][data-id="' + selected.dataset.id + '"]');
      if (again) { selected = again; again.classList.add("selected"); }
    }
  }

  function show(st) {
    const status = document.getElementById("status");
    status.textContent = st.status.replace("_", " ");
    status.className = "status " + st.status;
    document.getElementById("frozen").textContent = st.frozen;
    const progress = document.getElementById("progress");
    progress.textContent = st.status === "advancing"
      ? "→ " + st.target + " (reached " + st.reached + ", " + st.tasks_done + " tasks)"
      : (st.tasks_done ? "last advance: " + st.tasks_done + " tasks" : "");
    clock.dataset.status = st.status;
    clock.dataset.frozen = String(st.frozen_time);
  }

  async function poll() {
    timer = null;
    try {
      const resp = await fetch(base + "/status", { headers: { "Accept": "application/json" } });
      if (resp.ok) {
        const st = await resp.json();
        const changed = st.status !== last.status || String(st.frozen_time) !== String(last.frozen) ||
          (last.moves !== null && st.moves !== last.moves);
        show(st);
        if (changed) {
          await refreshTimeline();
          if (st.status !== "advancing") {
            message.textContent = st.status === "ready" ? "ready at " + st.frozen : st.status.replace("_", " ");
            message.className = st.status === "ready" ? "ok" : "error";
          }
        }
        last = { status: st.status, frozen: st.frozen_time, moves: st.moves };
        if (st.status !== "advancing") fast = false;
      }
    } catch (e) { /* the server may be restarting: try again */ }
    schedule();
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, fast ? 250 : 2000);
  }

  async function advance(params) {
    message.textContent = "asking…";
    message.className = "";
    try {
      const resp = await fetch(base + "/advance", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Billclock-Dashboard": "1" },
        body: new URLSearchParams(params).toString(),
      });
      const ans = await resp.json();
      if (!resp.ok) {
        message.textContent = ans.error || ("refused: " + resp.status);
        message.className = "error";
        return;
      }
      message.textContent = "advancing…";
      fast = true;
      poll();
    } catch (e) {
      message.textContent = "could not advance: " + e;
      message.className = "error";
    }
  }

  document.getElementById("advance").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-by]");
    if (b) advance({ by: b.dataset.by });
  });
  document.getElementById("advance").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const to = document.getElementById("advance-to").value;
    if (to) advance({ to: to });
  });

  schedule();
})();
