// How the chat signs in, remembers its conversation and calls the bot's API: everything that
// depends on the way the page signs in is here, so that can change without touching chat.js.
// Today: the shared web token, typed once and kept in localStorage, sent as a bearer token.
"use strict";
window.ShopMaxApi = (function () {
  const TOKEN = "shopmax-token";
  const CONVERSATION = "shopmax-conversation";
  let token = localStorage.getItem(TOKEN) || "";
  const auth = () => ({ Authorization: "Bearer " + token });

  return {
    /** Whether a credential is at hand (otherwise the page shows the sign-in form). */
    signedIn: () => Boolean(token),
    /** Get the sign-in form ready before it is shown (a shared token needs nothing). */
    prepareSignin(form) {},
    /** Sign in with the form's fields; resolves to "" when signed in, else what is wrong. */
    async signIn(form) {
      token = form.querySelector("#token").value.trim();
      localStorage.setItem(TOKEN, token);
      return token ? "" : "Type the ShopMax web token.";
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
