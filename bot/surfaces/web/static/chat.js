// The chat page: POST /api/chat and show its Server-Sent Events as they come, the answer
// rendered as Markdown and re-rendered as text streams in. Sign-in and API calls are in
// chat-api.js, the safe Markdown in render.js.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const api = window.ShopMaxApi;
  const STOPPED = "Stopped."; // the server keeps the same word for a reload
  let controller = null;

  function turn(role, text) {
    const div = document.createElement("div");
    div.className = "turn " + role;
    if (role === "assistant") window.ShopMaxMarkdown.render(div, text);
    else div.textContent = text;
    $("turns").appendChild(div);
    return div;
  }

  /** An answer that re-renders its Markdown at most once a frame as text streams in. */
  function streamingAnswer(element) {
    let text = "";
    let pending = false;
    const draw = () => {
      pending = false;
      window.ShopMaxMarkdown.render(element, text);
    };
    return {
      add(more) {
        text += more;
        if (!pending) {
          pending = true;
          requestAnimationFrame(draw);
        }
      },
      finish: draw,
      /** The whole answer as the server checked it (unchecked figures marked ⚠). */
      replace(whole) {
        text = whole;
        draw();
      },
    };
  }

  /** The answer's sources as numbered footnotes under it, as text; links only http(s). */
  function footnotes(element, sources) {
    if (!sources || !sources.length) return;
    const list = document.createElement("ol");
    list.className = "sources";
    for (const source of sources) {
      const item = document.createElement("li");
      item.value = source.number;
      const safe = typeof source.url === "string" && /^https?:\/\//i.test(source.url);
      const label = safe ? document.createElement("a") : document.createElement("span");
      label.textContent = String(source.label);
      if (safe) {
        label.href = source.url;
        label.target = "_blank";
        label.rel = "noopener noreferrer";
      }
      item.appendChild(label);
      list.appendChild(item);
    }
    element.after(list);
  }

  function showSignin(show) {
    if (show) api.prepareSignin($("signin"));
    $("signin").hidden = !show;
    $("ask").hidden = show;
    $("signout").hidden = show;
    if (show) $("who").textContent = "";
  }

  /** Sign out: the server ends the session; the page forgets everything it kept. */
  async function signOut() {
    if (controller) controller.abort();
    await api.signOut();
    $("turns").replaceChildren();
    $("message").value = "";
    showSignin(true);
  }

  /** A shared tablet signs its person out once unused for the bot's idle time: looked at
   * every quarter of that time (at most every 15 s), so it happens within a quarter late. */
  async function watchIdle() {
    const idle = ((await api.config()).idle_minutes || 15) * 60000;
    const check = () => {
      if (api.signedIn() && !controller && api.idleFor() > idle) signOut();
    };
    for (const kind of ["pointerdown", "keydown", "touchstart"]) {
      document.addEventListener(kind, () => api.used(), { passive: true });
    }
    if (api.signedIn() && api.idleFor() > idle) await signOut();
    setInterval(check, Math.min(15000, idle / 4));
  }

  async function loadHistory() {
    const conversation = api.conversation();
    if (!conversation) return;
    const r = await api.history(conversation);
    if (r.status === 401) return signOut();
    if (!r.ok) return;
    const body = await r.json();
    $("who").textContent = (body.name || "") + (body.store ? " · " + body.store : "");
    for (const t of body.turns) {
      const element = turn(t.role === "user" ? "user" : "assistant", t.text);
      if (t.role === "assistant" && t.note) lines(element, t.note);
    }
  }

  /** The status and stats lines under an answer; a finished one's note goes in the right one
   * ("Stopped." is a status, like when it happened; anything else is its stats line). */
  function lines(element, note) {
    const status = document.createElement("div");
    status.className = "status";
    const stats = document.createElement("div");
    stats.className = "stats";
    element.after(status);
    status.after(stats);
    if (note === STOPPED) status.textContent = note;
    else if (note) {
      stats.textContent = note;
      stats.dataset.done = "1";
    }
    return { status, stats };
  }

  function parseEvents(buffer, onEvent) {
    const blocks = buffer.split("\n\n");
    for (const block of blocks.slice(0, -1)) {
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(name, JSON.parse(data || "{}"));
    }
    return blocks[blocks.length - 1];
  }

  /** The stats line: the server's footer, the same words Slack shows under an answer. */
  const statsLine = (data) => data.footer;

  /** Say so on the page when answers come from the offline demo model, not Claude. */
  async function showModel() {
    const r = await fetch("/api/chat/config");
    if (!r.ok) return;
    const config = await r.json();
    $("demo").textContent = config.demo_note || "";
    $("demo").hidden = !config.demo_note;
  }

  async function ask(message) {
    turn("user", message);
    const element = turn("assistant", "");
    const answer = streamingAnswer(element);
    const { status, stats } = lines(element, "");
    controller = new AbortController();
    $("stop").disabled = false;
    $("send").disabled = true;
    const conversation = api.conversation();
    const body = conversation ? { message, conversation_id: conversation } : { message };
    try {
      const r = await api.ask(body, controller.signal);
      if (r.status === 401) {
        await signOut();
        $("signin-error").textContent = "Please sign in again.";
        return;
      }
      if (!r.ok) {
        element.textContent = (await r.json()).error;
        return;
      }
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), (name, data) => {
          if (name === "start") {
            api.remember(data.conversation_id);
          } else if (name === "text") {
            answer.add(data.text);
            status.textContent = "";
          } else if (name === "status") {
            status.textContent = data.status.replace(/^_|_$/g, "");
          } else if (name === "done") {
            if (typeof data.text === "string") answer.replace(data.text);
            answer.finish(); // the whole answer is on the page before the stats say it is done
            footnotes(element, data.sources);
            stats.dataset.done = "1";
            stats.textContent = statsLine(data);
            if (data.notices.length) status.textContent = data.notices.join(" ");
          } else if (name === "error") {
            answer.finish();
            status.textContent = data.error;
          }
        });
      }
    } catch (e) {
      status.textContent = e.name === "AbortError" ? STOPPED : "Connection lost. Please try again.";
    } finally {
      answer.finish();
      $("stop").disabled = true;
      $("send").disabled = false;
      controller = null;
    }
  }

  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = await api.signIn($("signin"));
    $("signin-error").textContent = problem;
    if (problem) return;
    $("turns").replaceChildren();
    const store = $("store").value.trim().toUpperCase();
    $("who").textContent = $("name").value.trim() + (store ? " · " + store : "");
    showSignin(false);
    loadHistory();
  });
  $("ask").addEventListener("submit", (e) => {
    e.preventDefault();
    const m = $("message").value.trim();
    api.used();
    if (m && !controller) {
      $("message").value = "";
      ask(m);
    }
  });
  $("stop").addEventListener("click", () => controller && controller.abort());
  $("signout").addEventListener("click", signOut);
  showModel();
  api.signinProblem().then((problem) => ($("signin-error").textContent = problem));
  (async () => {
    await api.arrived(); // back from Slack: the sign-in code traded first
    // A tablet left signed in longer than the idle time shows nothing of the last person.
    await watchIdle();
    showSignin(!api.signedIn());
    if (api.signedIn()) loadHistory();
  })();
})();
