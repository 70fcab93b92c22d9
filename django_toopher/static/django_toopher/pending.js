/* django_toopher: poll the pending login's status endpoint.
 * Reads its settings from data attributes of #toopher-pending (no inline script,
 * so a strict Content-Security-Policy works). When the push goes out (start ->
 * pushed) the page says so, shows the number to pick on the phone (number matching)
 * and offers the one-time password, in place. On a final
 * status it stops, replaces the controls (#toopher-controls: time left, "Check now",
 * "Cancel", the one-time password) with the final message at once, then leaves.
 * The page works without this script: a <noscript> refresh and a "Check now" button. */
(function () {
  "use strict";
  var root = document.getElementById("toopher-pending");
  if (!root || !root.dataset.statusUrl || !window.fetch) { return; }
  var url = root.dataset.statusUrl;
  var interval = Math.max(1, parseInt(root.dataset.interval, 10) || 2) * 1000;
  var ttl = parseInt(root.dataset.ttl, 10) || 120;
  var deadline = Date.now() + (parseInt(root.dataset.remaining, 10) || 0) * 1000;
  var secondsFormat = root.dataset.secondsFormat || "%(seconds)s s";
  var statusEl = document.getElementById("toopher-status");
  var progress = document.getElementById("toopher-progress");
  var remainingEl = document.getElementById("toopher-remaining");
  var controls = document.getElementById("toopher-controls");
  var stopped = false;
  var timer = null;
  var ticker = null;

  /* A poll the server never answers must not stop the polling: give up on it after
     a while (the next one is scheduled as after any failed poll). */
  var POLL_WAIT_MS = 15000;
  function fetchJson(target) {
    var options = {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"};
    if (window.AbortController) {
      var controller = new AbortController();
      setTimeout(function () { controller.abort(); }, POLL_WAIT_MS);
      options.signal = controller.signal;
    }
    return fetch(target, options);
  }

  function say(text) {
    if (statusEl && text && statusEl.textContent !== text) { statusEl.textContent = text; }
  }

  /* Number matching: the number to pick on the phone, shown once the push is out. */
  function showCode(code) {
    var box = document.getElementById("toopher-verification");
    var number = document.getElementById("toopher-verification-code");
    if (!box || !number || !code || box.dataset.code === code) { return; }
    number.textContent = code;
    box.dataset.code = code;
    box.hidden = false;
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (progress) { progress.max = ttl; progress.value = left; }
    if (remainingEl) { remainingEl.textContent = secondsFormat.replace("%(seconds)s", left); }
  }

  function stop() {
    stopped = true;
    if (timer) { clearTimeout(timer); }
    if (ticker) { clearInterval(ticker); }
  }

  function go(href) {
    if (href) { window.location.assign(href); }
  }

  function handle(data) {
    if (typeof data.interval === "number" && data.interval > 0) {
      interval = data.interval * 1000;
    }
    if (typeof data.remaining === "number") {
      deadline = Date.now() + data.remaining * 1000;
    }
    say(data.message);
    if (typeof data.verification_code === "string") { showCode(data.verification_code); }
    if (data.otp_required) {
      var otp = document.getElementById("toopher-otp");
      if (otp) { otp.open = true; }
    }
    if (data.final) {
      stop();
      if (controls) { controls.hidden = true; }
      if (progress) { progress.hidden = true; }
      var verification = document.getElementById("toopher-verification");
      if (verification) { verification.hidden = true; }
      // Granted: go on at once. Otherwise let the message be read, then go back.
      setTimeout(function () { go(data.redirect); }, data.status === "granted" ? 0 : 2500);
      return;
    }
    if (data.redirect) { stop(); go(data.redirect); return; }
    if (data.status === "pushed" && root.dataset.status === "start") {
      // The push is out: say so (done above) and offer the one-time password here.
      root.dataset.status = "pushed";
      var otpBox = document.getElementById("toopher-otp");
      if (otpBox) { otpBox.hidden = false; }
    } else if (data.status !== root.dataset.status && root.dataset.status) {
      stop(); window.location.reload(); return;
    }
    schedule();
  }

  function poll() {
    if (stopped) { return; }
    fetchJson(url)
      .then(function (response) { return response.json(); })
      .then(handle)
      .catch(function () { schedule(); });
  }

  function schedule() {
    if (stopped) { return; }
    timer = setTimeout(poll, interval);
  }

  ticker = setInterval(tick, 1000);
  tick();
  schedule();
}());
