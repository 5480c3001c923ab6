"use strict";
// The tip page: sign in from a one-time link (#login=...), then show the one current tip.
const tipEl = document.getElementById("tip");

function show(text, state) {
  tipEl.textContent = text;
  tipEl.dataset.state = state;
}

function nothingNow(nextAt) {
  if (!nextAt) return "Nothing now.";
  const at = new Date(nextAt).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  return `Nothing now. Next tip around ${at}.`;
}

async function loginFromFragment() {
  const match = location.hash.match(/^#login=([A-Za-z0-9_-]+)$/);
  if (!match) return true;
  // The token lives in the fragment so that it never reaches a server log; drop it at once.
  history.replaceState(null, "", location.pathname);
  const res = await fetch("/api/auth/dev-login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: match[1] }),
    credentials: "same-origin",
  });
  if (res.ok) return true;
  show("This login link is used or expired.", "quiet");
  return false;
}

async function loadTip(attempt = 0) {
  let res;
  try {
    res = await fetch("/api/tip", { credentials: "same-origin" });
  } catch {
    show("Offline. Your tip will be back when you are.", "quiet");
    return;
  }
  if (res.status === 401) return show("Sign in to see your tip.", "quiet");
  if (res.status === 503 && attempt < 5) {
    const wait = Number(res.headers.get("Retry-After") || "2");
    setTimeout(() => loadTip(attempt + 1), wait * 1000);
    return;
  }
  if (!res.ok) return show("Nothing now. Try again in a moment.", "quiet");
  const outcome = await res.json();
  if (outcome.tip) return show(outcome.tip.text, "tip");
  show(nothingNow(outcome.next_tip_at), "quiet");
}

loginFromFragment().then((ok) => ok && loadTip());
