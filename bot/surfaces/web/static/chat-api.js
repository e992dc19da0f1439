// How the chat signs in, remembers its conversation and calls the bot's API: everything that
// depends on the way the page signs in is here, so that can change without touching chat.js.
// Sign in with Slack comes back with the session in the address's fragment (never sent to a
// server); the typed sign-in (shared token and a name, or a name alone in the local demo) gets
// it as JSON. The page keeps the session and the conversation id, never the shared token, and
// forgets both on Sign out and after SHOPMAX_WEB_IDLE_MINUTES unused (a shared tablet).
"use strict";
window.ShopMaxApi = (function () {
  const SESSION = "shopmax.chat.session";
  const CONVERSATION = "shopmax.chat.conversation";
  const USED = "shopmax.chat.used";
  const KEYS = [SESSION, CONVERSATION, USED];
  let config = null;
  let session = localStorage.getItem(SESSION) || "";
  const auth = () => ({ Authorization: "Bearer " + session });
  const json = () => ({ "Content-Type": "application/json" });

  /** Everything this page keeps in the browser, gone. */
  function forget() {
    session = "";
    for (const key of KEYS) localStorage.removeItem(key);
    sessionStorage.clear();
  }

  /** The session Sign in with Slack put in the fragment, taken and wiped from the address. */
  function fromFragment() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (!fragment.has("session") && !fragment.has("signin")) return "";
    history.replaceState(null, "", location.pathname);
    if (fragment.has("session")) {
      forget();
      session = fragment.get("session");
      localStorage.setItem(SESSION, session);
      localStorage.setItem(USED, String(Date.now()));
      return "";
    }
    return fragment.get("signin") || "failed";
  }
  const problem = fromFragment();

  /** The typed sign-in's fields. One more field (a store, say) goes here and in the form. */
  function signinFields(form) {
    return {
      name: form.querySelector("#name").value.trim(),
      token: form.querySelector("#token").value.trim(),
    };
  }

  return {
    /** GET /api/chat/config once: how to sign in, the idle time, the demo note. */
    async config() {
      if (!config) {
        const r = await fetch("/api/chat/config");
        config = r.ok ? await r.json() : { signin: "none", problems: {} };
      }
      return config;
    },
    /** What went wrong with a Sign in with Slack that came back here, or "". */
    async signinProblem() {
      if (!problem) return "";
      const problems = (await this.config()).problems || {};
      if (problem.startsWith("team:")) {
        return (problems.team || "").replace("{team}", problem.slice(5));
      }
      return problems[problem] || problems.failed || "Signing in did not work.";
    },
    /** Whether a session is at hand (otherwise the page shows the sign-in form). */
    signedIn: () => Boolean(session),
    /** Show the fields (or the Slack button) of the way this bot signs in. */
    async prepareSignin(form) {
      const signin = (await this.config()).signin;
      form.querySelector("#typed").hidden = !(signin === "token" || signin === "local");
      form.querySelector("#token").hidden = signin !== "token";
      form.querySelector("#slack").hidden = signin !== "slack";
    },
    /** Sign in with the form's fields; resolves to "" when signed in, else what is wrong. */
    async signIn(form) {
      const r = await fetch("/api/chat/session", {
        method: "POST",
        headers: json(),
        body: JSON.stringify(signinFields(form)),
      });
      const body = await r.json();
      if (!r.ok) return body.error;
      forget();
      session = body.session;
      localStorage.setItem(SESSION, session);
      this.used();
      return "";
    },
    /** End the session on the server and forget everything kept here. */
    async signOut() {
      const ending = session;
      forget();
      if (ending) {
        await fetch("/api/chat/signout", {
          method: "POST",
          headers: { Authorization: "Bearer " + ending },
        }).catch(() => {});
      }
    },
    /** Note a use now (the idle time counts from the last one, across reloads). */
    used() {
      if (session) localStorage.setItem(USED, String(Date.now()));
    },
    /** Milliseconds since the last use (0 when none is noted). */
    idleFor: () => Date.now() - Number(localStorage.getItem(USED) || Date.now()),
    /** The conversation this browser is in ("" before the first answer). */
    conversation: () => localStorage.getItem(CONVERSATION) || "",
    remember(conversation) {
      localStorage.setItem(CONVERSATION, conversation);
    },
    /** POST for the conversation's earlier turns (the id in the body, never in an address). */
    history: (conversation) =>
      fetch("/api/chat/history", {
        method: "POST",
        headers: { ...json(), ...auth() },
        body: JSON.stringify({ conversation_id: conversation }),
      }),
    /** POST a question; resolves to the fetch Response whose body is the event stream. */
    ask: (body, signal) =>
      fetch("/api/chat", {
        method: "POST",
        signal,
        headers: { ...json(), ...auth() },
        body: JSON.stringify(body),
      }),
  };
})();
