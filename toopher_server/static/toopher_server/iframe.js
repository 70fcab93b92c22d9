/* Inside the Toopher iframe: tell the host page we are ready, and hand it the signed
   result when the flow is complete (spec §5.3: a JSON string {status, payload}). */
(function () {
  "use strict";
  if (!window.parent || window.parent === window) { return; }
  window.parent.postMessage(JSON.stringify({ status: "ready" }), "*");
  var data = document.getElementById("toopher-payload");
  if (data) {
    var payload = JSON.parse(data.textContent);
    window.parent.postMessage(
      JSON.stringify({ status: "toopher-api-complete", payload: payload }), "*");
  }
})();
