/* django_toopher: poll the state of the pairing in progress (enroll/pair.html).
 *
 * Reads data-status-url and data-poll-interval from #toopher-pairing, asks the JSON
 * endpoint (which knows the pairing from the session only), shows the state in the
 * aria-live status line, and follows "redirect" once the state is final. Polling
 * stops on a final state and backs off while Toopher or the network is failing.
 * Without JavaScript the page still works with its "Check now" button.
 */
(function () {
  "use strict";
  var box = document.getElementById("toopher-pairing");
  if (!box || !window.fetch) { return; }
  var statusLine = document.getElementById("toopher-pairing-status");
  var url = box.getAttribute("data-status-url");
  var interval = Math.max(1, parseInt(box.getAttribute("data-poll-interval"), 10) || 2) * 1000;
  var delay = interval;
  var maxDelay = 30000;
  var stopped = false;

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
  var texts = {
    pending: box.getAttribute("data-text-pending") || "Waiting for your phone…",
    unavailable: box.getAttribute("data-text-unavailable") || "Toopher cannot be reached right now; still trying…",
    paired: box.getAttribute("data-text-paired") || "Paired.",
    error: box.getAttribute("data-text-error") || "Cannot check the pairing right now; still trying…"
  };

  function show(text) {
    if (statusLine && text && statusLine.textContent !== text) { statusLine.textContent = text; }
  }

  function schedule() {
    if (!stopped) { window.setTimeout(poll, delay); }
  }

  function poll() {
    if (document.hidden) { schedule(); return; }
    fetchJson(url)
      .then(function (response) {
        if (!response.ok && response.status !== 404) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (data.final) {
          stopped = true;
          show(data.message || texts[data.status] || "");
          if (data.redirect) { window.location.assign(data.redirect); }
          return;
        }
        delay = data.status === "unavailable" ? Math.min(delay * 2, maxDelay) : Math.max(interval, (data.interval || data.poll_interval || 2) * 1000);
        show(data.message || texts[data.status] || texts.pending);
        schedule();
      })
      .catch(function () {
        delay = Math.min(delay * 2, maxDelay);
        show(texts.error);
        schedule();
      });
  }

  schedule();
})();
