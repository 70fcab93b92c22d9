// The authenticator app: screens (hash routes), polling, and the optional parts
// (QR scanning, Web Push, remembered browsers, devices) when the service offers them.

import { ApiError, DeviceApi, newDevice } from "./api.js";
import { deleteSeed, loadDevice, loadSeeds, saveDevice, saveSeed } from "./store.js";
import { totp } from "./totp.js";

const T = JSON.parse(document.getElementById("app-strings").textContent);
const BASE = new URL("./", document.baseURI).href;
const POLL_MS = 3000;
const main = document.getElementById("screen");
const notice = document.getElementById("notice");
const announcer = document.getElementById("announce");

const state = {
  api: null,
  features: { push: false, remembered: false, devices: false },
  refresh: null, // the current screen's refresh, called while the app is visible
  timer: null,
  screenId: 0,
};
// Test hooks: what a test (or the push contract) reads.
window.toopherApp = { pushes: [], ready: false, deviceId: null, publicJwk: null };

const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));

/** An element: h("p", {class: "x", onclick: f}, "text", child). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

function facts(rows) {
  return h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

// -- messages --------------------------------------------------------------------

function errorText(error) {
  if (error instanceof ApiError) {
    if (error.code === "offline") return T.offline;
    return T[`err_${error.code}`] || `${T.error}: ${error.message}`;
  }
  return `${T.error}: ${error?.message || error}`;
}

function showNotice(text, action) {
  notice.replaceChildren(h("p", {}, text), action || "");
  notice.hidden = false;
}

function clearNotice() {
  notice.hidden = true;
  notice.replaceChildren();
}

/** Show an error; `unknown_device` offers to enrol again. Answers true when handled. */
function showError(error) {
  if (error instanceof ApiError && error.code === "unknown_device") {
    showNotice(T.unknown_device, h("button", { type: "button", onclick: enrolAgain }, T.enrol_again));
  } else {
    showNotice(errorText(error));
  }
}

async function enrolAgain() {
  try {
    await state.api.enrol(state.api.device.label);
    clearNotice();
    route();
  } catch (error) {
    showError(error);
  }
}

function announce(text) {
  announcer.textContent = text;
}

// -- polling -----------------------------------------------------------------------

function schedule() {
  clearInterval(state.timer);
  state.timer = null;
  if (document.visibilityState === "visible") {
    state.timer = setInterval(() => state.refresh?.(), POLL_MS);
  }
}

document.addEventListener("visibilitychange", () => {
  schedule();
  if (document.visibilityState === "visible") state.refresh?.();
});

// -- requests ----------------------------------------------------------------------

/** The longest device name the service takes (its devices.MAX_LABEL). */
const MAX_LABEL = "100";
const RESULT = { allow: T.allowed, allow_always: T.allowed, deny: T.denied, not_me: T.reported };

function requestArticle(request) {
  const title = `request-${request.id}`;
  const result = h("p", { class: "result", role: "status" });
  const article = h("article", { class: "card request", "aria-labelledby": title, dataset: { requestId: request.id } },
    h("h2", { id: title }, request.site),
    facts([
      [T.account, request.user],
      [T.action, request.action],
      [T.browser, request.terminal],
      [T.age, fmt(T.seconds_ago, { n: request.age })],
    ]));
  if (request.state && request.state !== "pending") {
    article.append(h("p", { class: "result" }, T[`state_${request.state}`] || request.state));
    return article;
  }
  const buttons = [];
  const decide = async (decision, code = null) => {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await state.api.decide(request, decision, code);
      finish(RESULT[decision]);
      clearNotice();
    } catch (error) {
      if (error instanceof ApiError && ["not_pending", "wrong_code", "not_found"].includes(error.code)) {
        finish(errorText(error));
      } else if (error instanceof ApiError && error.code === "mismatch" && state.refresh) {
        // What was shown is out of date: fetch the request again and show it anew.
        showNotice(errorText(error));
        article.remove();
        state.refresh();
      } else {
        buttons.forEach((b) => { b.disabled = false; });
        result.textContent = errorText(error);
        if (error.code === "unknown_device") showError(error);
      }
    }
  };
  const finish = (text) => {
    article.dataset.answered = "true";
    actions.remove();
    result.textContent = text;
  };
  const button = (label, cls, onclick, extra = {}) => {
    const b = h("button", { type: "button", class: cls, onclick, ...extra }, label);
    buttons.push(b);
    return b;
  };
  const actions = h("div", { class: "actions" });
  if (Array.isArray(request.codes) && request.codes.length) {
    const pickId = `${title}-pick`;
    // With number matching, "always allow" is a choice made before the pick: the right
    // number is still what grants (protocol §6, allow_always with its code).
    const remember = state.features.remembered
      ? h("input", { type: "checkbox", id: `${title}-remember`, class: "remember" })
      : null;
    const pick = (code) => decide(remember?.checked ? "allow_always" : "allow", code);
    actions.append(
      h("p", { id: pickId }, T.pick_number),
      h("div", { class: "codes", role: "group", "aria-labelledby": pickId },
        request.codes.map((code) => button(code, "allow code", () => pick(code), { dataset: { code } }))),
    );
    if (remember) {
      buttons.push(remember);
      actions.append(h("label", { class: "remember-choice", for: remember.id }, remember, " ", T.allow_always));
    }
  } else {
    actions.append(button(T.allow, "allow", () => decide("allow")));
    if (state.features.remembered) {
      actions.append(button(T.allow_always, "allow-always", () => decide("allow_always")));
    }
  }
  actions.append(button(T.deny, "deny", () => decide("deny")), button(T.not_me, "not-me", () => decide("not_me")));
  article.append(actions, result);
  return article;
}

/**
 * A screen's list and its "nothing here" text: the list is busy, and the text not yet
 * said, until `loaded(count)` (after each load; without a count after a failed one).
 */
function loadingList(tag, emptyText) {
  const list = h(tag, { class: "list", "aria-busy": "true" });
  const empty = h("p", { class: "muted", hidden: true }, emptyText);
  const loaded = (count) => {
    if (count !== undefined) empty.hidden = count > 0;
    list.setAttribute("aria-busy", "false");
  };
  return { list, empty, loaded };
}

async function requestsScreen() {
  // A request in the first load's answer was there before the screen: it is listed,
  // not announced as new.
  const { list, empty, loaded } = loadingList("div", T.requests_empty);
  main.append(heading(T.requests_title), list, empty);
  // Whether the notice shown is this list's own failure to load, which a load that
  // works takes away; another notice of this screen (an answer that no longer
  // matched) stays until the next answer. Leaving the screen takes any away (route).
  let loadFailed = false;
  const refresh = async () => {
    let requests;
    try {
      ({ authentication_requests: requests } = await state.api.get("authentication_requests",
        { state: "pending", limit: "20" }));
    } catch (error) {
      showError(error);
      loadFailed = true;
      loaded();
      return;
    }
    if (loadFailed) clearNotice();
    loadFailed = false;
    const shown = new Map([...list.querySelectorAll("article")].map((a) => [a.dataset.requestId, a]));
    const ids = new Set(requests.map((r) => r.id));
    for (const [id, article] of shown) {
      if (!ids.has(id) && !article.dataset.answered) article.remove();
    }
    // Newest first: the service lists them so; new ones go above the older ones.
    for (const request of [...requests].reverse()) {
      let article = shown.get(request.id);
      if (!article) {
        article = requestArticle(request);
        list.prepend(article);
        if (state.refreshed) announce(fmt(T.new_request, { site: request.site }));
      } else {
        const age = article.querySelector("dd:nth-of-type(4)");
        if (age) age.textContent = fmt(T.seconds_ago, { n: request.age });
      }
    }
    state.refreshed = true;
    loaded(list.childElementCount);
  };
  state.refreshed = false;
  await refresh();
  return refresh;
}

async function requestScreen(id) {
  main.append(heading(T.request_title));
  const holder = h("div");
  main.append(holder, h("p", {}, h("a", { href: "#/" }, T.back_to_requests)));
  try {
    const request = await state.api.get(`authentication_requests/${encodeURIComponent(id)}`);
    holder.append(requestArticle(request));
  } catch (error) {
    showError(error);
  }
}

// -- pairing ------------------------------------------------------------------------

async function saveSeedOf(pairingId) {
  const seed = await state.api.get(`pairings/${encodeURIComponent(pairingId)}/otp_seed`);
  await saveSeed(seed);
}

function pairingArticle(pairing) {
  const title = `pairing-${pairing.id}`;
  const result = h("p", { class: "result", role: "status" });
  const article = h("article", { class: "card", "aria-labelledby": title, dataset: { pairingId: pairing.id } },
    h("h2", { id: title }, pairing.site),
    h("p", {}, fmt(T.pairing_question, { user: pairing.user, site: pairing.site })));
  const answer = async (decision) => {
    actions.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await state.api.answerPairing(pairing, decision);
      article.dataset.answered = "true";
      actions.remove();
      result.textContent = decision === "allow" ? T.paired : T.pairing_refused;
      if (decision === "allow") await saveSeedOf(pairing.id).catch(() => {});
    } catch (error) {
      actions.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      result.textContent = errorText(error);
    }
  };
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", class: "allow", onclick: () => answer("allow") }, T.allow),
    h("button", { type: "button", class: "deny", onclick: () => answer("deny") }, T.deny));
  article.append(actions, result);
  return article;
}

async function loadQrModule() {
  try {
    const module = await import("./qr.js");
    return typeof module.scanQrCode === "function" ? module : null;
  } catch {
    return null;
  }
}

function qrScanner(qr, list) {
  const video = h("video", { playsinline: true, muted: true, hidden: true, "aria-label": T.scan_hint });
  const hint = h("p", { class: "muted", hidden: true }, T.scan_hint);
  let controller = null;
  let stream = null;
  const stop = () => {
    controller?.abort();
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    hint.hidden = true;
    button.textContent = T.scan_qr;
  };
  const scan = async () => {
    if (stream) return stop();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      showNotice(T.err_camera);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    hint.hidden = false;
    button.textContent = T.scan_stop;
    await video.play().catch(() => {});
    controller = new AbortController();
    try {
      const text = await qr.scanQrCode(video, { signal: controller.signal });
      const pairingId = qr.pairingIdFromQrText(text);
      if (!pairingId) throw new Error(T.err_qr);
      const pairing = await state.api.post(`pairings/${encodeURIComponent(pairingId)}/claim`);
      list.prepend(pairingArticle(pairing));
      clearNotice();
    } catch (error) {
      if (error?.name !== "AbortError") showError(error);
    } finally {
      stop();
    }
  };
  const button = h("button", { type: "button", onclick: scan }, T.scan_qr);
  return h("div", { class: "scan" }, button, hint, video);
}

async function pairScreen() {
  const phrase = h("p", { id: "pairing-phrase", class: "phrase", "aria-live": "polite" });
  const phraseLabel = h("p", { class: "muted", hidden: true }, T.pair_phrase_label);
  const { list, empty, loaded } = loadingList("div", T.pairings_empty);
  const getPhrase = async () => {
    try {
      const answer = await state.api.post("pairing_phrases");
      phrase.textContent = answer.pairing_phrase;
      phraseLabel.hidden = false;
      clearNotice();
    } catch (error) {
      showError(error);
    }
  };
  main.append(heading(T.pair_title), h("p", {}, T.pair_intro),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: getPhrase }, T.pair_phrase_button)),
    phraseLabel, phrase);
  const holder = h("div");
  main.append(holder, h("h2", {}, T.pending_pairings), list, empty);
  const screenId = state.screenId;
  loadQrModule().then((qr) => {
    if (qr && screenId === state.screenId) holder.append(qrScanner(qr, list));
  });
  const refresh = async () => {
    let pairings;
    try {
      ({ pairings } = await state.api.get("pairings", { state: "pending", limit: "20" }));
    } catch (error) {
      showError(error);
      loaded();
      return;
    }
    const shown = new Map([...list.querySelectorAll("article")].map((a) => [a.dataset.pairingId, a]));
    const ids = new Set(pairings.map((p) => p.id));
    for (const [id, article] of shown) {
      if (!ids.has(id) && !article.dataset.answered) article.remove();
    }
    for (const pairing of [...pairings].reverse()) {
      if (!shown.has(pairing.id)) list.prepend(pairingArticle(pairing));
    }
    loaded(list.childElementCount);
  };
  await refresh();
  return refresh;
}

// -- offline codes -------------------------------------------------------------------

async function syncSeeds() {
  const { pairings } = await state.api.get("pairings", { state: "enabled", limit: "100" });
  const kept = new Map((await loadSeeds()).map((s) => [s.pairing_id, s]));
  const enabled = new Set(pairings.map((p) => p.id));
  for (const pairing of pairings) {
    if (!kept.has(pairing.id)) await saveSeedOf(pairing.id);
  }
  for (const id of kept.keys()) {
    if (!enabled.has(id)) await deleteSeed(id);
  }
}

async function codesScreen() {
  const list = h("ul", { class: "codes-list" });
  const empty = h("p", { class: "muted", hidden: true }, T.codes_empty);
  main.append(heading(T.codes_title), h("p", {}, T.codes_intro), list, empty);
  try {
    await syncSeeds();
  } catch (error) {
    if (error instanceof ApiError && error.code === "offline") showNotice(T.codes_offline);
    else showError(error);
  }
  const seeds = (await loadSeeds()).sort((a, b) => `${a.site} ${a.user}`.localeCompare(`${b.site} ${b.user}`));
  empty.hidden = seeds.length > 0;
  const rows = seeds.map((seed) => {
    const code = h("output", { class: "otp", dataset: { otpFor: seed.pairing_id } });
    const left = h("span", { class: "muted small" });
    list.append(h("li", { class: "card" }, h("h2", {}, seed.site), h("p", { class: "muted" }, seed.user), code, " ", left));
    return { seed, code, left };
  });
  const tick = async () => {
    const now = Date.now() / 1000;
    for (const row of rows) {
      const { code, secondsLeft } = await totp(row.seed, now);
      if (row.code.textContent !== code) row.code.textContent = code;
      row.left.textContent = fmt(T.seconds_left, { n: secondsLeft });
    }
  };
  await tick();
  const timer = setInterval(tick, 1000);
  const screenId = state.screenId;
  const stopWhenLeft = () => {
    if (screenId !== state.screenId) {
      clearInterval(timer);
      window.removeEventListener("hashchange", stopWhenLeft);
    }
  };
  window.addEventListener("hashchange", stopWhenLeft);
}

// -- remembered browsers, devices (shown when the service offers them) ----------------

async function listScreen(title, path, key, emptyText, describe, removeLabel) {
  const { list, empty, loaded } = loadingList("ul", emptyText);
  main.append(heading(title), list, empty);
  const refresh = async () => {
    let items;
    try {
      items = (await state.api.get(path))[key];
    } catch (error) {
      showError(error);
      loaded();
      return;
    }
    list.replaceChildren(...items.map((item) => {
      const id = item.id ?? item.device_id;
      const own = id === state.api.device.deviceId;
      const remove = own ? null : h("button", {
        type: "button",
        onclick: async () => {
          try {
            await state.api.delete(`${path}/${encodeURIComponent(id)}`);
            await refresh();
          } catch (error) {
            showError(error);
          }
        },
      }, removeLabel);
      return h("li", { class: "card", dataset: { itemId: id } }, describe(item, own), remove);
    }));
    loaded(items.length);
  };
  await refresh();
}

const date = (unix) => new Date(unix * 1000).toLocaleString(document.documentElement.lang);

function rememberedScreen() {
  return listScreen(T.remembered_title, "remembered_browsers", "remembered_browsers", T.remembered_empty,
    (item) => h("div", {}, h("h2", {}, item.site),
      facts([[T.account, item.user], [T.browser, item.terminal], [T.action, item.action], [T.expires, date(item.expires)]])),
    T.forget);
}

/** A device in the list, with "Rename", which opens a form in its place. */
function deviceItem(item, own) {
  const rename = h("button", { type: "button" }, T.rename);
  const open = () => {
    const input = h("input", { id: `label-${item.device_id}`, maxlength: MAX_LABEL, required: true, value: item.label });
    const form = h("form", { class: "rename" }, h("label", { for: input.id }, T.label), input,
      h("div", { class: "actions" }, h("button", { type: "submit" }, T.save),
        h("button", { type: "button", onclick: () => { form.replaceWith(rename); rename.focus(); } }, T.cancel)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await state.api.patch(`devices/${encodeURIComponent(item.device_id)}`, { label: input.value });
        route();
      } catch (error) {
        showError(error);
      }
    });
    rename.replaceWith(form);
    input.focus();
  };
  rename.addEventListener("click", open);
  return h("div", {}, h("h2", {}, item.label || item.device_id, own ? ` (${T.this_device})` : ""),
    h("p", { class: "muted small" }, item.device_id), rename);
}

async function devicesScreen() {
  await listScreen(T.devices_title, "devices", "devices", T.devices_empty, deviceItem, T.remove);
  const code = h("p", { class: "phrase", "aria-live": "polite" });
  const invite = async () => {
    try {
      const answer = await state.api.post("devices/me/invitations");
      code.replaceChildren(h("span", { class: "small" }, fmt(T.add_device_code, { n: Math.round(answer.expires_in / 60) })),
        h("br"), answer.code);
    } catch (error) {
      showError(error);
    }
  };
  main.append(h("div", { class: "actions" }, h("button", { type: "button", onclick: invite }, T.add_device)), code);
}

// -- settings -------------------------------------------------------------------------

const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function notificationsSection() {
  const status = h("p", { role: "status" });
  const button = h("button", { type: "button" });
  const section = h("section", { class: "card", "aria-labelledby": "notifications-title" },
    h("h2", { id: "notifications-title" }, T.notifications), status, button);
  let info;
  const show = () => {
    status.textContent = info.subscribed ? T.notifications_enabled : T.notifications_disabled;
    button.textContent = info.subscribed ? T.notifications_off : T.notifications_on;
  };
  try {
    info = await state.api.get("push");
  } catch (error) {
    showError(error);
    return null;
  }
  show();
  button.addEventListener("click", async () => {
    try {
      if (info.subscribed) {
        const registration = await navigator.serviceWorker.ready;
        const subscription = await registration.pushManager.getSubscription();
        await subscription?.unsubscribe();
        info = await state.api.delete("push");
      } else {
        // First, while the tap still counts as the user's gesture (Safari requires it).
        if ((await Notification.requestPermission()) !== "granted") {
          status.textContent = T.notifications_denied;
          return;
        }
        const registration = await navigator.serviceWorker.ready;
        const subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: fromB64url(info.vapid_public_key),
        });
        const { endpoint, keys } = subscription.toJSON();
        info = await state.api.put("push", { endpoint, keys });
      }
      show();
    } catch (error) {
      showError(error);
    }
  });
  return section;
}

function joinSection() {
  const input = h("input", { id: "join-code", name: "code", autocomplete: "off", required: true, maxlength: "16" });
  const status = h("p", { role: "status" });
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        await state.api.post("devices/join", { code: input.value.trim() });
        status.textContent = T.joined;
        input.value = "";
      } catch (error) {
        status.textContent = errorText(error);
      }
    },
  }, h("label", { for: "join-code" }, T.join_label), input, h("button", { type: "submit" }, T.join_button), status);
  return h("section", { class: "card", "aria-labelledby": "join-title" }, h("h2", { id: "join-title" }, T.join_title), form);
}

async function settingsScreen() {
  const device = state.api.device;
  main.append(heading(T.settings_title),
    h("section", { class: "card" }, facts([[T.label, device.label], [T.device_id, h("code", { id: "device-id" }, device.deviceId)]])));
  if (state.features.push && "serviceWorker" in navigator && "PushManager" in window) {
    const section = await notificationsSection();
    if (section) main.append(section);
  }
  if (state.features.devices) main.append(joinSection());
}

// -- setup ----------------------------------------------------------------------------

function setupScreen(stored) {
  const input = h("input", { id: "device-label", name: "label", maxlength: MAX_LABEL, required: true, value: stored?.label || T.default_label });
  const submit = h("button", { type: "submit", class: "primary" }, T.setup_button);
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      submit.textContent = T.setup_busy;
      try {
        const label = input.value.trim() || T.default_label;
        let device = stored;
        if (!device) {
          device = await newDevice(label);
          await saveDevice(device);
        }
        state.api = new DeviceApi(BASE, device);
        await state.api.enrol(label);
        // Ask the browser not to evict the key under storage pressure (best effort).
        await navigator.storage?.persist?.().catch(() => false);
        clearNotice();
        begin();
      } catch (error) {
        showError(error);
        submit.disabled = false;
        submit.textContent = T.setup_button;
      }
    },
  }, h("label", { for: "device-label" }, T.label), input, submit);
  main.replaceChildren(heading(T.setup_title), h("p", {}, T.setup_intro), form);
  main.querySelector("h1").focus();
  window.toopherApp.ready = true;
}

// -- the router ----------------------------------------------------------------------

const SCREENS = {
  "": requestsScreen,
  requests: (id) => (id ? requestScreen(id) : requestsScreen()),
  pair: pairScreen,
  codes: codesScreen,
  remembered: () => (state.features.remembered ? rememberedScreen() : requestsScreen()),
  devices: () => (state.features.devices ? devicesScreen() : requestsScreen()),
  settings: settingsScreen,
};

async function route() {
  const [, name = "", arg = ""] = (location.hash || "#/").match(/^#\/([a-z]*)\/?([^/]*)/) || [];
  const screen = SCREENS[name] || requestsScreen;
  const screenId = ++state.screenId;
  state.refresh = null;
  clearNotice(); // a notice belongs to the screen that showed it
  main.replaceChildren();
  for (const link of document.querySelectorAll("#nav a")) {
    const current = link.getAttribute("href") === `#/${name}`;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  let refresh = null;
  try {
    refresh = await screen(decodeURIComponent(arg));
  } catch (error) {
    showError(error);
  }
  if (screenId !== state.screenId) return;
  state.refresh = refresh || null;
  schedule();
  main.querySelector("h1")?.focus();
  window.toopherApp.ready = true;
}

async function detectFeatures() {
  const probe = async (path) => {
    try {
      await state.api.get(path);
      return true;
    } catch {
      return false;
    }
  };
  const [push, remembered, devices] = await Promise.all(
    [probe("push"), probe("remembered_browsers"), probe("devices")]);
  Object.assign(state.features, { push, remembered, devices });
  for (const link of document.querySelectorAll("#nav [data-feature]")) {
    link.hidden = !state.features[link.dataset.feature];
  }
}

// Protocol §9.12: each time the app opens it hands the service its current subscription,
// so one the browser renewed, or one the service dropped after a 404/410, is put back.
async function renewSubscription() {
  if (!state.features.push || !("PushManager" in window)) return;
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return;
    const { endpoint, keys } = subscription.toJSON();
    await state.api.put("push", { endpoint, keys });
  } catch (error) {
    console.warn("the push subscription was not renewed", error);
  }
}

async function begin() {
  window.toopherApp.deviceId = state.api.device.deviceId;
  window.toopherApp.publicJwk = state.api.device.jwk;
  document.getElementById("nav").hidden = false;
  await detectFeatures();
  renewSubscription();
  window.addEventListener("hashchange", route);
  await route();
}

function listenForPushes() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type !== "toopher-push") return;
    window.toopherApp.pushes.push(event.data.request_id);
    state.refresh?.();
  });
  navigator.serviceWorker.register("sw.js").catch((error) => console.warn("no service worker", error));
}

async function start() {
  if (!window.crypto?.subtle || !window.indexedDB) {
    main.replaceChildren(heading(T.setup_title), h("p", {}, T.no_crypto));
    return;
  }
  listenForPushes();
  const device = await loadDevice();
  if (!device || !device.enrolled) {
    setupScreen(device);
    return;
  }
  state.api = new DeviceApi(BASE, device);
  await begin();
}

window.toopherApp.refresh = () => state.refresh?.();
start();
