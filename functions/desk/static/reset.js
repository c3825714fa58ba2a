/* The customer's password reset: POST /api/v1/auth/reset-password-1 {email}, then
   POST /api/v1/auth/reset-password-2 {email, code, password}. The API applies every limit (codes per account per
   day, tries per code, checks per client) and answers in words; this page shows those words. */
"use strict";

(() => {
  const {h, call, notice} = Pages;
  const $ = (id) => document.getElementById(id);
  const messages = $("messages");
  let email = "";

  function say(kind, text) {
    messages.replaceChildren(notice(kind, text));
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  $("step-email").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("email").value.trim();
    if (!value || !value.includes("@")) {
      say("error", "Enter the email address of your account.");
      $("email").focus();
      return;
    }
    busy($("send-code"), true);
    const r = await call("POST", "/api/v1/auth/reset-password-1", {email: value});
    busy($("send-code"), false);
    if (!r.ok) {
      say("error", r.data.error);
      return;
    }
    email = value;
    $("code-intro").replaceChildren("If ", h("strong", {text: email}),
      " has an account, a code is on its way there. It is valid for 15 minutes and works once.");
    $("step-email").hidden = true;
    $("step-code").hidden = false;
    messages.replaceChildren();
    $("code").focus();
  });

  $("other-email").addEventListener("click", () => {
    $("step-code").hidden = true;
    $("step-email").hidden = false;
    messages.replaceChildren();
    $("email").focus();
  });

  $("step-code").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("code").value.trim();
    const password = $("password").value;
    if (!/^[0-9]{6}$/.test(code)) {
      say("error", "The code is the six digits from the email.");
      $("code").focus();
      return;
    }
    if (password !== $("password2").value) {
      say("error", "The two passwords are not the same.");
      $("password2").focus();
      return;
    }
    busy($("set-password"), true);
    // the storefront posts codes as numbers; the API accepts either, a string keeps what was typed
    const r = await call("POST", "/api/v1/auth/reset-password-2", {email, code, password});
    busy($("set-password"), false);
    if (!r.ok) {
      say("error", r.data.error);
      return;
    }
    $("step-code").hidden = true;
    $("done").hidden = false;
    say("ok", "Password changed.");
    $("to-login").focus();
  });
})();
