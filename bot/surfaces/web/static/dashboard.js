// The usage dashboard: the ledger of the last 7, 14 or 30 days as Chart.js charts, with every
// day of the period on the axis (days without answers show as 0), and an empty state.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const COLOURS = { blue: "#0b3d91", orange: "#e07a1f", green: "#2e7d32" };
  const PERIODS = [7, 14, 30];
  const PERIOD_KEY = "shopmax-dashboard-days";
  const charts = {};
  let days = PERIODS.includes(Number(localStorage.getItem(PERIOD_KEY)))
    ? Number(localStorage.getItem(PERIOD_KEY))
    : 14;

  // The dashboard's credential: the admin token (never the chat's), typed once and traded at
  // once for an admin session, which is all the page keeps, in this tab's sessionStorage (gone
  // when the tab closes); none in the local demo, where the server needs none. Kept to these
  // two functions so the way it signs in can change alone.
  const SESSION_KEY = "shopmax.dashboard.session";
  localStorage.removeItem("shopmax.dashboard.token"); // what older versions kept, raw
  let session = sessionStorage.getItem(SESSION_KEY) || "";
  const fetchUsage = (n) =>
    fetch(`/api/dashboard?days=${n}`, {
      headers: session ? { Authorization: "Bearer " + session } : {},
    });
  async function signIn(value) {
    const r = await fetch("/api/dashboard/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: value.trim() }),
    });
    session = r.ok ? (await r.json()).session : "";
    if (session) sessionStorage.setItem(SESSION_KEY, session);
    else sessionStorage.removeItem(SESSION_KEY);
  }

  const iso = (date) => date.toISOString().slice(0, 10);
  const dayLabel = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", timeZone: "UTC",
  });

  /** `n` consecutive days ("YYYY-MM-DD") ending today, or on the last day with data if the
   *  server's day (its time zone) is already ahead of this browser's. */
  function period(n, rows) {
    const now = new Date();
    const today = iso(new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())));
    const last = rows.reduce((latest, r) => (r.day > latest ? r.day : latest), today);
    const end = new Date(last + "T00:00:00Z");
    return Array.from({ length: n }, (_, i) => iso(new Date(end - (n - 1 - i) * 86400000)));
  }

  function draw(id, type, labels, datasets, options = {}) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), {
      type,
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: datasets.length > 1 } },
        ...options,
      },
    });
  }

  const whole = { beginAtZero: true, ticks: { precision: 0 } };
  const dollars = (v) => "$" + Number(v).toPrecision(2).replace(/\.?0+$/, "");
  const dateAxis = { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 8 } };

  function render(data) {
    const keys = period(days, data.days);
    const byDay = Object.fromEntries(data.days.map((d) => [d.day, d]));
    const labels = keys.map((k) => dayLabel.format(new Date(k + "T00:00:00Z")));
    const series = (field, missing) => keys.map((k) => (byDay[k] ? byDay[k][field] : missing));
    const bars = (label, values, colour) => [{ label, data: values, backgroundColor: colour }];
    draw("answers", "bar", labels, bars("Answers", series("answers", 0), COLOURS.blue), {
      scales: { x: dateAxis, y: whole },
    });
    draw("cost", "bar", labels, bars("Cost (USD)", series("cost_usd", 0), COLOURS.green), {
      scales: { x: dateAxis, y: { beginAtZero: true, ticks: { callback: dollars } } },
    });
    const line = (label, field, colour) => ({
      label, data: series(field, null), borderColor: colour, backgroundColor: colour, spanGaps: true,
    });
    draw("ttft", "line", labels, [line("p50", "ttft_p50_ms", COLOURS.blue),
                                  line("p95", "ttft_p95_ms", COLOURS.orange)], {
      scales: { x: dateAxis, y: { beginAtZero: true, ticks: { callback: (v) => `${v} ms` } } },
    });
    draw("unverified", "bar", labels,
         bars("Unchecked figures", series("unverified_figures", 0), COLOURS.orange), {
           scales: { x: dateAxis, y: whole },
         });
    for (const [id, top] of [["channels", data.top_channels], ["users", data.top_users]]) {
      const names = top.map((t) => t.name);
      draw(id, "bar", names, bars("Answers", top.map((t) => t.answers), COLOURS.blue), {
        indexAxis: "y", scales: { x: whole },
      });
    }
  }

  function show(state, message = "") {
    $("charts").hidden = state !== "charts";
    $("empty").hidden = state !== "empty";
    $("failed").hidden = state !== "failed";
    $("signin").hidden = state !== "signin";
    if (state === "empty") $("empty").textContent = message;
    if (state === "failed") $("failed").textContent = message;
  }

  async function load() {
    $("period").textContent = `last ${days} days`;
    for (const b of $("range").querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.days) === days));
    }
    delete document.body.dataset.loaded;
    const r = await fetchUsage(days);
    if (r.status === 401) return show("signin");
    if (!r.ok) {
      // The server says why where it can (the database away: figures unavailable for now).
      const said = await r.json().then((body) => body.error, () => "");
      return show("failed", said || `The usage data could not be loaded (HTTP ${r.status}).`);
    }
    const data = await r.json();
    if (!data.days.some((d) => d.answers > 0)) {
      show("empty", `No answers in the last ${days} days yet. Ask the bot something in Slack ` +
        "or in the chat at /chat, and it shows here.");
    } else {
      show("charts");
      render(data);
    }
    document.body.dataset.loaded = String(days);
  }

  $("range").addEventListener("click", (e) => {
    const chosen = Number(e.target.dataset && e.target.dataset.days);
    if (!PERIODS.includes(chosen)) return;
    days = chosen;
    localStorage.setItem(PERIOD_KEY, String(days));
    load();
  });
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    await signIn($("token").value);
    $("token").value = "";
    load();
  });
  // Ask for the token before any data when one is needed and no session is kept.
  fetch("/api/dashboard/config")
    .then((r) => (r.ok ? r.json() : { needs_token: true }))
    .then((config) => (config.needs_token && !session ? show("signin") : load()));
})();
