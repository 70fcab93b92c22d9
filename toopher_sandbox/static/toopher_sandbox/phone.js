/* Phone simulator: poll the state endpoint; refresh the live part when it changes,
   tick the OTP countdown. Without JavaScript the page works with reloads. */
(function () {
  "use strict";
  var root = document.getElementById("phone");
  if (!root || !window.fetch) { return; }
  var stateUrl = root.getAttribute("data-state-url");
  var signature = root.getAttribute("data-signature");
  var busy = false;
  var WAIT_MS = 10000;  /* a request the sandbox never answers must not stop the polling */

  function get(url, headers) {
    var options = { credentials: "same-origin", headers: headers || {} };
    if (window.AbortController) {
      var controller = new AbortController();
      window.setTimeout(function () { controller.abort(); }, WAIT_MS);
      options.signal = controller.signal;
    }
    return fetch(url, options);
  }

  function typing() {
    var el = document.activeElement;
    /* a half-typed text field (a checkbox's value is always "on": not typing) */
    var text = el && el.tagName === "INPUT" && /^(text|search|url|number|)$/.test(el.type);
    return text && el.value;
  }

  function refreshLive() {
    return get(window.location.pathname)
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live");
        var freshRoot = doc.getElementById("phone");
        if (fresh && freshRoot) {
          document.getElementById("live").replaceWith(fresh);
          signature = freshRoot.getAttribute("data-signature");
        }
      });
  }

  function poll() {
    if (busy) { return; }
    busy = true;
    get(stateUrl, { "Accept": "application/json" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (state) {
        document.querySelectorAll(".otp-code").forEach(function (el) {
          var code = state.otps[el.getAttribute("data-pairing")];
          if (code) { el.textContent = code; }
        });
        document.querySelectorAll(".otp-left").forEach(function (el) {
          el.textContent = state.seconds_left;
        });
        document.title = (state.pending ? "(" + state.pending + ") " : "") +
          document.title.replace(/^\(\d+\) /, "");
        if (state.signature !== signature && !typing()) { return refreshLive(); }
      })
      .catch(function () { /* the sandbox may be restarting; try again later */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, 1500);
})();
