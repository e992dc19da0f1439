// How the chat signs in, remembers its conversation and calls the bot's API: everything that
// depends on the way the page signs in is here, so that can change without touching chat.js.
// Sign in with Slack: before the page sends the person to Slack it keeps a random verifier
// (sessionStorage) and sends only its SHA-256; Slack sends the browser back to /chat#code=...,
// and the page trades that one-use code and its verifier for the session by POST. A code the
// page did not ask for (no verifier kept) is never traded, and a session is never taken from
// the address: nobody can sign a tablet in as themselves with a link. The typed sign-in
// (shared token and a name, or a name alone in the local demo) gets the session as JSON. The
// page keeps the session and the conversation id, never the shared token, and forgets both on
// Sign out and after SHOPMAX_WEB_IDLE_MINUTES unused (a shared tablet).
"use strict";
window.ShopMaxApi = (function () {
  const SESSION = "shopmax.chat.session";
  const CONVERSATION = "shopmax.chat.conversation";
  const USED = "shopmax.chat.used";
  const VERIFIER = "shopmax.chat.verifier"; // sessionStorage: this tab's Sign in with Slack
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

  const base64url = (bytes) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

  /** Back from Slack: the fragment's one-use code traded (with the verifier this tab kept)
   * for the session; resolves to a problem code ("" when none). The address is wiped first,
   * and a code this tab did not ask for is not traded. */
  async function arrive() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (!location.hash) return "";
    history.replaceState(null, "", location.pathname);
    const verifier = sessionStorage.getItem(VERIFIER);
    sessionStorage.removeItem(VERIFIER);
    if (fragment.has("signin")) return fragment.get("signin");
    if (fragment.has("session")) return "failed"; // never taken from an address
    if (!fragment.has("code")) return "";
    if (!verifier) return "failed";
    const r = await fetch("/api/chat/signin/slack", {
      method: "POST",
      headers: json(),
      body: JSON.stringify({ code: fragment.get("code"), verifier }),
    }).catch(() => null);
    if (!r || !r.ok) return r && r.status === 503 ? "unavailable" : "failed";
    forget();
    session = (await r.json()).session;
    localStorage.setItem(SESSION, session);
    localStorage.setItem(USED, String(Date.now()));
    return "";
  }
  const arrival = arrive();

  /** To Slack, keeping a fresh verifier here and sending only its SHA-256 along. */
  async function toSlack(link) {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    sessionStorage.setItem(VERIFIER, verifier);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    location.assign(link.pathname + "?challenge=" + base64url(digest));
  }

  /** The typed sign-in's fields. One more field goes here and in the form. The store is
   * checked by the server, which names the nearest known codes for one it does not know. */
  function signinFields(form) {
    return {
      name: form.querySelector("#name").value.trim(),
      token: form.querySelector("#token").value.trim(),
      store: form.querySelector("#store").value.trim(),
    };
  }

  /** The known stores as the store field's suggestions: text only, never markup. */
  function offerStores(form, stores) {
    const list = form.querySelector("#stores");
    if (!list || list.children.length) return;
    for (const store of stores || []) {
      const option = document.createElement("option");
      option.value = String(store.code);
      option.textContent = String(store.label);
      list.appendChild(option);
    }
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
    /** Once a Sign in with Slack that came back here is done (or there was none). */
    arrived: () => arrival,
    /** What went wrong with a Sign in with Slack that came back here, or "": only the fixed
     * text the server gives for a known code, never text from the address. */
    async signinProblem() {
      const problem = await arrival;
      if (!problem) return "";
      const problems = (await this.config()).problems || {};
      const known = Object.prototype.hasOwnProperty.call(problems, problem);
      return (known ? problems[problem] : problems.failed) || "Signing in did not work.";
    },
    /** Whether a session is at hand (otherwise the page shows the sign-in form). */
    signedIn: () => Boolean(session),
    /** Show the fields (or the Slack button) of the way this bot signs in. */
    async prepareSignin(form) {
      const config = await this.config();
      const signin = config.signin;
      offerStores(form, config.stores);
      form.querySelector("#typed").hidden = !(signin === "token" || signin === "local");
      form.querySelector("#token").hidden = signin !== "token";
      const slack = form.querySelector("#slack");
      slack.hidden = signin !== "slack";
      slack.onclick = (e) => {
        e.preventDefault();
        toSlack(slack);
      };
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
