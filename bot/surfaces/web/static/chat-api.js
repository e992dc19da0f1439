// How the chat signs in, remembers its conversation and calls the bot's API: everything that
// depends on the way the page signs in is here, so that can change without touching chat.js.
// A person signs in with their name (and the chat's shared token, where the bot asks for one)
// and gets a signed session naming them; the page keeps the session, never the shared token.
"use strict";
window.ShopMaxApi = (function () {
  const SESSION = "shopmax.chat.session";
  const CONVERSATION = "shopmax.chat.conversation";
  let session = localStorage.getItem(SESSION) || "";
  const auth = () => ({ Authorization: "Bearer " + session });

  return {
    /** Whether a session is at hand (otherwise the page shows the sign-in form). */
    signedIn: () => Boolean(session),
    /** Show the token field only where the bot asks for one (not on a loopback demo). */
    async prepareSignin(form) {
      const r = await fetch("/api/chat/config");
      if (r.ok) form.querySelector("#token").hidden = !(await r.json()).needs_token;
    },
    /** Sign in with the form's fields; resolves to "" when signed in, else what is wrong. */
    async signIn(form) {
      const r = await fetch("/api/chat/session", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          name: form.querySelector("#name").value.trim(),
          token: form.querySelector("#token").value.trim(),
        }),
      });
      const body = await r.json();
      if (!r.ok) return body.error;
      session = body.session;
      localStorage.setItem(SESSION, session);
      localStorage.removeItem(CONVERSATION);
      return "";
    },
    /** The conversation this browser is in ("" before the first answer). */
    conversation: () => localStorage.getItem(CONVERSATION) || "",
    remember(conversation) {
      localStorage.setItem(CONVERSATION, conversation);
    },
    /** GET the conversation's earlier turns; resolves to the fetch Response. */
    history: (conversation) =>
      fetch("/api/conversations/" + encodeURIComponent(conversation), { headers: auth() }),
    /** POST a question; resolves to the fetch Response whose body is the event stream. */
    ask: (body, signal) =>
      fetch("/api/chat", {
        method: "POST",
        signal,
        headers: { "Content-Type": "application/json", ...auth() },
        body: JSON.stringify(body),
      }),
  };
})();
